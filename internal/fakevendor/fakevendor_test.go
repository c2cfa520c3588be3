package fakevendor

// golang.org/x/oauth2 is not a dependency of this module, so these tests
// speak OAuth by hand with net/http and url.Values, as a client would.

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// redirectURI is a loopback callback the default client accepts; nothing
// listens there, and the tests never follow the redirect.
const redirectURI = "http://127.0.0.1:9/callback"

type env struct {
	t  *testing.T
	v  *Vendor
	hc *http.Client
}

func newEnv(t *testing.T) *env {
	t.Helper()
	v := New(t)
	// A transport of its own: httptest's Close closes the idle
	// connections of http.DefaultTransport, which broke a parallel test's
	// request ("CloseIdleConnections called") when another's vendor closed.
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	hc := &http.Client{
		Transport:     tr,
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &env{t: t, v: v, hc: hc}
}

// with is e for a subtest.
func (e *env) with(t *testing.T) *env {
	c := *e
	c.t = t
	return &c
}

// newVerifier is a fresh PKCE code verifier (43 characters).
func newVerifier() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// tokens is a token endpoint answer, success or error.
type tokens struct {
	status           int
	AccessToken      string `json:"access_token"`
	TokenType        string `json:"token_type"`
	ExpiresIn        int    `json:"expires_in"`
	Scope            string `json:"scope"`
	RefreshToken     string `json:"refresh_token"`
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

// authorize sends the browser to /oauth/authorize with the default
// client's parameters overridden by params (an empty value drops one) and
// returns the query of the redirect it answers.
func (e *env) authorize(params url.Values) url.Values {
	e.t.Helper()
	q := url.Values{"response_type": {"code"}, "client_id": {DefaultClientID},
		"redirect_uri": {redirectURI}, "state": {"state-123"}}
	for k, vs := range params {
		if len(vs) == 0 || vs[0] == "" {
			q.Del(k)
		} else {
			q[k] = vs
		}
	}
	resp, err := e.hc.Get(e.v.URL() + "/oauth/authorize?" + q.Encode())
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		body, _ := io.ReadAll(resp.Body)
		e.t.Fatalf("authorize: status %d, want 302: %s", resp.StatusCode, body)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		e.t.Fatal(err)
	}
	want := q.Get("redirect_uri")
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != want {
		e.t.Fatalf("redirected to %s, want %s", got, want)
	}
	return loc.Query()
}

// post sends a form to path, with HTTP Basic when basic holds a user and
// a password.
func (e *env) post(path string, form url.Values, basic ...string) (reply, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.v.URL()+path, strings.NewReader(form.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if len(basic) == 2 {
		req.SetBasicAuth(url.QueryEscape(basic[0]), url.QueryEscape(basic[1]))
	}
	return e.do(req)
}

// reply is the status and headers of an answer whose body was read.
type reply struct {
	StatusCode int
	Header     http.Header
}

// do sends req and reads the whole answer.
func (e *env) do(req *http.Request) (reply, []byte) {
	e.t.Helper()
	resp, err := e.hc.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return reply{StatusCode: resp.StatusCode, Header: resp.Header}, body
}

// token posts to /oauth/token as the default client (HTTP Basic).
func (e *env) token(form url.Values) tokens {
	e.t.Helper()
	resp, body := e.post("/oauth/token", form, DefaultClientID, DefaultClientSecret)
	var tok tokens
	if err := json.Unmarshal(body, &tok); err != nil {
		e.t.Fatalf("token answer %d %q: %v", resp.StatusCode, body, err)
	}
	tok.status = resp.StatusCode
	return tok
}

// connect runs the authorization-code flow with PKCE for scopes (the
// vendor's defaults when none) and returns the tokens.
func (e *env) connect(scopes ...string) tokens {
	e.t.Helper()
	verifier := newVerifier()
	got := e.authorize(url.Values{"scope": {strings.Join(scopes, " ")},
		"code_challenge": {S256Challenge(verifier)}, "code_challenge_method": {"S256"}})
	if got.Get("error") != "" {
		e.t.Fatalf("authorize: error=%s (%s)", got.Get("error"), got.Get("error_description"))
	}
	tok := e.token(url.Values{"grant_type": {"authorization_code"}, "code": {got.Get("code")},
		"redirect_uri": {redirectURI}, "code_verifier": {verifier}})
	if tok.status != http.StatusOK {
		e.t.Fatalf("code exchange: %d %s (%s)", tok.status, tok.Error, tok.ErrorDescription)
	}
	return tok
}

// refresh exchanges a refresh token.
func (e *env) refresh(rt string) tokens {
	e.t.Helper()
	return e.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
}

// get calls the API with a Bearer token ("" sends none).
func (e *env) get(path, bearer string) (reply, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.v.URL()+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return e.do(req)
}

type whoamiAnswer struct {
	Account struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"account"`
	Scopes []string `json:"scopes"`
	Error  string   `json:"error"`
}

func (e *env) whoami(bearer string) (int, whoamiAnswer) {
	e.t.Helper()
	resp, body := e.get("/api/whoami", bearer)
	var w whoamiAnswer
	if err := json.Unmarshal(body, &w); err != nil {
		e.t.Fatalf("whoami answer %q: %v", body, err)
	}
	return resp.StatusCode, w
}

func wantStatus(t *testing.T, what string, got, want int) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: status %d, want %d", what, got, want)
	}
}

func wantError(t *testing.T, what string, tok tokens, status int, code string) {
	t.Helper()
	if tok.status != status || tok.Error != code {
		t.Fatalf("%s: %d %q (%s), want %d %q", what, tok.status, tok.Error, tok.ErrorDescription, status, code)
	}
}

func TestCodeFlowWithPKCE(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	verifier := newVerifier()
	got := e.authorize(url.Values{"scope": {"profile items:read items:write"},
		"code_challenge": {S256Challenge(verifier)}, "code_challenge_method": {"S256"}})
	if got.Get("state") != "state-123" || !strings.HasPrefix(got.Get("code"), "code_") {
		t.Fatalf("redirect query = %v, want a code and state=state-123", got)
	}
	tok := e.token(url.Values{"grant_type": {"authorization_code"}, "code": {got.Get("code")},
		"redirect_uri": {redirectURI}, "code_verifier": {verifier}})
	if tok.status != http.StatusOK || tok.AccessToken == "" || tok.RefreshToken == "" || tok.TokenType != "Bearer" ||
		tok.ExpiresIn != 3600 || tok.Scope != "profile items:read items:write" {
		t.Fatalf("token answer = %+v", tok)
	}
	status, who := e.whoami(tok.AccessToken)
	wantStatus(t, "whoami", status, http.StatusOK)
	if !strings.HasPrefix(who.Account.ID, "acct_") || who.Account.Name != AccountName ||
		!slices.Equal(who.Scopes, []string{"profile", "items:read", "items:write"}) {
		t.Fatalf("whoami = %+v", who)
	}
	// The account id is stable for the client across grants.
	if _, again := e.whoami(e.connect().AccessToken); again.Account.ID != who.Account.ID {
		t.Fatalf("second grant's account = %s, want %s", again.Account.ID, who.Account.ID)
	}
	auths := e.v.Authorizations()
	if len(auths) != 2 || auths[0].ClientID != DefaultClientID || auths[0].CodeChallengeMethod != "S256" ||
		auths[0].State != "state-123" || !slices.Equal(auths[0].Granted, []string{"profile", "items:read", "items:write"}) {
		t.Fatalf("Authorizations() = %+v", auths)
	}
	if !slices.Equal(auths[1].Requested, DefaultScopes) {
		t.Fatalf("no scope requested %v, want the defaults %v", auths[1].Requested, DefaultScopes)
	}
	if e.v.TokenRequests() != 2 || e.v.RefreshRequests() != 0 {
		t.Fatalf("TokenRequests %d RefreshRequests %d, want 2 and 0", e.v.TokenRequests(), e.v.RefreshRequests())
	}
}

func TestClientAuthInBody(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.v.AddClient("app", "s3cret", "https://app.example/callback")
	verifier := newVerifier()
	got := e.authorize(url.Values{"client_id": {"app"}, "redirect_uri": {"https://app.example/callback"},
		"code_challenge": {S256Challenge(verifier)}, "code_challenge_method": {"S256"}})
	form := url.Values{"grant_type": {"authorization_code"}, "code": {got.Get("code")},
		"redirect_uri": {"https://app.example/callback"}, "code_verifier": {verifier},
		"client_id": {"app"}, "client_secret": {"s3cret"}}
	resp, body := e.post("/oauth/token", form)
	wantStatus(t, "token with body auth: "+string(body), resp.StatusCode, http.StatusOK)

	tests := []struct {
		name  string
		form  url.Values
		basic []string
	}{
		{"wrong secret in body", url.Values{"client_id": {"app"}, "client_secret": {"nope"}}, nil},
		{"wrong Basic", nil, []string{"app", "nope"}},
		{"unknown client", url.Values{"client_id": {"ghost"}, "client_secret": {"x"}}, nil},
		{"no client auth", nil, nil},
		{"body and Basic differ", url.Values{"client_id": {DefaultClientID}}, []string{"app", "s3cret"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			form := url.Values{"grant_type": {"client_credentials"}}
			for k, vs := range tt.form {
				form[k] = vs
			}
			resp, body := e.with(t).post("/oauth/token", form, tt.basic...)
			if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), `"invalid_client"`) {
				t.Fatalf("got %d %s, want 401 invalid_client", resp.StatusCode, body)
			}
		})
	}
}

func TestAuthorizeErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	challenge := S256Challenge(newVerifier())
	pkce := url.Values{"code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	with := func(extra url.Values) url.Values {
		out := url.Values{}
		for k, vs := range pkce {
			out[k] = vs
		}
		for k, vs := range extra {
			out[k] = vs
		}
		return out
	}
	tests := []struct {
		name   string
		params url.Values
		want   string
	}{
		{"unknown scope", with(url.Values{"scope": {"profile admin"}}), "invalid_scope"},
		{"no PKCE", url.Values{}, "invalid_request"},
		{"plain PKCE", url.Values{"code_challenge": {challenge}, "code_challenge_method": {"plain"}}, "invalid_request"},
		{"PKCE without method", url.Values{"code_challenge": {challenge}}, "invalid_request"},
		{"short challenge", url.Values{"code_challenge": {"abc"}, "code_challenge_method": {"S256"}}, "invalid_request"},
		{"token response type", with(url.Values{"response_type": {"token"}}), "unsupported_response_type"},
		{"no response type", with(url.Values{"response_type": {""}}), "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := e.with(t).authorize(tt.params)
			if got.Get("error") != tt.want || got.Get("state") != "state-123" || got.Get("code") != "" {
				t.Fatalf("redirect query = %v, want error=%s and the state", got, tt.want)
			}
		})
	}

	// Errors about the client or its redirect URI are shown, not redirected.
	e.v.AddClient("app", "s3cret", "https://app.example/callback")
	for name, q := range map[string]url.Values{
		"unknown client":           {"client_id": {"ghost"}, "redirect_uri": {redirectURI}},
		"foreign redirect":         {"client_id": {DefaultClientID}, "redirect_uri": {"https://evil.example/cb"}},
		"unregistered redirect":    {"client_id": {"app"}, "redirect_uri": {"https://app.example/other"}},
		"missing redirect":         {"client_id": {DefaultClientID}},
		"default client, non-http": {"client_id": {DefaultClientID}, "redirect_uri": {"ftp://127.0.0.1/cb"}},
	} {
		q.Set("response_type", "code")
		resp, _ := e.get("/oauth/authorize?"+q.Encode(), "")
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
			t.Errorf("%s: status %d Location %q, want 400 and no redirect", name, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
}

func TestPKCEOptional(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.v.SetRequirePKCE(false)
	got := e.authorize(nil)
	tok := e.token(url.Values{"grant_type": {"authorization_code"}, "code": {got.Get("code")},
		"redirect_uri": {redirectURI}})
	wantStatus(t, "exchange without PKCE", tok.status, http.StatusOK)

	// A public client must use PKCE even then.
	e.v.AddClient("spa", "")
	if got := e.authorize(url.Values{"client_id": {"spa"}}); got.Get("error") != "invalid_request" {
		t.Fatalf("public client without PKCE: %v, want invalid_request", got)
	}
}

func TestDenyAuthorization(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.v.SetDenyAuthorization(true)
	pkce := url.Values{"code_challenge": {S256Challenge(newVerifier())}, "code_challenge_method": {"S256"}}
	got := e.authorize(pkce)
	if got.Get("error") != "access_denied" || got.Get("state") != "state-123" || got.Get("code") != "" {
		t.Fatalf("denied: %v, want error=access_denied with the state", got)
	}
	if a := e.v.Authorizations(); len(a) != 1 || !a[0].Denied || a[0].Granted != nil {
		t.Fatalf("Authorizations() = %+v, want one denied", a)
	}
	e.v.SetDenyAuthorization(false)
	if got := e.authorize(pkce); got.Get("code") == "" {
		t.Fatalf("approved again: %v, want a code", got)
	}
}

func TestGrantFewerScopes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.v.SetGrantScopes("profile", "items:write")
	tok := e.connect("profile", "items:read")
	if tok.Scope != "profile" {
		t.Fatalf("scope = %q, want the narrowed %q", tok.Scope, "profile")
	}
	resp, body := e.get("/api/items", tok.AccessToken)
	if resp.StatusCode != http.StatusForbidden ||
		resp.Header.Get("WWW-Authenticate") != `Bearer error="insufficient_scope", scope="items:read"` ||
		!strings.Contains(string(body), `"scope":"items:read"`) {
		t.Fatalf("items without items:read: %d %q %s", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), body)
	}
	if a := e.v.Authorizations(); !slices.Equal(a[0].Granted, []string{"profile"}) ||
		!slices.Equal(a[0].Requested, []string{"profile", "items:read"}) {
		t.Fatalf("recorded %+v", a[0])
	}
	e.v.SetGrantScopes()
	if tok := e.connect("profile", "items:read"); tok.Scope != "profile items:read" {
		t.Fatalf("after clearing, scope = %q", tok.Scope)
	}
}

func TestCodeExchangeErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// code starts an authorization and returns its code and verifier.
	code := func() (string, string) {
		v := newVerifier()
		got := e.authorize(url.Values{"code_challenge": {S256Challenge(v)}, "code_challenge_method": {"S256"}})
		return got.Get("code"), v
	}
	exchange := func(code, redirect, verifier string) tokens {
		return e.token(url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {redirect}, "code_verifier": {verifier}})
	}

	c, v := code()
	wantError(t, "wrong verifier", exchange(c, redirectURI, newVerifier()), 400, "invalid_grant")
	wantError(t, "code burnt by the failed attempt", exchange(c, redirectURI, v), 400, "invalid_grant")

	c, _ = code()
	wantError(t, "no verifier", exchange(c, redirectURI, ""), 400, "invalid_grant")

	c, v = code()
	wantError(t, "other redirect_uri", exchange(c, "http://127.0.0.1:9/other", v), 400, "invalid_grant")

	c, v = code()
	e.v.Advance(CodeLifetime + time.Second)
	wantError(t, "expired code", exchange(c, redirectURI, v), 400, "invalid_grant")

	wantError(t, "unknown code", exchange("code_nope", redirectURI, v), 400, "invalid_grant")

	// A replayed code fails and revokes what the first exchange produced.
	c, v = code()
	tok := exchange(c, redirectURI, v)
	wantStatus(t, "first exchange", tok.status, http.StatusOK)
	wantError(t, "replayed code", exchange(c, redirectURI, v), 400, "invalid_grant")
	if !e.v.Revoked(tok.AccessToken) || !e.v.Revoked(tok.RefreshToken) {
		t.Fatal("tokens of a replayed code are not revoked")
	}
	if status, _ := e.whoami(tok.AccessToken); status != http.StatusUnauthorized {
		t.Fatalf("whoami after code replay: %d, want 401", status)
	}

	wantError(t, "unknown grant type", e.token(url.Values{"grant_type": {"password"}}), 400, "unsupported_grant_type")
	resp, _ := e.post("/oauth/token", nil, DefaultClientID, DefaultClientSecret)
	wantStatus(t, "no grant type", resp.StatusCode, http.StatusBadRequest)
}

func TestRefreshRotationAndReuse(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	first := e.connect()
	second := e.refresh(first.RefreshToken)
	if second.status != http.StatusOK || second.RefreshToken == "" || second.RefreshToken == first.RefreshToken ||
		second.AccessToken == first.AccessToken || second.Scope != first.Scope {
		t.Fatalf("refresh = %+v, want new tokens with the same scope", second)
	}
	third := e.refresh(second.RefreshToken)
	wantStatus(t, "refresh of the new token", third.status, http.StatusOK)
	if e.v.RefreshRequests() != 2 || e.v.TokenRequests() != 3 {
		t.Fatalf("RefreshRequests %d TokenRequests %d, want 2 and 3", e.v.RefreshRequests(), e.v.TokenRequests())
	}

	// Narrowing the scope on refresh works; widening it does not.
	narrow := e.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {third.RefreshToken},
		"scope": {"profile"}})
	if narrow.status != http.StatusOK || narrow.Scope != "profile" {
		t.Fatalf("narrowing refresh = %+v", narrow)
	}
	wide := e.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {narrow.RefreshToken},
		"scope": {"items:write"}})
	wantError(t, "widening refresh", wide, 400, "invalid_scope")

	// Reusing a rotated-out token fails and revokes the whole grant.
	wantError(t, "reuse", e.refresh(first.RefreshToken), 400, "invalid_grant")
	latest := narrow.RefreshToken
	if tok := e.refresh(latest); tok.status != 400 || !strings.Contains(tok.ErrorDescription, "revoked") {
		t.Fatalf("latest token after reuse: %+v, want invalid_grant with revoked", tok)
	}
	if status, _ := e.whoami(third.AccessToken); status != http.StatusUnauthorized {
		t.Fatalf("access token after reuse: %d, want 401", status)
	}
	if !e.v.Revoked(latest) || !e.v.Revoked(second.AccessToken) {
		t.Fatal("Revoked is false for tokens of a grant revoked by reuse detection")
	}
	// Other grants are not touched.
	if status, _ := e.whoami(e.connect().AccessToken); status != http.StatusOK {
		t.Fatalf("another grant: %d, want 200", status)
	}
	// Another client cannot use this client's refresh tokens.
	e.v.AddClient("other", "pw")
	resp, body := e.post("/oauth/token", url.Values{"grant_type": {"refresh_token"},
		"refresh_token": {e.connect().RefreshToken}}, "other", "pw")
	if resp.StatusCode != 400 || !strings.Contains(string(body), "invalid_grant") {
		t.Fatalf("refresh by another client: %d %s", resp.StatusCode, body)
	}
}

func TestTokenLifetime(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.v.SetTokenLifetime(5 * time.Minute)
	tok := e.connect()
	if tok.ExpiresIn != 300 {
		t.Fatalf("expires_in = %d, want 300", tok.ExpiresIn)
	}
	e.v.Advance(5 * time.Minute)
	resp, body := e.get("/api/whoami", tok.AccessToken)
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") != `Bearer error="invalid_token"` ||
		!strings.Contains(string(body), "expired") {
		t.Fatalf("expired token: %d %q %s", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), body)
	}
	if e.v.Revoked(tok.AccessToken) {
		t.Fatal("an expired token counts as revoked")
	}
	fresh := e.refresh(tok.RefreshToken)
	if status, _ := e.whoami(fresh.AccessToken); status != http.StatusOK {
		t.Fatalf("refreshed token: %d, want 200", status)
	}
	e.v.SetTokenLifetime(0)
	if tok := e.refresh(fresh.RefreshToken); tok.ExpiresIn != 3600 {
		t.Fatalf("expires_in after reset = %d, want 3600", tok.ExpiresIn)
	}
}

func TestNewServerClose(t *testing.T) {
	t.Parallel()
	v := NewServer()
	u, err := url.Parse(v.URL())
	if err != nil || u.Hostname() != "127.0.0.1" {
		t.Fatalf("URL() = %q, want one on 127.0.0.1", v.URL())
	}
	resp, err := v.Client().Get(v.URL() + "/docs")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	wantStatus(t, "docs", resp.StatusCode, http.StatusOK)
	v.Close()
	v.Close() // harmless
	if resp, err := http.Get(v.URL() + "/docs"); err == nil {
		resp.Body.Close()
		t.Fatal("the server still answers after Close")
	}
}
