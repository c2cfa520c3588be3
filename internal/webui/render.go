package webui

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/patchbay/patchbay"
)

// page is what every template gets.
type page struct {
	rc      *reqCtx
	Title   string
	Nav     []navItem
	Current string // path of the active nav entry
	Notice  string
	Data    any
}

// SignedIn reports whether a user is signed in.
func (p page) SignedIn() bool { return p.rc != nil }

// Can reports whether the signed-in user may use every one of caps.
func (p page) Can(caps ...string) bool { return p.rc.Can(caps...) }

// CSRF is the token every form posts back.
func (p page) CSRF() string {
	if p.rc == nil {
		return ""
	}
	return p.rc.csrf
}

// Email is the signed-in user's address.
func (p page) Email() string { return p.rc.user.Email }

// Role is the signed-in user's role name.
func (p page) Role() string {
	if r := patchbay.BuiltinRole(p.rc.user.RoleID); r != nil {
		return r.Name
	}
	return p.rc.user.RoleID
}

var funcs = template.FuncMap{
	"when": func(t any) string {
		switch v := t.(type) {
		case time.Time:
			if v.IsZero() {
				return "—"
			}
			return v.UTC().Format("2006-01-02 15:04:05 UTC")
		case *time.Time:
			if v == nil {
				return "—"
			}
			return v.UTC().Format("2006-01-02 15:04:05 UTC")
		}
		return "—"
	},
	"date": func(t time.Time) string { return t.UTC().Format("2006-01-02") },
	"join": strings.Join,
	"ms":   func(d time.Duration) int64 { return d.Milliseconds() },
	"query": func(kv ...string) template.URL {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] != "" {
				v.Set(kv[i], kv[i+1])
			}
		}
		return template.URL(v.Encode()) //nolint:gosec // encoded by url.Values
	},
	"str": func(v any) string { return fmt.Sprint(v) },
	// dur writes a duration the way people do: 6h, 1h30m, 15m.
	"dur": func(d time.Duration) string {
		s := d.String()
		if strings.HasSuffix(s, "m0s") {
			s = strings.TrimSuffix(s, "0s")
		}
		if strings.HasSuffix(s, "h0m") {
			s = strings.TrimSuffix(s, "0m")
		}
		return s
	},
}

// parsePages parses each view template together with the layout.
func parsePages() map[string]*template.Template {
	base := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html"))
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(path.Base(n), ".html")
		if name == "layout" {
			continue
		}
		pages[name] = template.Must(template.Must(base.Clone()).ParseFS(templateFS, n))
	}
	return pages
}

// notices are the messages a redirect after a successful action may show;
// the URL names one by key, so no text travels in it.
var notices = map[string]string{
	"connected":      "Connected. Patchbay tested the credential with the vendor.",
	"paused":         "Paused. Patchbay will not deliver over this connection until you resume it.",
	"resumed":        "Resumed. The test call passed and the connection is active again.",
	"tested":         "Test finished; the outcome is below.",
	"refreshed":      "Credential refreshed.",
	"disconnected":   "Disconnected. The credential was removed.",
	"retried":        "Retry queued. The delivery log shows the new attempt as soon as it runs.",
	"test-sent":      "Test event queued for this endpoint. Its delivery appears below and in the delivery log.",
	"saved":          "Saved.",
	"password":       "Your password is changed.",
	"revoked":        "Key revoked. It stops working at once.",
	"enabled":        "Endpoint enabled again.",
	"pulled":         "Pull finished; the run is below.",
	"schedule-saved": "Schedule saved.",
	"replayed":       "Webhook forwarded again as a new event.",
	"user-saved":     "User saved.",
	"user-deleted":   "User deleted. They can no longer sign in.",
	"role-saved":     "Role saved.",
	"role-deleted":   "Role deleted.",
}

// render writes a full page.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, rc *reqCtx, status int, name, title string, data any) {
	t := h.pages[name]
	if t == nil {
		panic("webui: no template " + name)
	}
	pg := page{rc: rc, Title: title, Data: data, Notice: notices[r.URL.Query().Get("ok")]}
	if rc != nil {
		for _, n := range h.nav {
			if rc.p.Can(n.Needs...) {
				pg.Nav = append(pg.Nav, n)
			}
			if strings.HasPrefix(r.URL.Path, n.Path) {
				pg.Current = n.Path
			}
		}
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", pg); err != nil {
		h.logger.ErrorContext(r.Context(), "render page", "page", name, "error", err.Error())
		http.Error(w, "Patchbay could not draw this page.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if w.Header().Get("Cache-Control") == "" {
		w.Header().Set("Cache-Control", "no-cache")
	}
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// renderSecret writes a page showing a secret, this once: never cached.
func (h *Handler) renderSecret(w http.ResponseWriter, r *http.Request, rc *reqCtx, name, title string, data any) {
	w.Header().Set("Cache-Control", "no-store")
	h.render(w, r, rc, http.StatusOK, name, title, data)
}

type errorData struct {
	Status  int
	Message string
}

func (h *Handler) renderError(w http.ResponseWriter, r *http.Request, rc *reqCtx, status int, title, message string) {
	h.render(w, r, rc, status, "error", title, errorData{Status: status, Message: message})
}

// statusOf maps an error code to an HTTP status.
var statusOf = map[string]int{
	patchbay.EINVALID: http.StatusBadRequest, patchbay.ENOTFOUND: http.StatusNotFound, patchbay.ECONFLICT: http.StatusConflict,
	patchbay.EFORBIDDEN: http.StatusForbidden, patchbay.EUNAUTHORIZED: http.StatusUnauthorized,
	patchbay.ERATELIMIT: http.StatusTooManyRequests, patchbay.EUNAVAILABLE: http.StatusServiceUnavailable,
}

// fail renders a service error: its message for the operator, or a generic
// one (and a log line) for internal faults.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, rc *reqCtx, err error) {
	code := patchbay.ErrorCode(err)
	status, ok := statusOf[code]
	if !ok {
		h.logger.ErrorContext(r.Context(), "web ui", "path", r.URL.Path, "error", err.Error())
		h.renderError(w, r, rc, http.StatusInternalServerError, "Something went wrong",
			"Patchbay could not finish this. Try again; if it keeps failing, the server log has the details.")
		return
	}
	titles := map[int]string{400: "Please check your input", 403: "Not allowed", 404: "Not found", 409: "Not possible right now",
		401: "Signed out", 429: "Too many requests", 503: "Unavailable"}
	h.renderError(w, r, rc, status, titles[status], patchbay.ErrorMessage(err))
}

// done redirects after a successful write, naming a notice.
func done(w http.ResponseWriter, r *http.Request, to, notice string) {
	sep := "?"
	if strings.Contains(to, "?") {
		sep = "&"
	}
	http.Redirect(w, r, to+sep+"ok="+notice, http.StatusSeeOther) //nolint:gosec // to is always one of the UI's own paths
}
