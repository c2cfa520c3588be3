package webui

import (
	"net/http"

	"github.com/patchbay/patchbay"
)

func init() {
	registerView(view{
		nav: navItem{Label: "Inbound", Path: "/inbound", Order: 50, Needs: needs(patchbay.CapConnectionsRead)},
		routes: func(h *Handler) {
			h.mux.HandleFunc("GET /inbound", h.authed(needs(patchbay.CapConnectionsRead), h.inboundLog))
		},
	})
}

type inboundData struct {
	Items        []*patchbay.InboundWebhook
	Cursor, Next string
	Status       string
	Statuses     []string
}

func (h *Handler) inboundLog(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	q := r.URL.Query()
	d := inboundData{Cursor: q.Get("cursor"), Status: q.Get("status"), Statuses: []string{"pending", "processing", "processed", "failed", "rejected"}}
	var err error
	d.Items, d.Next, err = h.store.ListInbound(r.Context(), rc.org, patchbay.InboundFilter{Status: patchbay.InboundStatus(d.Status),
		ConnectionID: q.Get("connection_id"), Page: patchbay.Page{Cursor: d.Cursor, Limit: 25}})
	if err != nil {
		h.fail(w, r, rc, err)
		return
	}
	h.render(w, r, rc, http.StatusOK, "inbound", "Inbound webhooks", d)
}
