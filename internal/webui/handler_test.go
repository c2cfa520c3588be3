package webui_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/internal/fakevendor"
	"github.com/patchbay/patchbay/internal/storetest"
	"github.com/patchbay/patchbay/internal/webui"
)

// browser is a cookie-keeping client that does not follow redirects.
type browser struct {
	t  *testing.T
	st *stack
	c  *http.Client
}

func (st *stack) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: st.t, st: st, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// reply is a response already read: its status, headers and cookies.
type reply struct {
	StatusCode int
	Header     http.Header
	cookies    []*http.Cookie
}

// Cookies returns the cookies the response set.
func (r *reply) Cookies() []*http.Cookie { return r.cookies }

func (b *browser) do(method, path string, form url.Values, header ...string) (*reply, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.st.srv.URL+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	text, _ := io.ReadAll(res.Body)
	return &reply{StatusCode: res.StatusCode, Header: res.Header, cookies: res.Cookies()}, string(text)
}

func (b *browser) login(email string) *reply {
	b.t.Helper()
	res, body := b.do("POST", "/login", url.Values{"email": {email}, "password": {password}})
	if res.StatusCode != http.StatusSeeOther {
		b.t.Fatalf("login %s: %d %s", email, res.StatusCode, body)
	}
	return res
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

// csrf returns the CSRF token of the signed-in session, from a page.
func (b *browser) csrf() string {
	b.t.Helper()
	_, body := b.do("GET", "/connections", nil)
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		b.t.Fatalf("no CSRF token on the page: %s", body)
	}
	return m[1]
}

