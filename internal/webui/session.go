package webui

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/patchbay/patchbay"
)

// cookieName is the session cookie.
const cookieName = "patchbay_session"

// hashToken returns the hex SHA-256 of a session token: what the store
// keeps.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// csrfToken derives a session's CSRF token from its (secret) session token,
// so it needs no storage and changes with every sign-in.
func csrfToken(token string) string {
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte("patchbay csrf"))
	return hex.EncodeToString(m.Sum(nil))
}

func checkCSRF(want, got string) bool {
	return want != "" && hmac.Equal([]byte(want), []byte(got))
}

var errSignedOut = patchbay.Errorf(patchbay.EUNAUTHORIZED, "Signed out.")

// session resolves the request's cookie to a live session, its user and
// principal. Expired sessions (idle or too old) are deleted.
func (h *Handler) session(r *http.Request) (*reqCtx, error) {
	c, err := r.Cookie(cookieName)
	if err != nil || c.Value == "" || len(c.Value) > 200 {
		return nil, errSignedOut
	}
	ctx := r.Context()
	hash := hashToken(c.Value)
	sess, err := h.store.FindSession(ctx, hash)
	if patchbay.ErrorCode(err) == patchbay.ENOTFOUND {
		return nil, errSignedOut
	} else if err != nil {
		return nil, err
	}
	now := h.now()
	if !now.Before(sess.ExpiresAt) || now.Sub(sess.LastSeenAt) >= h.cfg.IdleTimeout {
		_ = h.store.DeleteSession(ctx, hash)
		return nil, errSignedOut
	}
	u, err := h.store.FindUser(ctx, sess.OrgID, sess.UserID)
	if patchbay.ErrorCode(err) == patchbay.ENOTFOUND {
		_ = h.store.DeleteSession(ctx, hash)
		return nil, errSignedOut
	} else if err != nil {
		return nil, err
	}
	caps := patchbay.CapabilitySet{}
	role, err := patchbay.FindRoleOf(ctx, h.store, u.OrgID, u.RoleID)
	if err == nil {
		caps = patchbay.NewCapabilitySet(role.Capabilities...)
	} else if patchbay.ErrorCode(err) != patchbay.ENOTFOUND {
		return nil, err
	}
	// Last-seen is written at most once a minute per session.
	if now.Sub(sess.LastSeenAt) >= time.Minute {
		if err := h.store.TouchSession(ctx, hash, now); err != nil && patchbay.ErrorCode(err) != patchbay.ENOTFOUND {
			return nil, err
		}
	}
	return &reqCtx{token: c.Value, user: u, csrf: csrfToken(c.Value), org: u.OrgID,
		p: &patchbay.Principal{OrgID: u.OrgID, ActorType: patchbay.ActorUser, ActorID: u.ID, ActorName: u.Email,
			RoleID: u.RoleID, Capabilities: caps}}, nil
}

func setCookie(w http.ResponseWriter, token string, maxAge time.Duration, secure bool) {
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: token, Path: "/", MaxAge: int(maxAge.Seconds()), //nolint:gosec // Secure whenever the request came over TLS or the public URL is https
		HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode})
}

func clearCookie(w http.ResponseWriter, secure bool) {
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/", MaxAge: -1, //nolint:gosec // as setCookie
		HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode})
}

// safeNext keeps a post-login destination on this server: a path, never
// a scheme or host.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.HasPrefix(next, "/login") {
		return "/connections"
	}
	return url.QueryEscape(next)
}

type loginData struct {
	Email string
	Next  string
	Error string
}

func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request) {
	if _, err := h.session(r); err == nil {
		http.Redirect(w, r, "/connections", http.StatusSeeOther)
		return
	}
	next, _ := url.QueryUnescape(safeNext(r.URL.Query().Get("next")))
	h.render(w, r, nil, http.StatusOK, "login", "Sign in", loginData{Next: next})
}

// dummyHash is checked against for unknown e-mail addresses, so a wrong
// address takes as long as a wrong password.
var dummyHash = patchbay.HashPassword("patchbay: no such user")

const loginFailed = "That e-mail address and password do not match an account."

