package webui

import (
	"net/http"
	"slices"
	"strings"

	"github.com/patchbay/patchbay"
)

func init() {
	registerView(view{
		routes: func(h *Handler) {
			manage := needs(patchbay.CapRolesManage)
			h.mux.HandleFunc("GET /roles/new", h.authed(manage, h.newRole))
			h.mux.HandleFunc("POST /roles", h.authed(manage, h.createRole))
			h.mux.HandleFunc("GET /roles/{id}", h.authed(manage, h.rolePage))
			h.mux.HandleFunc("POST /roles/{id}", h.authed(manage, h.updateRole))
			h.mux.HandleFunc("POST /roles/{id}/delete", h.authed(needs(patchbay.CapRolesManage, patchbay.CapDelete), h.deleteRole))
		},
	})
}

// capChoice is one box of the capability checklist.
type capChoice struct {
	Cap     patchbay.Capability
	Checked bool
	// Held is false for a capability the signed-in user lacks: nobody
	// grants what they do not hold, so the box is disabled.
	Held bool
}

type roleData struct {
	Role    *patchbay.Role // nil on the new-role page
	Name    string
	Desc    string
	Choices []capChoice
	Error   string
}

// roleForm builds the checklist: every capability but delete, which only
// the Administrator role has.
func roleForm(rc *reqCtx, role *patchbay.Role, name, desc string, checked []patchbay.Capability) roleData {
	d := roleData{Role: role, Name: name, Desc: desc}
	for _, c := range patchbay.AllCapabilities {
		if c == patchbay.CapDelete {
			continue
		}
		d.Choices = append(d.Choices, capChoice{Cap: c, Checked: slices.Contains(checked, c), Held: rc.p.Can(c)})
	}
	return d
}

func (h *Handler) newRole(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	h.render(w, r, rc, http.StatusOK, "role", "New role", roleForm(rc, nil, "", "", nil))
}

func (h *Handler) rolePage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	role, err := patchbay.FindRoleOf(r.Context(), h.store, rc.org, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, rc, err)
		return
	}
	h.render(w, r, rc, http.StatusOK, "role", role.Name, roleForm(rc, role, role.Name, role.Description, role.Capabilities))
}

// postedRole reads the role form.
func postedRole(r *http.Request) patchbay.Role {
	caps := make([]patchbay.Capability, 0, len(r.PostForm["capability"]))
	for _, c := range r.PostForm["capability"] {
		caps = append(caps, patchbay.Capability(c))
	}
	return patchbay.Role{Name: strings.TrimSpace(r.PostFormValue("name")), Description: strings.TrimSpace(r.PostFormValue("description")),
		Capabilities: caps}
}

// roleFailed shows the form again with the posted values and the error
// when it is the operator's to fix.
func (h *Handler) roleFailed(w http.ResponseWriter, r *http.Request, rc *reqCtx, role *patchbay.Role, in patchbay.Role, err error) {
	switch patchbay.ErrorCode(err) {
	case patchbay.EINVALID, patchbay.EFORBIDDEN, patchbay.ECONFLICT:
		d := roleForm(rc, role, in.Name, in.Description, in.Capabilities)
		d.Error = patchbay.ErrorMessage(err)
		h.render(w, r, rc, http.StatusBadRequest, "role", "Role", d)
	default:
		h.fail(w, r, rc, err)
	}
}

// createRole creates a custom role with patchbay.AddRole, as
// POST /v1/roles does.
func (h *Handler) createRole(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	in := postedRole(r)
	role := in
	role.Capabilities = slices.Clone(in.Capabilities)
	if err := patchbay.AddRole(r.Context(), h.store, &role); err != nil {
		h.roleFailed(w, r, rc, nil, in, err)
		return
	}
	done(w, r, "/roles/"+role.ID, "role-saved")
}

// updateRole replaces a custom role with patchbay.ChangeRole, as
// PUT /v1/roles/{id} does.
func (h *Handler) updateRole(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	in := postedRole(r)
	if _, err := patchbay.ChangeRole(r.Context(), h.store, r.PathValue("id"), in); err != nil {
		role, ferr := patchbay.FindRoleOf(r.Context(), h.store, rc.org, r.PathValue("id"))
		if ferr != nil {
			h.fail(w, r, rc, ferr)
			return
		}
		h.roleFailed(w, r, rc, role, in, err)
		return
	}
	done(w, r, "/roles/"+r.PathValue("id"), "role-saved")
}

// deleteRole deletes a custom role with patchbay.RemoveRole, as
// DELETE /v1/roles/{id} does.
func (h *Handler) deleteRole(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	if _, err := patchbay.RemoveRole(r.Context(), h.store, r.PathValue("id")); err != nil {
		h.fail(w, r, rc, err)
		return
	}
	done(w, r, "/users", "role-deleted")
}