func TestLoginLogout(t *testing.T) {
	st := newStack(t, patchbay.Now, webui.Config{})
	b := st.browser()

	res, _ := b.do("GET", "/connections", nil)
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
		t.Fatalf("signed out: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	for _, tc := range []struct{ email, pass string }{{"admin@acme.test", "wrong password!"}, {"nobody@acme.test", password}} {
		res, body := b.do("POST", "/login", url.Values{"email": {tc.email}, "password": {tc.pass}})
		if res.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "do not match an account") {
			t.Fatalf("bad login %s: %d", tc.email, res.StatusCode)
		}
	}
	res = b.login("admin@acme.test")
	var cookie *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == "patchbay_session" {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.Path != "/" || cookie.Secure {
		t.Fatalf("session cookie %+v", cookie)
	}
	if res.Header.Get("Location") != "/connections" {
		t.Errorf("after login: %s", res.Header.Get("Location"))
	}
	res, body := b.do("GET", "/connections", nil)
	if res.StatusCode != 200 || !strings.Contains(body, "No connections yet") {
		t.Fatalf("connections: %d %s", res.StatusCode, body)
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP %q", csp)
	}
	// The API stays JSON and keyed.
	if res, body := b.do("GET", "/v1/me", nil); res.StatusCode != 401 || !strings.Contains(body, `"code"`) {
		t.Errorf("/v1/me with a session cookie only: %d %s", res.StatusCode, body)
	}
	if res, _ := b.do("POST", "/logout", url.Values{"csrf": {b.csrf()}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", res.StatusCode)
	}
	if _, err := st.store.FindSession(context.Background(), hashOf(cookie.Value)); patchbay.ErrorCode(err) != patchbay.ENOTFOUND {
		t.Errorf("session row after logout: %v", err)
	}
	// The old cookie no longer works.
	b2 := st.browser()
	u, _ := url.Parse(st.srv.URL)
	b2.c.Jar.SetCookies(u, []*http.Cookie{cookie})
	if res, _ := b2.do("GET", "/connections", nil); res.StatusCode != http.StatusSeeOther {
		t.Errorf("old cookie after logout: %d", res.StatusCode)
	}
}

func TestSessionExpiry(t *testing.T) {
	clock := storetest.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	st := newStack(t, clock.Now, webui.Config{IdleTimeout: 30 * time.Minute, MaxAge: time.Hour})

	idle := st.browser()
	idle.login("admin@acme.test")
	clock.Advance(31 * time.Minute)
	if res, _ := idle.do("GET", "/connections", nil); res.StatusCode != http.StatusSeeOther {
		t.Errorf("after 31 idle minutes: %d, want a redirect to sign in", res.StatusCode)
	}

	busy := st.browser()
	busy.login("admin@acme.test")
	for range 3 {
		clock.Advance(20 * time.Minute)
		res, _ := busy.do("GET", "/connections", nil)
		if clock.Now().Sub(time.Date(2026, 3, 1, 12, 31, 0, 0, time.UTC)) < time.Hour && res.StatusCode != 200 {
			t.Fatalf("active session at %v: %d", clock.Now(), res.StatusCode)
		}
		if clock.Now().Sub(time.Date(2026, 3, 1, 12, 31, 0, 0, time.UTC)) >= time.Hour && res.StatusCode != http.StatusSeeOther {
			t.Fatalf("session past its absolute expiry at %v: %d", clock.Now(), res.StatusCode)
		}
	}
}

func TestCSRF(t *testing.T) {
	st := newStack(t, patchbay.Now, webui.Config{})
	b := st.browser()
	b.login("admin@acme.test")
	token := b.csrf()
	form := url.Values{"delivery_retention_days": {"30"}, "request_retention_days": {"60"}, "max_attempts": {"0"}, "retry_schedule": {""}}
	if res, body := b.do("POST", "/settings", form); res.StatusCode != http.StatusForbidden || !strings.Contains(body, "security token") {
		t.Errorf("without a token: %d", res.StatusCode)
	}
	form.Set("csrf", strings.Repeat("0", len(token)))
	if res, _ := b.do("POST", "/settings", form); res.StatusCode != http.StatusForbidden {
		t.Errorf("with a wrong token: %d", res.StatusCode)
	}
	form.Set("csrf", token)
	if res, body := b.do("POST", "/settings", form, "Sec-Fetch-Site", "cross-site"); res.StatusCode != http.StatusForbidden ||
		!strings.Contains(body, "another site") {
		t.Errorf("cross-site with a good token: %d", res.StatusCode)
	}
	if res, _ := b.do("POST", "/settings", form, "Origin", "https://evil.example"); res.StatusCode != http.StatusForbidden {
		t.Errorf("foreign Origin: %d", res.StatusCode)
	}
	if res, body := b.do("POST", "/settings", form, "Sec-Fetch-Site", "same-origin"); res.StatusCode != http.StatusSeeOther {
		t.Errorf("same origin with the token: %d %s", res.StatusCode, body)
	}
	saved, err := st.store.FindSettings(context.Background(), st.org.Org.ID)
	if err != nil || saved.Retention() != 30*24*time.Hour || saved.RequestLogRetention() != 60*24*time.Hour {
		t.Errorf("saved settings %+v (%v), want 30 and 60 days of retention", saved, err)
	}
}

func TestLoginRateLimit(t *testing.T) {
	st := newStack(t, patchbay.Now, webui.Config{LoginRate: 3})
	b := st.browser()
	for i := range 4 {
		res, body := b.do("POST", "/login", url.Values{"email": {"admin@acme.test"}, "password": {"wrong password!"}})
		want := http.StatusUnauthorized
		if i == 3 {
			want = http.StatusTooManyRequests
		}
		if res.StatusCode != want {
			t.Fatalf("attempt %d: %d, want %d: %s", i+1, res.StatusCode, want, body)
		}
	}
	// The right password is refused too while the limit holds.
	if res, _ := b.do("POST", "/login", url.Values{"email": {"admin@acme.test"}, "password": {password}}); res.StatusCode != http.StatusTooManyRequests {
		t.Errorf("good password while limited: %d", res.StatusCode)
	}
}

// TestViewerRefused posts to every write route of the UI as a Viewer, with
// a valid session and CSRF token: each is 403, and nothing changed.
func TestViewerRefused(t *testing.T) {
	st := newStack(t, patchbay.Now, webui.Config{})
	conn := st.connection()
	b := st.browser()
	b.login("viewer@acme.test")
	token := b.csrf()

	_, page := b.do("GET", "/connections/"+conn.ID, nil)
	for _, action := range []string{"/pause", "/test", "/disconnect", "/refresh", "/scopes", "/sync-pull", "/sync-schedules"} {
		if strings.Contains(page, `action="/connections/`+conn.ID+action+`"`) {
			t.Errorf("Viewer is offered %s", action)
		}
	}
	slug := fakevendor.Slug
	routes := []string{
		"/connectors/" + slug + "/connect", "/connectors/" + slug + "/authorize",
		"/connections/" + conn.ID + "/test", "/connections/" + conn.ID + "/pause", "/connections/" + conn.ID + "/resume",
		"/connections/" + conn.ID + "/refresh", "/connections/" + conn.ID + "/disconnect", "/connections/" + conn.ID + "/scopes",
		"/deliveries/dlv_x/retry", "/deliveries/retry",
		"/endpoints", "/endpoints/ep_x/rotate", "/endpoints/ep_x/test", "/endpoints/ep_x/enable",
		"/api-keys", "/api-keys/key_x/revoke", "/settings", "/users",
		"/connections/" + conn.ID + "/sync-pull", "/connections/" + conn.ID + "/sync-schedules", "/inbound/log/inb_x/replay",
		"/users/" + st.editor.ID, "/users/" + st.editor.ID + "/delete", "/roles", "/roles/rol_x", "/roles/rol_x/delete",
	}
	for _, path := range routes {
		res, body := b.do("POST", path, url.Values{"csrf": {token}, "auth_mode": {"api_key"}, "url": {"https://x.example/"}, "name": {"k"}})
		if res.StatusCode != http.StatusForbidden || !strings.Contains(body, "Not allowed") {
			t.Errorf("Viewer POST %s: %d", path, res.StatusCode)
		}
	}
	for _, path := range []string{"/endpoints", "/api-keys", "/users", "/settings", "/activity", "/users/" + st.editor.ID,
		"/roles/new", "/roles/" + patchbay.RoleEditor} {
		if res, _ := b.do("GET", path, nil); res.StatusCode != http.StatusForbidden {
			t.Errorf("Viewer GET %s: %d", path, res.StatusCode)
		}
	}
	c, err := st.conns.Get(patchbay.WithPrincipal(context.Background(), &patchbay.Principal{OrgID: st.org.Org.ID}), conn.ID)
	if err != nil || c.State != patchbay.StateActive {
		t.Errorf("connection after the Viewer's posts: %v %v", c.State, err)
	}
}

// TestPages renders every view for an Administrator.
func TestPages(t *testing.T) {
	st := newStack(t, patchbay.Now, webui.Config{})
	conn := st.connection()
	b := st.browser()
	b.login("admin@acme.test")
	for _, path := range []string{"/connectors", "/connectors/" + fakevendor.Slug, "/connections", "/connections/" + conn.ID,
		"/deliveries", "/endpoints", "/inbound", "/api-keys", "/users", "/activity", "/settings", "/static/style.css",
		"/syncs", "/syncs/failed", "/syncs/history", "/requests", "/roles/new", "/roles/" + patchbay.RoleEditor, "/users/" + st.editor.ID} {
		if res, body := b.do("GET", path, nil); res.StatusCode != 200 {
			t.Errorf("GET %s: %d %s", path, res.StatusCode, body)
		}
	}
	res, body := b.do("POST", "/api-keys", url.Values{"csrf": {b.csrf()}, "name": {"billing"}, "role_id": {patchbay.RoleViewer}})
	if res.StatusCode != 200 || !strings.Contains(body, `id="secret">pb_`) || res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("create key: %d %q", res.StatusCode, res.Header.Get("Cache-Control"))
	}
	if _, body := b.do("GET", "/api-keys", nil); strings.Contains(body, `id="secret"`) {
		t.Error("the key is shown again")
	}
	res, body = b.do("POST", "/users", url.Values{"csrf": {b.csrf()}, "email": {"new@acme.test"}, "role_id": {patchbay.RoleEditor}})
	if res.StatusCode != 200 || !strings.Contains(body, `id="secret"`) || res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("add user: %d %s", res.StatusCode, body)
	}
	if res, body := b.do("POST", "/users", url.Values{"csrf": {b.csrf()}, "email": {"new@acme.test"}, "role_id": {patchbay.RoleEditor}}); res.StatusCode != 400 ||
		!strings.Contains(body, `class="error"`) {
		t.Errorf("add the same user again: %d", res.StatusCode)
	}
	if res, _ := b.do("GET", "/no-such-page", nil); res.StatusCode != 404 {
		t.Errorf("unknown page: %d", res.StatusCode)
	}
}