func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	email := strings.TrimSpace(r.PostFormValue("email"))
	password := r.PostFormValue("password")
	next, _ := url.QueryUnescape(safeNext(r.PostFormValue("next")))
	fail := func(status int, msg string) {
		h.render(w, r, nil, status, "login", "Sign in", loginData{Email: email, Next: next, Error: msg})
	}
	if !h.limits.allow(clientIP(r), strings.ToLower(email)) {
		w.Header().Set("Retry-After", "60")
		fail(http.StatusTooManyRequests, "Too many sign-in attempts. Wait a minute and try again.")
		return
	}
	if email == "" || password == "" || len(email) > 320 || len(password) > 1024 {
		fail(http.StatusUnauthorized, loginFailed)
		return
	}
	u, err := h.store.FindUserByEmail(r.Context(), email)
	if err != nil && patchbay.ErrorCode(err) != patchbay.ENOTFOUND {
		h.logger.ErrorContext(r.Context(), "web login", "error", err.Error())
		fail(http.StatusInternalServerError, "Signing in failed. Try again.")
		return
	}
	if u == nil {
		patchbay.CheckPassword(dummyHash, password)
		fail(http.StatusUnauthorized, loginFailed)
		return
	}
	if !patchbay.CheckPassword(u.PasswordHash, password) {
		fail(http.StatusUnauthorized, loginFailed)
		return
	}
	token := patchbay.RandomToken(32)
	now := h.now()
	sess := &patchbay.Session{TokenHash: hashToken(token), OrgID: u.OrgID, UserID: u.ID, ExpiresAt: now.Add(h.cfg.MaxAge)}
	if err := h.store.CreateSession(r.Context(), sess); err != nil {
		h.logger.ErrorContext(r.Context(), "web login", "error", err.Error())
		fail(http.StatusInternalServerError, "Signing in failed. Try again.")
		return
	}
	// Sign-ins also sweep sessions past their absolute expiry.
	if _, err := h.store.DeleteExpiredSessions(r.Context(), now); err != nil {
		h.logger.WarnContext(r.Context(), "delete expired sessions", "error", err.Error())
	}
	u.LastLoginAt = &now
	if err := h.store.UpdateUser(r.Context(), u); err != nil {
		h.logger.WarnContext(r.Context(), "record last login", "error", err.Error())
	}
	p := &patchbay.Principal{OrgID: u.OrgID, ActorType: patchbay.ActorUser, ActorID: u.ID, ActorName: u.Email, RoleID: u.RoleID}
	a := patchbay.NewActivity(patchbay.WithPrincipal(r.Context(), p), "user.login", "user", u.ID, patchbay.OutcomeSuccess)
	if err := h.store.RecordActivity(r.Context(), a); err != nil {
		h.logger.WarnContext(r.Context(), "record login", "error", err.Error())
	}
	setCookie(w, token, h.cfg.MaxAge, h.secure(r))
	http.Redirect(w, r, next, http.StatusSeeOther) //nolint:gosec // safeNext keeps it a local path
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	h.authed(nil, func(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
		if err := h.store.DeleteSession(r.Context(), hashToken(rc.token)); err != nil {
			h.logger.WarnContext(r.Context(), "web logout", "error", err.Error())
		}
		clearCookie(w, h.secure(r))
		http.Redirect(w, r, "/login", http.StatusSeeOther)
	})(w, r)
}

// clientIP is the connection's address. Behind a proxy every client shares
// the proxy's address, which makes the per-IP limit stricter, never looser.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// loginLimiter holds a token bucket per client IP and per e-mail address.
type loginLimiter struct {
	perMinute int
	now       func() time.Time
	mu        sync.Mutex
	buckets   map[string]*rate.Limiter
}

func newLoginLimiter(perMinute int, now func() time.Time) *loginLimiter {
	return &loginLimiter{perMinute: perMinute, now: now, buckets: map[string]*rate.Limiter{}}
}

// allow spends a token from both the IP's and the address's bucket.
func (l *loginLimiter) allow(ip, email string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buckets) > 100000 { // bound memory under a spray of addresses
		l.buckets = map[string]*rate.Limiter{}
	}
	now := l.now()
	ok := true
	for _, k := range []string{"ip:" + ip, "email:" + email} {
		b := l.buckets[k]
		if b == nil {
			b = rate.NewLimiter(rate.Limit(float64(l.perMinute)/60), l.perMinute)
			l.buckets[k] = b
		}
		if !b.AllowN(now, 1) {
			ok = false
		}
	}
	return ok
}
