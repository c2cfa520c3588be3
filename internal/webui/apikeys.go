package webui

import (
	"net/http"
	"strings"

	"github.com/patchbay/patchbay"
)

func init() {
	registerView(view{
		nav: navItem{Label: "API keys", Path: "/api-keys", Order: 60, Needs: needs(patchbay.CapAPIKeysManage)},
		routes: func(h *Handler) {
			m := needs(patchbay.CapAPIKeysManage)
			h.mux.HandleFunc("GET /api-keys", h.authed(m, h.apiKeys))
			h.mux.HandleFunc("POST /api-keys", h.authed(m, h.createAPIKey))
			h.mux.HandleFunc("POST /api-keys/{id}/revoke", h.authed(needs(patchbay.CapAPIKeysManage, patchbay.CapDelete), h.revokeAPIKey))
		},
	})
}

type apiKeysData struct {
	Keys  []*patchbay.APIKey
	Roles []*patchbay.Role
	Error string
	Name  string
	Key   string // the new key, on its creation page only
}

func (h *Handler) roles(r *http.Request, orgID string) ([]*patchbay.Role, error) {
	custom, err := h.store.ListRoles(r.Context(), orgID)
	if err != nil {
		return nil, err
	}
	return append(patchbay.BuiltinRoles(), custom...), nil
}

func (h *Handler) apiKeys(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	h.showAPIKeys(w, r, rc, http.StatusOK, apiKeysData{})
}

func (h *Handler) showAPIKeys(w http.ResponseWriter, r *http.Request, rc *reqCtx, status int, d apiKeysData) {
	var err error
	if d.Keys, _, err = h.store.ListAPIKeys(r.Context(), rc.org, patchbay.APIKeyFilter{Page: patchbay.Page{Limit: 100}}); err != nil {
		h.fail(w, r, rc, err)
		return
	}
	if d.Roles, err = h.roles(r, rc.org); err != nil {
		h.fail(w, r, rc, err)
		return
	}
	if d.Key != "" {
		w.Header().Set("Cache-Control", "no-store")
	}
	h.render(w, r, rc, status, "apikeys", "API keys", d)
}

func (h *Handler) createAPIKey(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	k := &patchbay.APIKey{Name: strings.TrimSpace(r.PostFormValue("name")), RoleID: r.PostFormValue("role_id")}
	secret, err := patchbay.IssueAPIKey(r.Context(), h.store, h.now(), k)
	if err != nil {
		if code := patchbay.ErrorCode(err); code == patchbay.EINVALID || code == patchbay.EFORBIDDEN {
			h.showAPIKeys(w, r, rc, http.StatusBadRequest, apiKeysData{Error: patchbay.ErrorMessage(err), Name: k.Name})
			return
		}
		h.fail(w, r, rc, err)
		return
	}
	h.showAPIKeys(w, r, rc, http.StatusOK, apiKeysData{Key: secret, Name: k.Name})
}

func (h *Handler) revokeAPIKey(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	_, err := patchbay.RevokeAPIKey(r.Context(), h.store, r.PathValue("id"), h.now())
	if err != nil {
		h.fail(w, r, rc, err)
		return
	}
	done(w, r, "/api-keys", "revoked")
}
