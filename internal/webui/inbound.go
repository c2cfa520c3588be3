package webui

import (
	"maps"
	"net/http"
	"slices"

	"github.com/patchbay/patchbay"
)

func init() {
	registerView(view{
		nav: navItem{Label: "Inbound", Path: "/inbound", Order: 50, Needs: needs(patchbay.CapConnectionsRead)},
		routes: func(h *Handler) {
			h.mux.HandleFunc("GET /inbound", h.authed(needs(patchbay.CapConnectionsRead), h.inboundLog))
			// /inbound/{token} is where vendors post webhooks, so a
			// webhook's page lives one level down.
			h.mux.HandleFunc("GET /inbound/log/{id}", h.authed(needs(patchbay.CapConnectionsRead), h.inboundPage))
			h.mux.HandleFunc("POST /inbound/log/{id}/replay", h.authed(needs(patchbay.CapDeliveriesRetry), h.replayInbound))
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

type inboundHookData struct {
	W          *patchbay.InboundWebhook
	Connection string
	Headers    []headerLine
	Payload    string
	CanReplay  bool
}

type headerLine struct{ Name, Value string }

func (h *Handler) inboundPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	hook, err := h.store.FindInbound(r.Context(), rc.org, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, rc, err)
		return
	}
	d := inboundHookData{W: hook, Connection: hook.ConnectionID, Payload: string(hook.Payload),
		CanReplay: h.cfg.Inbound != nil && hook.Verified}
	if c, err := h.cfg.Connections.Get(r.Context(), hook.ConnectionID); err == nil {
		d.Connection = c.DisplayName
	}
	// The headers were redacted of secrets when the webhook was stored.
	names := slices.Sorted(maps.Keys(hook.Headers))
	for _, n := range names {
		for _, v := range hook.Headers[n] {
			d.Headers = append(d.Headers, headerLine{Name: n, Value: v})
		}
	}
	h.render(w, r, rc, http.StatusOK, "inboundhook", "Inbound webhook "+hook.ID, d)
}

// replayInbound forwards a verified webhook again, as
// POST /v1/inbound/{id}/replay does.
func (h *Handler) replayInbound(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	if h.cfg.Inbound == nil {
		h.renderError(w, r, rc, http.StatusServiceUnavailable, "Unavailable", "Inbound webhooks are not handled on this server.")
		return
	}
	if _, err := h.cfg.Inbound.Replay(r.Context(), r.PathValue("id")); err != nil {
		h.fail(w, r, rc, err)
		return
	}
	done(w, r, "/inbound/log/"+r.PathValue("id"), "replayed")
}
