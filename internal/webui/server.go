// Package webui is Patchbay's admin web UI: server-rendered pages for
// operators, served by the same binary beside the REST API. It calls the
// same services and store methods as the API, with the same capability
// checks, and signs users in with a session cookie.
//
// Every view lives in its own file and registers its routes and its
// navigation entry with registerView, so a new view (syncs, say) is one
// file and one template.
package webui

import (
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/internal/connection"
	"github.com/patchbay/patchbay/internal/connector"
	"github.com/patchbay/patchbay/internal/delivery"
	"github.com/patchbay/patchbay/internal/inbound"
	"github.com/patchbay/patchbay/internal/syncs"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Catalog is the connector catalog the UI browses.
type Catalog interface {
	Get(slug string) (*patchbay.Connector, bool)
	List(f connector.Filter) []*patchbay.Connector
}

// Config configures a Handler.
type Config struct {
	Store       patchbay.Store
	Catalog     Catalog
	Connections *connection.Service
	Deliveries  *delivery.Service
	// Syncs runs pulls and keeps schedules; the sync pages offer no
	// actions when nil.
	Syncs *syncs.Service
	// Inbound replays received vendor webhooks; no Replay button when nil.
	Inbound *inbound.Service
	Logger  *slog.Logger
	Now     func() time.Time // patchbay.Now when nil
	// Secure marks the session cookie Secure even on plain HTTP requests
	// (the public URL is https behind a TLS-terminating proxy).
	Secure bool
	// KeyIDs lists the encryption key ring's key ids, current first, for
	// the settings page; never the keys.
	KeyIDs func() []string
	// IdleTimeout and MaxAge bound a session: idle time since its last
	// request and total age. 30 minutes and 12 hours when zero.
	IdleTimeout time.Duration
	MaxAge      time.Duration
	// LoginRate is how many login attempts a client IP or an e-mail
	// address may make per minute (with the same burst); 10 when zero.
	LoginRate int
	Version   string
}

// Handler serves the web UI. It implements http.Handler.
type Handler struct {
	cfg    Config
	store  patchbay.Store
	now    func() time.Time
	logger *slog.Logger
	mux    *http.ServeMux
	pages  map[string]*template.Template
	limits *loginLimiter
	cop    *http.CrossOriginProtection
	nav    []navItem
}

// navItem is one entry of the navigation bar.
type navItem struct {
	Label string
	Path  string
	Order int
	Needs []patchbay.Capability
}

// view is a section of the UI: its navigation entry (none when Label is
// empty) and its routes.
type view struct {
	nav    navItem
	routes func(h *Handler)
}

var views []view

// registerView adds a view; the view files call it from init.
func registerView(v view) { views = append(views, v) }

// New returns the UI handler.
func New(cfg Config) *Handler {
	h := &Handler{cfg: cfg, store: cfg.Store, now: cfg.Now, logger: cfg.Logger, mux: http.NewServeMux()}
	if h.now == nil {
		h.now = patchbay.Now
	}
	if h.logger == nil {
		h.logger = slog.Default()
	}
	if h.cfg.IdleTimeout == 0 {
		h.cfg.IdleTimeout = 30 * time.Minute
	}
	if h.cfg.MaxAge == 0 {
		h.cfg.MaxAge = 12 * time.Hour
	}
	if h.cfg.LoginRate == 0 {
		h.cfg.LoginRate = 10
	}
	if h.cfg.KeyIDs == nil {
		h.cfg.KeyIDs = func() []string { return nil }
	}
	h.limits = newLoginLimiter(h.cfg.LoginRate, h.now)
	h.cop = http.NewCrossOriginProtection()
	h.cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.renderError(w, r, nil, http.StatusForbidden, "Cross-origin request refused",
			"This form was sent from another site, so Patchbay refused it. Open the page again and resubmit.")
	}))
	h.pages = parsePages()

	static, _ := fs.Sub(staticFS, "static")
	h.mux.Handle("GET /static/", http.StripPrefix("/static/", staticHandler(static)))
	h.mux.HandleFunc("GET /{$}", h.authed(nil, func(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
		http.Redirect(w, r, "/connections", http.StatusSeeOther)
	}))
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		rc, _ := h.session(r)
		h.renderError(w, r, rc, http.StatusNotFound, "Page not found", "There is no such page. Use the navigation above to find your way.")
	})
	h.mux.HandleFunc("GET /login", h.loginPage)
	h.mux.HandleFunc("POST /login", h.login)
	h.mux.HandleFunc("POST /logout", h.logout)
	for _, v := range views {
		if v.nav.Label != "" {
			h.nav = append(h.nav, v.nav)
		}
		v.routes(h)
	}
	slices.SortStableFunc(h.nav, func(a, b navItem) int { return a.Order - b.Order })
	return h
}

