package webui

import (
	"net/http"
	"strings"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/internal/delivery"
)

func init() {
	registerView(view{
		nav: navItem{Label: "Endpoints", Path: "/endpoints", Order: 40, Needs: needs(patchbay.CapEndpointsManage)},
		routes: func(h *Handler) {
			m := needs(patchbay.CapEndpointsManage)
			h.mux.HandleFunc("GET /endpoints", h.authed(m, h.endpoints))
			h.mux.HandleFunc("POST /endpoints", h.authed(m, h.createEndpoint))
			h.mux.HandleFunc("GET /endpoints/{id}", h.authed(m, h.endpointPage))
			h.mux.HandleFunc("POST /endpoints/{id}/rotate", h.authed(m, h.rotateEndpoint))
			h.mux.HandleFunc("POST /endpoints/{id}/test", h.authed(m, h.testEndpoint))
			h.mux.HandleFunc("POST /endpoints/{id}/enable", h.authed(m, h.enableEndpoint))
		},
	})
}

type endpointsData struct {
	Endpoints []*patchbay.Endpoint
	Next      string
	Error     string
	URL, Desc string
	Types     string
}

func (h *Handler) endpoints(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	h.showEndpoints(w, r, rc, http.StatusOK, endpointsData{})
}

func (h *Handler) showEndpoints(w http.ResponseWriter, r *http.Request, rc *reqCtx, status int, d endpointsData) {
	var err error
	d.Endpoints, d.Next, err = h.store.ListEndpoints(r.Context(), rc.org, patchbay.Page{Cursor: r.URL.Query().Get("cursor"), Limit: 50})
	if err != nil {
		h.fail(w, r, rc, err)
		return
	}
	h.render(w, r, rc, status, "endpoints", "Endpoints", d)
}

// eventTypes splits a comma- or space-separated list.
func eventTypes(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
}

type endpointSecretData struct {
	E      *patchbay.Endpoint
	Secret string
	Action string
}

func (h *Handler) createEndpoint(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	in := endpointsData{URL: strings.TrimSpace(r.PostFormValue("url")), Desc: strings.TrimSpace(r.PostFormValue("description")),
		Types: r.PostFormValue("event_types")}
	types := eventTypes(in.Types)
	if len(types) == 0 {
		types = []string{"*"}
	}
	active := true
	e, secret, err := h.cfg.Deliveries.CreateEndpoint(r.Context(), delivery.EndpointInput{URL: &in.URL, Description: &in.Desc,
		EventTypes: types, Active: &active})
	if err != nil {
		if patchbay.ErrorCode(err) == patchbay.EINVALID {
			in.Error = patchbay.ErrorMessage(err)
			h.showEndpoints(w, r, rc, http.StatusBadRequest, in)
			return
		}
		h.fail(w, r, rc, err)
		return
	}
	h.renderSecret(w, r, rc, "endpointsecret", "Endpoint created", endpointSecretData{E: e, Secret: secret, Action: "created"})
}

type endpointData struct {
	E          *patchbay.Endpoint
	Deliveries []*patchbay.Delivery
	Charts     charts
}

func (h *Handler) endpointPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	ctx := r.Context()
	e, err := h.store.FindEndpoint(ctx, rc.org, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, rc, err)
		return
	}
	d := endpointData{E: e}
	if d.Deliveries, _, err = h.store.ListDeliveries(ctx, rc.org, patchbay.DeliveryFilter{EndpointID: e.ID, Page: patchbay.Page{Limit: 10}}); err != nil {
		h.fail(w, r, rc, err)
		return
	}
	if d.Charts, err = h.charts(r, rc, patchbay.DeliveryStatsFilter{EndpointID: e.ID}); err != nil {
		h.fail(w, r, rc, err)
		return
	}
	h.render(w, r, rc, http.StatusOK, "endpoint", e.URL, d)
}

func (h *Handler) rotateEndpoint(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	e, secret, err := h.cfg.Deliveries.RotateSecret(r.Context(), r.PathValue("id"), 0)
	if err != nil {
		h.fail(w, r, rc, err)
		return
	}
	h.renderSecret(w, r, rc, "endpointsecret", "Secret rotated", endpointSecretData{E: e, Secret: secret, Action: "rotated"})
}

func (h *Handler) testEndpoint(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	if _, err := h.cfg.Deliveries.SendTest(r.Context(), r.PathValue("id")); err != nil {
		h.fail(w, r, rc, err)
		return
	}
	done(w, r, "/endpoints/"+r.PathValue("id"), "test-sent")
}

func (h *Handler) enableEndpoint(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	if _, err := h.cfg.Deliveries.EnableEndpoint(r.Context(), r.PathValue("id")); err != nil {
		h.fail(w, r, rc, err)
		return
	}
	done(w, r, "/endpoints/"+r.PathValue("id"), "enabled")
}
