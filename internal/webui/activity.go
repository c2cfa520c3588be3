package webui

import (
	"net/http"
	"strings"

	"github.com/patchbay/patchbay"
)

func init() {
	registerView(view{
		nav: navItem{Label: "Activity", Path: "/activity", Order: 80, Needs: needs(patchbay.CapActivityRead)},
		routes: func(h *Handler) {
			h.mux.HandleFunc("GET /activity", h.authed(needs(patchbay.CapActivityRead), h.activity))
		},
	})
}

type activityData struct {
	Items                []*patchbay.Activity
	Action, Cursor, Next string
}

func (h *Handler) activity(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	q := r.URL.Query()
	d := activityData{Action: strings.TrimSpace(q.Get("action")), Cursor: q.Get("cursor")}
	var err error
	d.Items, d.Next, err = h.store.ListActivity(r.Context(), rc.org, patchbay.ActivityFilter{Action: d.Action,
		Page: patchbay.Page{Cursor: d.Cursor, Limit: 50}})
	if err != nil {
		h.fail(w, r, rc, err)
		return
	}
	h.render(w, r, rc, http.StatusOK, "activity", "Activity log", d)
}
