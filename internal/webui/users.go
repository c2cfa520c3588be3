package webui

import (
	"net/http"
	"strings"

	"github.com/patchbay/patchbay"
)

func init() {
	registerView(view{
		nav: navItem{Label: "Users", Path: "/users", Order: 70, Needs: needs(patchbay.CapUsersManage)},
		routes: func(h *Handler) {
			h.mux.HandleFunc("GET /users", h.authed(needs(patchbay.CapUsersManage), h.users))
			h.mux.HandleFunc("POST /users", h.authed(needs(patchbay.CapUsersManage), h.addUser))
		},
	})
}

type usersData struct {
	Users []*patchbay.User
	Roles []*patchbay.Role
	Names map[string]string
	Next  string
	// The new user and their generated password, on the page that
	// created them only.
	Created  *patchbay.User
	Password string
	Error    string
	Email    string
}

func (h *Handler) users(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	h.showUsers(w, r, rc, http.StatusOK, usersData{})
}

func (h *Handler) showUsers(w http.ResponseWriter, r *http.Request, rc *reqCtx, status int, d usersData) {
	d.Names = map[string]string{}
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
	if d.Password != "" {
		w.Header().Set("Cache-Control", "no-store")
	}
	h.render(w, r, rc, status, "users", "Users and roles", d)
}

// addUser creates a user with a generated password, shown this once.
func (h *Handler) addUser(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	u := &patchbay.User{Email: strings.TrimSpace(r.PostFormValue("email")), Name: strings.TrimSpace(r.PostFormValue("name")),
		RoleID: r.PostFormValue("role_id")}
	generated, err := patchbay.AddUser(r.Context(), h.store, u, "")
	if err != nil {
		if code := patchbay.ErrorCode(err); code == patchbay.EINVALID || code == patchbay.EFORBIDDEN || code == patchbay.ECONFLICT {
			h.showUsers(w, r, rc, http.StatusBadRequest, usersData{Error: patchbay.ErrorMessage(err), Email: u.Email})
			return
		}
		h.fail(w, r, rc, err)
		return
	}
	h.showUsers(w, r, rc, http.StatusOK, usersData{Created: u, Password: generated})
}
