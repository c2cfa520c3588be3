package fakevendor

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The client every Vendor knows from the start. It accepts any redirect URI
// on a loopback host (127.0.0.1, localhost or [::1]), on any port.
const (
	DefaultClientID     = "fake-client"
	DefaultClientSecret = "fake-secret"
)

// The scopes the fake vendor offers.
const (
	ScopeItemsRead  = "items:read"
	ScopeItemsWrite = "items:write"
	ScopeProfile    = "profile"
)

// Scopes lists every scope the vendor knows; others are invalid_scope.
var Scopes = []string{ScopeItemsRead, ScopeItemsWrite, ScopeProfile}

// DefaultScopes are granted when an authorization or client-credentials
// request names no scope.
var DefaultScopes = []string{ScopeProfile, ScopeItemsRead}

// AccountName is the account name /api/whoami answers.
const AccountName = "Fake Vendor Account"

// Defaults of the settings a test can change.
const (
	DefaultTokenLifetime = time.Hour
	DefaultItemCount     = 25
	DefaultPageSize      = 10
	// CodeLifetime is how long an authorization code can be exchanged.
	CodeLifetime = 60 * time.Second
)

// docs is what GET /docs answers, so the connector's DocsURL resolves.
const docs = `Fake Vendor API (Patchbay's test fake)

GET  /oauth/authorize  auto-approves; redirects with ?code=&state=
POST /oauth/token      authorization_code, refresh_token, client_credentials
POST /oauth/revoke     RFC 7009
GET  /api/whoami       needs no scope
GET  /api/items        needs items:read; ?cursor=&limit=
POST /api/items        needs items:write; honours Idempotency-Key
`

// maxBody bounds every request body the vendor reads.
const maxBody = 1 << 20

// Vendor is a running fake vendor. Make one with [New] or [NewServer].
type Vendor struct {
	srv  *httptest.Server
	done chan struct{} // closed by Close, so slow answers stop waiting

	tokenRequests   atomic.Int64
	refreshRequests atomic.Int64

	mu       sync.Mutex
	clients  map[string]*oauthClient
	codes    map[string]*authCode
	access   map[string]*accessToken
	refresh  map[string]*refreshToken
	apiKeys  map[string][]string // key → scopes
	basics   map[string]string   // user → password
	idem     map[string]*idemEntry
	items    []item
	nextItem int

	echoCalls int // answered by /api/echo/ (proxy.go)

	requirePKCE   bool
	denyAuth      bool
	grantScopes   []string // nil: grant what is asked
	tokenLifetime time.Duration
	accountID     string // "" derives one from the client or key
	pageSize      int
	skew          time.Duration // added to time.Now by Advance

	faults faults

	authorizations []Authorization
	revocations    []string
	requests       []Request
}

// New starts a Vendor for a test on 127.0.0.1 and closes it when the test
// and its subtests end.
func New(t testing.TB) *Vendor {
	t.Helper()
	v := NewServer()
	t.Cleanup(v.Close)
	return v
}

// NewServer starts a Vendor on 127.0.0.1 that serves until [Vendor.Close],
// for use outside a test (a process-level fake for end-to-end tests).
func NewServer() *Vendor {
	v := &Vendor{
		done:          make(chan struct{}),
		clients:       map[string]*oauthClient{},
		codes:         map[string]*authCode{},
		access:        map[string]*accessToken{},
		refresh:       map[string]*refreshToken{},
		apiKeys:       map[string][]string{},
		basics:        map[string]string{},
		idem:          map[string]*idemEntry{},
		requirePKCE:   true,
		tokenLifetime: DefaultTokenLifetime,
		pageSize:      DefaultPageSize,
	}
	v.clients[DefaultClientID] = &oauthClient{id: DefaultClientID, secret: DefaultClientSecret}
	v.seedItems(DefaultItemCount)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /oauth/authorize", v.authorize)
	mux.HandleFunc("POST /oauth/token", v.token)
	mux.HandleFunc("POST /oauth/revoke", v.revoke)
	mux.HandleFunc("GET /api/whoami", v.whoami)
	mux.HandleFunc("GET /api/items", v.listItems)
	mux.HandleFunc("POST /api/items", v.createItem)
	v.routeProxy(mux)
	mux.HandleFunc("GET /api/records", v.listRecords)
	mux.HandleFunc("GET /docs", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, docs)
	})
	v.srv = httptest.NewUnstartedServer(v.middleware(mux))
	// httptest listens on 127.0.0.1 already; say so, in case its
	// -httptest.serve flag is set.
	if l, err := net.Listen("tcp", "127.0.0.1:0"); err == nil {
		v.srv.Listener.Close()
		v.srv.Listener = l
	}
	v.srv.Start()
	return v
}

