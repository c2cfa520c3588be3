package webui

import (
	"net/http"
	"net/url"

	"github.com/patchbay/patchbay"
)

// The signed-in user's own password. A user whose password was generated
// (the first Administrator, users added with a generated password) must
// change it before anything else: authed sends them here.

func init() {
	registerView(view{routes: func(h *Handler) {
		h.mux.HandleFunc("GET /account/password", h.authed(nil, h.passwordPage))
		h.mux.HandleFunc("POST /account/password", h.authed(nil, h.changePassword))
	}})
}

// passwordPath is the page a user who must change their password is kept on.
const passwordPath = "/account/password"

type passwordData struct {
	Must  bool
	Next  string
	Error string
	Min   int
}

func (h *Handler) passwordPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	next, _ := url.QueryUnescape(safeNext(r.URL.Query().Get("next")))
	h.render(w, r, rc, http.StatusOK, "password", "Change your password",
		passwordData{Must: rc.user.MustChangePassword, Next: next, Min: patchbay.MinPasswordLength})
}

func (h *Handler) changePassword(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	next, _ := url.QueryUnescape(safeNext(r.PostFormValue("next")))
	d := passwordData{Must: rc.user.MustChangePassword, Next: next, Min: patchbay.MinPasswordLength}
	fresh := r.PostFormValue("new_password")
	if fresh != r.PostFormValue("confirm_password") {
		d.Error = "The new password and its confirmation differ."
	} else if err := patchbay.ChangePassword(r.Context(), h.store, r.PostFormValue("current_password"), fresh); err != nil {
		if patchbay.ErrorCode(err) != patchbay.EINVALID {
			h.fail(w, r, rc, err)
			return
		}
		d.Error = patchbay.ErrorMessage(err)
	}
	if d.Error != "" {
		h.render(w, r, rc, http.StatusBadRequest, "password", "Change your password", d)
		return
	}
	// Whoever knew the old password is signed out everywhere else.
	if _, err := h.store.DeleteUserSessions(r.Context(), rc.user.ID, hashToken(rc.token)); err != nil {
		h.logger.WarnContext(r.Context(), "end other sessions", "error", err.Error())
	}
	if next == "/" || next == passwordPath {
		next = "/connections"
	}
	done(w, r, next, "password")
}