// ServeHTTP sets the security headers every page carries and refuses
// cross-origin writes before routing.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", csp(""))
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("X-Content-Type-Options", "nosniff")
	h.cop.Handler(h.mux).ServeHTTP(w, r)
}

func staticHandler(fsys fs.FS) http.Handler {
	files := http.FileServerFS(fsys)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})
}

// reqCtx is what a signed-in request carries: the session, its user and
// the principal the services see.
type reqCtx struct {
	token string
	user  *patchbay.User
	p     *patchbay.Principal
	csrf  string
	org   string
}

// Can reports whether the signed-in user's role grants every one of caps;
// templates use it to offer only the actions the role may take.
func (rc *reqCtx) Can(caps ...string) bool {
	if rc == nil {
		return false
	}
	for _, c := range caps {
		if !rc.p.Can(patchbay.Capability(c)) {
			return false
		}
	}
	return true
}

type handlerFunc func(w http.ResponseWriter, r *http.Request, rc *reqCtx)

// authed wraps a page: it requires a live session (else sends the browser
// to the sign-in page), the capabilities needs, and on writes the session's
// CSRF token. A missing capability is a 403 page even when the page never
// offered the action.
func (h *Handler) authed(needs []patchbay.Capability, fn handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rc, err := h.session(r)
		if err != nil {
			if patchbay.ErrorCode(err) != patchbay.EUNAUTHORIZED {
				h.renderError(w, r, nil, http.StatusInternalServerError, "Something went wrong", "Patchbay could not check your session. Try again.")
				h.logger.ErrorContext(r.Context(), "web session", "error", err.Error())
				return
			}
			clearCookie(w, h.secure(r))
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/login?next="+safeNext(r.URL.RequestURI()), http.StatusSeeOther) //nolint:gosec // a path of this server, escaped
				return
			}
			h.renderError(w, r, nil, http.StatusUnauthorized, "Signed out", "Your session has ended. Sign in again.")
			return
		}
		if rc.user.MustChangePassword && r.URL.Path != passwordPath && r.URL.Path != "/logout" {
			// A generated password is replaced before anything else.
			if r.Method == http.MethodGet {
				http.Redirect(w, r, passwordPath+"?next="+safeNext(r.URL.RequestURI()), http.StatusSeeOther) //nolint:gosec // a path of this server, escaped
				return
			}
			h.renderError(w, r, rc, http.StatusForbidden, "Change your password first",
				"Your password was generated for you. Choose your own password before you go on.")
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if !checkCSRF(rc.csrf, r.PostFormValue("csrf")) {
				h.renderError(w, r, rc, http.StatusForbidden, "Form expired",
					"This form's security token is missing or stale. Reload the page and try again.")
				return
			}
		}
		for _, c := range needs {
			if !rc.p.Can(c) {
				h.renderError(w, r, rc, http.StatusForbidden, "Not allowed",
					"Your role does not allow this ("+string(c)+" is needed). Ask an Administrator if you need it.")
				return
			}
		}
		ctx := patchbay.WithPrincipal(r.Context(), rc.p)
		fn(w, r.WithContext(ctx), rc)
	}
}

func needs(caps ...patchbay.Capability) []patchbay.Capability { return caps }

// secure reports whether cookies must be Secure for this request.
func (h *Handler) secure(r *http.Request) bool { return h.cfg.Secure || r.TLS != nil }

// csp is the Content-Security-Policy of every page. Forms post only to this
// server, and to also (a vendor's authorization origin) on pages whose
// form starts an OAuth flow: browsers apply form-action to the redirect
// that follows the post.
func csp(also string) string {
	return "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data:; " +
		"form-action 'self'" + also + "; frame-ancestors 'none'; base-uri 'none'"
}

// allowOAuthForms widens a page's form-action to the connector's
// authorization server.
func allowOAuthForms(w http.ResponseWriter, c *patchbay.Connector) {
	if c == nil || c.OAuth == nil {
		return
	}
	u, err := url.Parse(c.OAuth.AuthorizationURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return
	}
	w.Header().Set("Content-Security-Policy", csp(" "+u.Scheme+"://"+u.Host))
}