// TestRetryMatching retries every failed delivery matching the log's
// filter, as an Editor.
func TestRetryMatching(t *testing.T) {
	st := newStack(t, patchbay.Now, webui.Config{})
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	t.Cleanup(receiver.Close)
	admin := st.browser()
	admin.login("admin@acme.test")
	res, _ := admin.do("POST", "/endpoints", url.Values{"csrf": {admin.csrf()}, "url": {receiver.URL}})
	if res.StatusCode != 200 {
		t.Fatalf("create endpoint: %d", res.StatusCode)
	}
	eps, _, err := st.store.ListEndpoints(context.Background(), st.org.Org.ID, patchbay.Page{})
	if err != nil || len(eps) != 1 {
		t.Fatalf("endpoints %v %v", eps, err)
	}
	if res, _ := admin.do("POST", "/endpoints/"+eps[0].ID+"/test", url.Values{"csrf": {admin.csrf()}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("send test: %d", res.StatusCode)
	}
	d := waitDelivery(t, st, func(d *patchbay.Delivery) bool { return d.Status == patchbay.DeliveryRetrying })

	editor := st.browser()
	editor.login("editor@acme.test")
	_, page := editor.do("GET", "/deliveries?outcome=retrying", nil)
	if !strings.Contains(page, `value="`+d.ID+`"`) || !strings.Contains(page, "Retry every undelivered match") {
		t.Fatalf("an Editor is not offered the retry: %s", page)
	}
	res, _ = editor.do("POST", "/deliveries/retry", url.Values{"csrf": {editor.csrf()}, "all": {"1"}, "outcome": {"retrying"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("retry matching: %d", res.StatusCode)
	}
	waitDelivery(t, st, func(d *patchbay.Delivery) bool { return d.Attempts >= 2 })
	acts, _, err := st.store.ListActivity(context.Background(), st.org.Org.ID, patchbay.ActivityFilter{Action: "delivery.retry"})
	if err != nil || len(acts) != 1 || acts[0].ActorName != "editor@acme.test" {
		t.Fatalf("retry activity: %v %v", acts, err)
	}
}

// TestConnectForms connects with an API key and with a signed token, whose
// secret is shown once, and disconnects.
func TestConnectForms(t *testing.T) {
	st := newStack(t, patchbay.Now, webui.Config{})
	st.vendor.AddAPIKey("vendor-key-2")
	b := st.browser()
	b.login("admin@acme.test")

	res, body := b.do("POST", "/connectors/"+fakevendor.Slug+"/connect", url.Values{"csrf": {b.csrf()}, "auth_mode": {"api_key"},
		"field_api_key": {"wrong-key"}})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, `class="error"`) || strings.Contains(body, "wrong-key") {
		t.Fatalf("bad API key: %d", res.StatusCode)
	}
	res, _ = b.do("POST", "/connectors/"+fakevendor.Slug+"/connect", url.Values{"csrf": {b.csrf()}, "auth_mode": {"api_key"},
		"field_api_key": {"vendor-key-2"}})
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/connections/con_") {
		t.Fatalf("API key connect: %d %s", res.StatusCode, loc)
	}
	if _, page := b.do("GET", loc, nil); strings.Contains(page, "vendor-key-2") {
		t.Error("the connection page shows the credential")
	}

	res, body = b.do("POST", "/connectors/webhook_hmac/connect", url.Values{"csrf": {b.csrf()}, "auth_mode": {"signed_token"},
		"field_url": {"https://hooks.example/in"}})
	if res.StatusCode != 200 || !strings.Contains(body, `id="secret"`) || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("signed token: %d %s", res.StatusCode, body)
	}
	secret := regexp.MustCompile(`id="secret">([^<]+)<`).FindStringSubmatch(body)[1]
	id := regexp.MustCompile(`href="/connections/(con_[a-z0-9]+)"`).FindStringSubmatch(body)[1]
	if _, page := b.do("GET", "/connections/"+id, nil); strings.Contains(page, secret) {
		t.Error("the connection page shows the signed-token secret again")
	}
	res, _ = b.do("POST", "/connections/"+id+"/disconnect", url.Values{"csrf": {b.csrf()}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("disconnect: %d", res.StatusCode)
	}
	if _, page := b.do("GET", "/connections/"+id, nil); !strings.Contains(page, `id="state">disconnected`) {
		t.Error("not disconnected")
	}
}