// Close stops the server, cutting short any answer delayed by
// [Vendor.SetLatency]. Calling it twice is harmless.
func (v *Vendor) Close() {
	v.mu.Lock()
	select {
	case <-v.done:
		v.mu.Unlock()
		return
	default:
		close(v.done)
	}
	v.mu.Unlock()
	v.srv.Close()
}

// URL is the server's root, e.g. "http://127.0.0.1:40123", without a
// trailing slash.
func (v *Vendor) URL() string { return v.srv.URL }

// Client is an *http.Client for talking to the server.
func (v *Vendor) Client() *http.Client { return v.srv.Client() }

// AddClient registers an OAuth client. With no redirect URIs, it accepts
// any loopback redirect URI as the default client does; otherwise the
// redirect URI must be one of them exactly. An empty secret makes a public
// client, which authenticates with its client_id alone (and so must use
// PKCE when it is required). Adding an existing id replaces it.
func (v *Vendor) AddClient(id, secret string, redirectURIs ...string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.clients[id] = &oauthClient{id: id, secret: secret, redirectURIs: slices.Clone(redirectURIs)}
}

// AddAPIKey makes key valid for the API, in X-Api-Key or as a Bearer
// token, with the given scopes; with none, it has every scope.
func (v *Vendor) AddAPIKey(key string, scopes ...string) {
	if len(scopes) == 0 {
		scopes = Scopes
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.apiKeys[key] = slices.Clone(scopes)
}

// AddBasic makes user and pass valid for the API as HTTP Basic
// credentials, with every scope.
func (v *Vendor) AddBasic(user, pass string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.basics[user] = pass
}

// SetRequirePKCE says whether /oauth/authorize requires an S256
// code_challenge (true by default). A challenge that is sent is always
// checked.
func (v *Vendor) SetRequirePKCE(require bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.requirePKCE = require
}

// SetDenyAuthorization makes /oauth/authorize redirect with
// error=access_denied, as if the user clicked "Deny"; false restores
// approval.
func (v *Vendor) SetDenyAuthorization(deny bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.denyAuth = deny
}

// SetGrantScopes narrows later authorizations: the vendor grants only the
// requested scopes that are among these, as a user unticking boxes would.
// With no scopes, it grants what is asked again.
func (v *Vendor) SetGrantScopes(scopes ...string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(scopes) == 0 {
		v.grantScopes = nil
		return
	}
	v.grantScopes = slices.Clone(scopes)
}

// SetTokenLifetime sets the lifetime of access tokens issued from now on
// (1h by default); d <= 0 restores the default.
func (v *Vendor) SetTokenLifetime(d time.Duration) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if d <= 0 {
		d = DefaultTokenLifetime
	}
	v.tokenLifetime = d
}

// SetAccountID sets the account id of grants made from now on, and of API
// key and Basic callers. With "", each grant's account id derives from its
// client id (and an API caller's from its key or user name), so it is
// stable across reconnections.
func (v *Vendor) SetAccountID(id string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.accountID = id
}

// SetItemCount replaces the items /api/items lists with n generated ones
// (25 by default), item_0001 to item_n.
func (v *Vendor) SetItemCount(n int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.seedItems(max(n, 0))
}

// SetPageSize sets how many items a page of /api/items holds when the
// request has no limit (10 by default); n <= 0 restores the default.
func (v *Vendor) SetPageSize(n int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if n <= 0 {
		n = DefaultPageSize
	}
	v.pageSize = n
}

// Advance moves the vendor's clock forward by d, so codes and tokens
// expire without the test sleeping.
func (v *Vendor) Advance(d time.Duration) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.skew += d
}

// now is the vendor's clock; v.mu must be held.
func (v *Vendor) now() time.Time { return time.Now().Add(v.skew) }

// TokenRequests counts every request to /oauth/token, failed ones included.
func (v *Vendor) TokenRequests() int { return int(v.tokenRequests.Load()) }

// RefreshRequests counts the requests to /oauth/token with
// grant_type=refresh_token, failed ones included.
func (v *Vendor) RefreshRequests() int { return int(v.refreshRequests.Load()) }

// Authorization is one request to /oauth/authorize that reached a decision
// (approved or denied; malformed requests are not recorded).
type Authorization struct {
	ClientID            string
	RedirectURI         string
	State               string
	Requested           []string // scopes asked for (DefaultScopes when none)
	Granted             []string // scopes granted; nil when denied
	CodeChallenge       string
	CodeChallengeMethod string
	Denied              bool
	Time                time.Time
}

