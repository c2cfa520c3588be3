package webui

import (
	"net/http"

	"github.com/patchbay/patchbay"
)

func init() {
	registerView(view{
		nav: navItem{Label: "Users", Path: "/users", Order: 70, Needs: needs(patchbay.CapUsersManage)},
		routes: func(h *Handler) {
			h.mux.HandleFunc("GET /users", h.authed(needs(patchbay.CapUsersManage), h.users))
		},
	})
}

type usersData struct {
	Users []*patchbay.User
	Roles []*patchbay.Role
	Names map[string]string
	Next  string
}

func (h *Handler) users(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	d := usersData{Names: map[string]string{}}
	var err error
	if d.Users, d.Next, err = h.store.ListUsers(r.Context(), rc.org, patchbay.UserFilter{Page: patchbay.Page{Cursor: r.URL.Query().Get("cursor"), Limit: 100}}); err != nil {
		h.fail(w, r, rc, err)
		return
	}
	if d.Roles, err = h.roles(r, rc.org); err != nil {
		h.fail(w, r, rc, err)
		return
	}
	for _, role := range d.Roles {
		d.Names[role.ID] = role.Name
	}
	h.render(w, r, rc, http.StatusOK, "users", "Users and roles", d)
}
