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
			h.mux.HandleFunc("GET /users/{id}", h.authed(needs(patchbay.CapUsersManage), h.userPage))
			h.mux.HandleFunc("POST /users/{id}", h.authed(needs(patchbay.CapUsersManage), h.updateUser))
			h.mux.HandleFunc("POST /users/{id}/delete", h.authed(needs(patchbay.CapUsersManage, patchbay.CapDelete), h.deleteUser))
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

type userData struct {
	U     *patchbay.User
	Roles []*patchbay.Role
	Self  bool
	Error string
}

func (h *Handler) userPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	h.showUser(w, r, rc, http.StatusOK, nil, "")
}

// showUser renders the edit page of the user in the path, or of u (the
// values just posted) with an error.
func (h *Handler) showUser(w http.ResponseWriter, r *http.Request, rc *reqCtx, status int, u *patchbay.User, msg string) {
	if u == nil {
		var err error
		if u, err = h.store.FindUser(r.Context(), rc.org, r.PathValue("id")); err != nil {
			h.fail(w, r, rc, err)
			return
		}
	}
	roles, err := h.roles(r, rc.org)
	if err != nil {
		h.fail(w, r, rc, err)
		return
	}
	h.render(w, r, rc, status, "user", u.Email, userData{U: u, Roles: roles, Self: u.ID == rc.user.ID, Error: msg})
}

// updateUser changes a user's name and role with patchbay.UpdateUser, as
// PATCH /v1/users/{id} does.
func (h *Handler) updateUser(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	name, role := strings.TrimSpace(r.PostFormValue("name")), r.PostFormValue("role_id")
	ch := patchbay.UserChange{Name: &name}
	if role != "" {
		ch.RoleID = &role
	}
	if _, err := patchbay.UpdateUser(r.Context(), h.store, r.PathValue("id"), ch); err != nil {
		if code := patchbay.ErrorCode(err); code == patchbay.EINVALID || code == patchbay.EFORBIDDEN {
			u, ferr := h.store.FindUser(r.Context(), rc.org, r.PathValue("id"))
			if ferr != nil {
				h.fail(w, r, rc, ferr)
				return
			}
			u.Name = name
			h.showUser(w, r, rc, http.StatusBadRequest, u, patchbay.ErrorMessage(err))
			return
		}
		h.fail(w, r, rc, err)
		return
	}
	done(w, r, "/users/"+r.PathValue("id"), "user-saved")
}

// deleteUser deletes a user with patchbay.RemoveUser, as
// DELETE /v1/users/{id} does.
func (h *Handler) deleteUser(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	if _, err := patchbay.RemoveUser(r.Context(), h.store, r.PathValue("id")); err != nil {
		h.fail(w, r, rc, err)
		return
	}
	done(w, r, "/users", "user-deleted")
}
