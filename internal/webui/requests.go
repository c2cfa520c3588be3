package webui

import (
	"net/http"
	"slices"
	"strings"

	"github.com/patchbay/patchbay"
)

func init() {
	registerView(view{
		nav: navItem{Label: "Requests", Path: "/requests", Order: 35, Needs: needs(patchbay.CapConnectionsRead)},
		routes: func(h *Handler) {
			read := needs(patchbay.CapConnectionsRead)
			h.mux.HandleFunc("GET /requests", h.authed(read, h.requestLog))
			h.mux.HandleFunc("GET /requests/{id}", h.authed(read, h.requestPage))
		},
	})
}

var (
	requestSources = []string{"proxy", "delivery", "test"}
	requestMethods = []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"}
	statusClasses  = []string{"2xx", "3xx", "4xx", "5xx"}
)

type requestsData struct {
	Connection, Source, Method, Status, Q, Since, Until, Cursor, Next string
	Sources, Methods, Classes                                         []string
	Conns                                                             []*patchbay.Connection
	Names                                                             map[string]string
	Requests                                                          []*patchbay.APIRequest
	Error                                                             string
}

// Filtered reports whether any filter is set.
func (d requestsData) Filtered() bool {
	return d.Connection != "" || d.Source != "" || d.Method != "" || d.Status != "" || d.Q != "" || d.Since != "" || d.Until != ""
}

func (h *Handler) requestLog(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	q := r.URL.Query()
	d := requestsData{Connection: q.Get("connection_id"), Source: q.Get("source"), Method: strings.ToUpper(q.Get("method")),
		Status: strings.TrimSpace(q.Get("status")), Q: strings.TrimSpace(q.Get("q")), Since: q.Get("since"), Until: q.Get("until"),
		Cursor: q.Get("cursor"), Sources: requestSources, Methods: requestMethods, Classes: statusClasses}
	if !slices.Contains(requestSources, d.Source) {
		d.Source = ""
	}
	if !slices.Contains(requestMethods, d.Method) {
		d.Method = ""
	}
	var err error
	if d.Conns, d.Names, err = h.connectionNames(r); err != nil {
		h.fail(w, r, rc, err)
		return
	}
	f := patchbay.RequestFilter{ConnectionID: d.Connection, Source: patchbay.RequestSource(d.Source), Method: d.Method, Query: d.Q,
		Page: patchbay.Page{Cursor: d.Cursor, Limit: 25}}
	err = f.SetStatus(d.Status)
	if err == nil {
		f.Since, f.Until, err = dateRange(d.Since, d.Until)
	}
	if err == nil {
		d.Requests, d.Next, err = h.store.ListRequests(r.Context(), rc.org, f)
	}
	if err != nil {
		if patchbay.ErrorCode(err) == patchbay.EINVALID {
			d.Error = patchbay.ErrorMessage(err)
			h.render(w, r, rc, http.StatusBadRequest, "requests", "Vendor requests", d)
			return
		}
		h.fail(w, r, rc, err)
		return
	}
	h.render(w, r, rc, http.StatusOK, "requests", "Vendor requests", d)
}

type requestData struct {
	R          *patchbay.APIRequest
	Connection string
}

func (h *Handler) requestPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	req, err := h.store.FindRequest(r.Context(), rc.org, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, rc, err)
		return
	}
	d := requestData{R: req, Connection: req.ConnectionID}
	if c, err := h.cfg.Connections.Get(r.Context(), req.ConnectionID); err == nil {
		d.Connection = c.DisplayName
	}
	h.render(w, r, rc, http.StatusOK, "request", req.Method+" "+req.Path, d)
}