// Authorizations returns the decided authorization requests, oldest first.
func (v *Vendor) Authorizations() []Authorization {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make([]Authorization, len(v.authorizations))
	for i, a := range v.authorizations {
		a.Requested, a.Granted = slices.Clone(a.Requested), slices.Clone(a.Granted)
		out[i] = a
	}
	return out
}

// Revocations returns the tokens named in authenticated requests to
// /oauth/revoke, oldest first, unknown tokens included.
func (v *Vendor) Revocations() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return slices.Clone(v.revocations)
}

// Revoked reports whether token is an access or refresh token the vendor
// issued that has since been revoked: through /oauth/revoke, refresh-token
// reuse detection, reuse of an authorization code, or [Vendor.RevokeAll].
// It is false for unknown tokens, and for live, expired or merely rotated
// ones.
func (v *Vendor) Revoked(token string) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	if at, ok := v.access[token]; ok {
		return at.revoked || at.grant.revoked
	}
	if rt, ok := v.refresh[token]; ok {
		return rt.grant.revoked
	}
	return false
}

// Request is one request the vendor received.
type Request struct {
	Method string
	Path   string
	Query  string // raw query, unredacted
	// Header is a copy of the request's headers with the credential of
	// Authorization (its scheme is kept: "Bearer REDACTED") and
	// X-Api-Key replaced by REDACTED.
	Header http.Header
	// Body is the request body of /api/ calls; nil for /oauth/ calls,
	// whose bodies carry secrets.
	Body   []byte
	Status int // the status the vendor answered
	Time   time.Time
}

// Requests returns the requests received so far, in the order their
// answers were written.
func (v *Vendor) Requests() []Request {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make([]Request, len(v.requests))
	for i, r := range v.requests {
		r.Header = r.Header.Clone()
		r.Body = slices.Clone(r.Body)
		out[i] = r
	}
	return out
}

// Redacted is what replaces credentials in [Request.Header].
const Redacted = "REDACTED"

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// middleware logs every request and applies the injected latency and
// failures before the handler runs.
func (v *Vendor) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: redact(r.Header)}
		v.mu.Lock()
		rec.Time = v.now()
		v.mu.Unlock()
		if strings.HasPrefix(r.URL.Path, "/api/") && r.Body != nil {
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
			if err != nil {
				writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"error": "request_too_large"})
				return
			}
			rec.Body = body
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		sw := &statusRecorder{ResponseWriter: w}
		defer func() {
			rec.Status = sw.status
			v.mu.Lock()
			v.requests = append(v.requests, rec)
			v.mu.Unlock()
		}()

		if !v.sleep(r) {
			sw.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		if r.URL.Path == "/oauth/token" {
			v.tokenRequests.Add(1)
			if r.ParseForm() == nil && r.PostForm.Get("grant_type") == "refresh_token" {
				v.refreshRequests.Add(1)
			}
		}
		if faultable(r.URL.Path) && v.injectFault(sw) {
			return
		}
		next.ServeHTTP(sw, r)
	})
}

// redact copies h without its credentials.
func redact(h http.Header) http.Header {
	h = h.Clone()
	if h == nil {
		h = http.Header{}
	}
	if a := h.Get("Authorization"); a != "" {
		scheme, _, _ := strings.Cut(a, " ")
		h.Set("Authorization", scheme+" "+Redacted)
	}
	if h.Get("X-Api-Key") != "" {
		h.Set("X-Api-Key", Redacted)
	}
	return h
}

// writeJSON answers status with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// randomToken is prefix followed by 32 random bytes in hex.
func randomToken(prefix string) string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return prefix + hex.EncodeToString(b)
}

// deriveAccountID is a stable account id for subject.
func deriveAccountID(subject string) string {
	sum := sha256.Sum256([]byte(subject))
	return "acct_" + hex.EncodeToString(sum[:8])
}

// accountFor is the account id of a new grant or an API caller; v.mu must
// be held.
func (v *Vendor) accountFor(subject string) string {
	if v.accountID != "" {
		return v.accountID
	}
	return deriveAccountID(subject)
}

// isLoopbackRedirect reports whether raw is an http(s) URL on a loopback
// host.
func isLoopbackRedirect(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Fragment != "" {
		return false
	}
	switch u.Hostname() {
	case "127.0.0.1", "localhost", "::1":
		return true
	}
	return false
}
