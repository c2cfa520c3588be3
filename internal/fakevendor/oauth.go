package fakevendor

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"math"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// oauthClient is a registered OAuth client.
type oauthClient struct {
	id, secret   string
	redirectURIs []string // empty: any loopback URI
}

func (c *oauthClient) allowsRedirect(uri string) bool {
	if len(c.redirectURIs) == 0 {
		return isLoopbackRedirect(uri)
	}
	return slices.Contains(c.redirectURIs, uri)
}

// grant is one authorization: what a code exchange or a client-credentials
// request created, and what every refresh continues.
type grant struct {
	clientID  string
	accountID string
	scopes    []string
	revoked   bool
	why       string // why it was revoked; contains "revoked"
}

func (g *grant) revoke(why string) {
	if !g.revoked {
		g.revoked, g.why = true, why
	}
}

type authCode struct {
	clientID    string
	redirectURI string
	challenge   string // "" when the request had no PKCE
	scopes      []string
	accountID   string
	expires     time.Time
	used        bool
	grant       *grant // set by the exchange, revoked if the code is replayed
}

type accessToken struct {
	grant   *grant
	scopes  []string
	expires time.Time
	revoked bool
}

type refreshToken struct {
	grant *grant
	used  bool // rotated out; presenting it again is reuse
}

// oauthError is an RFC 6749 section 5.2 error answer.
type oauthError struct {
	status      int
	code        string
	description string
}

func (e *oauthError) write(w http.ResponseWriter) {
	if e.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="fakevendor"`)
	}
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, e.status, map[string]string{"error": e.code, "error_description": e.description})
}

func badRequest(code, format string, args ...any) *oauthError {
	return &oauthError{status: http.StatusBadRequest, code: code, description: fmt.Sprintf(format, args...)}
}

func invalidClient(description string) *oauthError {
	return &oauthError{status: http.StatusUnauthorized, code: "invalid_client", description: description}
}

// authorize serves GET /oauth/authorize. Errors about the client or the
// redirect URI are shown (400, plain text) rather than redirected, as RFC
// 6749 section 4.1.2.1 requires; the others redirect with error=.
func (v *Vendor) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	clientID, redirectURI, state := q.Get("client_id"), q.Get("redirect_uri"), q.Get("state")

	v.mu.Lock()
	defer v.mu.Unlock()
	c := v.clients[clientID]
	if c == nil {
		http.Error(w, "fakevendor: unknown client_id", http.StatusBadRequest)
		return
	}
	if redirectURI == "" || !c.allowsRedirect(redirectURI) {
		http.Error(w, "fakevendor: redirect_uri missing or not registered for this client", http.StatusBadRequest)
		return
	}
	target, err := url.Parse(redirectURI)
	if err != nil {
		http.Error(w, "fakevendor: bad redirect_uri", http.StatusBadRequest)
		return
	}
	redirect := func(params map[string]string) {
		tq := target.Query()
		for k, val := range params {
			tq.Set(k, val)
		}
		if state != "" {
			tq.Set("state", state)
		}
		target.RawQuery = tq.Encode()
		// The target is a redirect URI registered for the client (checked
		// above), which is what an authorization server redirects to.
		w.Header().Set("Location", target.String())
		w.WriteHeader(http.StatusFound)
	}
	fail := func(code, description string) {
		redirect(map[string]string{"error": code, "error_description": description})
	}

	for k, vals := range q {
		if len(vals) > 1 {
			fail("invalid_request", "parameter "+k+" repeated")
			return
		}
	}
	switch q.Get("response_type") {
	case "code":
	case "":
		fail("invalid_request", "response_type missing")
		return
	default:
		fail("unsupported_response_type", "only response_type=code is supported")
		return
	}
	requested := uniq(strings.Fields(q.Get("scope")))
	if len(requested) == 0 {
		requested = slices.Clone(DefaultScopes)
	}
	for _, s := range requested {
		if !slices.Contains(Scopes, s) {
			fail("invalid_scope", "unknown scope "+s)
			return
		}
	}
	challenge, method := q.Get("code_challenge"), q.Get("code_challenge_method")
	switch {
	case challenge == "" && (v.requirePKCE || c.secret == ""):
		fail("invalid_request", "code_challenge required")
		return
	case challenge == "" && method != "":
		fail("invalid_request", "code_challenge_method without code_challenge")
		return
	case challenge != "" && method != "S256":
		fail("invalid_request", "code_challenge_method must be S256")
		return
	case challenge != "" && !validPKCEString(challenge):
		fail("invalid_request", "code_challenge malformed")
		return
	}

	rec := Authorization{
		ClientID: clientID, RedirectURI: redirectURI, State: state, Requested: requested,
		CodeChallenge: challenge, CodeChallengeMethod: method, Time: v.now(),
	}
	if v.denyAuth {
		rec.Denied = true
		v.authorizations = append(v.authorizations, rec)
		fail("access_denied", "the user denied the request")
		return
	}
	granted := requested
	if v.grantScopes != nil {
		granted = []string{}
		for _, s := range requested {
			if slices.Contains(v.grantScopes, s) {
				granted = append(granted, s)
			}
		}
	}
	rec.Granted = granted
	v.authorizations = append(v.authorizations, rec)

	code := randomToken("code_")
	v.codes[code] = &authCode{
		clientID: clientID, redirectURI: redirectURI, challenge: challenge, scopes: slices.Clone(granted),
		accountID: v.accountFor(clientID), expires: v.now().Add(CodeLifetime),
	}
	redirect(map[string]string{"code": code})
}

// token serves POST /oauth/token.
func (v *Vendor) token(w http.ResponseWriter, r *http.Request) {
	if e := checkForm(r); e != nil {
		e.write(w)
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	c, e := v.authClient(r)
	if e != nil {
		e.write(w)
		return
	}
	form := r.PostForm
	var resp *tokenResponse
	switch form.Get("grant_type") {
	case "authorization_code":
		resp, e = v.exchangeCode(c, form)
	case "refresh_token":
		resp, e = v.refreshGrant(c, form)
	case "client_credentials":
		resp, e = v.clientCredentials(c, form)
	case "":
		e = badRequest("invalid_request", "grant_type missing")
	default:
		e = badRequest("unsupported_grant_type", "grant_type %q is not supported", form.Get("grant_type"))
	}
	if e != nil {
		e.write(w)
		return
	}
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, resp)
}

// tokenResponse is RFC 6749 section 5.1's answer.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	Scope        string `json:"scope"`
	RefreshToken string `json:"refresh_token,omitempty"`
}

func (v *Vendor) exchangeCode(c *oauthClient, form url.Values) (*tokenResponse, *oauthError) {
	ac := v.codes[form.Get("code")]
	switch {
	case ac == nil:
		return nil, badRequest("invalid_grant", "unknown authorization code")
	case ac.clientID != c.id:
		return nil, badRequest("invalid_grant", "authorization code was issued to another client")
	case ac.used:
		// RFC 6749 section 4.1.2: a replayed code revokes what it produced.
		if ac.grant != nil {
			ac.grant.revoke("grant revoked: authorization code reused")
		}
		return nil, badRequest("invalid_grant", "authorization code already used")
	}
	ac.used = true // single use, whatever happens next
	if v.now().After(ac.expires) {
		return nil, badRequest("invalid_grant", "authorization code expired")
	}
	if form.Get("redirect_uri") != ac.redirectURI {
		return nil, badRequest("invalid_grant", "redirect_uri does not match the authorization request")
	}
	verifier := form.Get("code_verifier")
	switch {
	case ac.challenge == "" && verifier != "":
		return nil, badRequest("invalid_grant", "code_verifier sent but the authorization request had no code_challenge")
	case ac.challenge != "" && verifier == "":
		return nil, badRequest("invalid_grant", "code_verifier required")
	case ac.challenge != "" && (!validPKCEString(verifier) || S256Challenge(verifier) != ac.challenge):
		return nil, badRequest("invalid_grant", "code_verifier does not match code_challenge")
	}
	g := newGrant(c.id, ac.accountID, ac.scopes)
	ac.grant = g
	return v.issue(g, g.scopes, true), nil
}

func (v *Vendor) refreshGrant(c *oauthClient, form url.Values) (*tokenResponse, *oauthError) {
	if v.faults.invalidGrant {
		return nil, badRequest("invalid_grant", "refresh token is invalid")
	}
	rt := v.refresh[form.Get("refresh_token")]
	switch {
	case rt == nil:
		return nil, badRequest("invalid_grant", "unknown refresh token")
	case rt.grant.clientID != c.id:
		return nil, badRequest("invalid_grant", "refresh token was issued to another client")
	case rt.grant.revoked:
		return nil, badRequest("invalid_grant", "%s", rt.grant.why)
	case rt.used:
		// Reuse detection: an old refresh token coming back means two
		// parties hold the grant, so the whole grant goes.
		rt.grant.revoke("grant revoked: refresh token reused")
		return nil, badRequest("invalid_grant", "refresh token already used; grant revoked")
	}
	scopes := rt.grant.scopes
	if s := uniq(strings.Fields(form.Get("scope"))); len(s) > 0 {
		for _, one := range s {
			if !slices.Contains(rt.grant.scopes, one) {
				return nil, badRequest("invalid_scope", "scope %s was not granted", one)
			}
		}
		scopes = s
	}
	rt.used = true
	return v.issue(rt.grant, scopes, true), nil
}

func (v *Vendor) clientCredentials(c *oauthClient, form url.Values) (*tokenResponse, *oauthError) {
	if c.secret == "" {
		return nil, badRequest("unauthorized_client", "public clients cannot use client_credentials")
	}
	scopes := uniq(strings.Fields(form.Get("scope")))
	if len(scopes) == 0 {
		scopes = slices.Clone(DefaultScopes)
	}
	for _, s := range scopes {
		if !slices.Contains(Scopes, s) {
			return nil, badRequest("invalid_scope", "unknown scope %s", s)
		}
	}
	g := newGrant(c.id, v.accountFor(c.id), scopes)
	return v.issue(g, scopes, false), nil
}

// newGrant starts a grant; its tokens keep it alive.
func newGrant(clientID, accountID string, scopes []string) *grant {
	return &grant{clientID: clientID, accountID: accountID, scopes: slices.Clone(scopes)}
}

// issue mints an access token (and a refresh token) for g; v.mu must be
// held.
func (v *Vendor) issue(g *grant, scopes []string, withRefresh bool) *tokenResponse {
	at := randomToken("at_")
	v.access[at] = &accessToken{grant: g, scopes: slices.Clone(scopes), expires: v.now().Add(v.tokenLifetime)}
	resp := &tokenResponse{
		AccessToken: at, TokenType: "Bearer", Scope: strings.Join(scopes, " "),
		ExpiresIn: int(math.Ceil(v.tokenLifetime.Seconds())),
	}
	if withRefresh {
		resp.RefreshToken = randomToken("rt_")
		v.refresh[resp.RefreshToken] = &refreshToken{grant: g}
	}
	return resp
}

// revoke serves POST /oauth/revoke (RFC 7009). Revoking an access token
// revokes that token; revoking a refresh token revokes its grant, with
// every access token of it. Unknown tokens get 200 too.
func (v *Vendor) revoke(w http.ResponseWriter, r *http.Request) {
	if e := checkForm(r); e != nil {
		e.write(w)
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	c, e := v.authClient(r)
	if e != nil {
		e.write(w)
		return
	}
	token := r.PostForm.Get("token")
	if token == "" {
		badRequest("invalid_request", "token missing").write(w)
		return
	}
	// token_type_hint only speeds up a real server's lookup; both kinds
	// are looked up here whatever it says.
	at, rt := v.access[token], v.refresh[token]
	if (at != nil && at.grant.clientID != c.id) || (rt != nil && rt.grant.clientID != c.id) {
		badRequest("unauthorized_client", "token was issued to another client").write(w)
		return
	}
	v.revocations = append(v.revocations, token)
	if at != nil {
		at.revoked = true
	}
	if rt != nil {
		rt.grant.revoke("grant revoked: refresh token revoked by the client")
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

// checkForm parses a form-encoded POST body.
func checkForm(r *http.Request) *oauthError {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return badRequest("invalid_request", "body must be application/x-www-form-urlencoded")
	}
	r.Body = http.MaxBytesReader(nil, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		return badRequest("invalid_request", "malformed form body")
	}
	return nil
}

// authClient authenticates the client of a token or revocation request,
// by HTTP Basic or by client_id and client_secret in the body; both are
// accepted, and must agree when both are sent. v.mu must be held.
func (v *Vendor) authClient(r *http.Request) (*oauthClient, *oauthError) {
	form := r.PostForm
	id, secret := form.Get("client_id"), form.Get("client_secret")
	if bid, bsecret, ok := r.BasicAuth(); ok {
		// RFC 6749 section 2.3.1: both are form-encoded before Basic.
		bid, bsecret = formUnescape(bid), formUnescape(bsecret)
		if (id != "" && id != bid) || (form.Has("client_secret") && secret != bsecret) {
			return nil, invalidClient("client credentials in the Authorization header and the body differ")
		}
		id, secret = bid, bsecret
	}
	if id == "" {
		return nil, invalidClient("client authentication required")
	}
	c := v.clients[id]
	if c == nil {
		return nil, invalidClient("unknown client")
	}
	if subtle.ConstantTimeCompare([]byte(secret), []byte(c.secret)) != 1 {
		return nil, invalidClient("wrong client secret")
	}
	return c, nil
}

func formUnescape(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// S256Challenge is the PKCE S256 code_challenge of verifier:
// BASE64URL(SHA256(verifier)) without padding (RFC 7636 section 4.2).
func S256Challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// validPKCEString reports whether s is 43 to 128 unreserved characters, as
// RFC 7636 requires of verifiers and S256 challenges.
func validPKCEString(s string) bool {
	if len(s) < 43 || len(s) > 128 {
		return false
	}
	for _, c := range s {
		ok := c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~'
		if !ok {
			return false
		}
	}
	return true
}

// uniq drops repeated strings, keeping the first of each.
func uniq(ss []string) []string {
	out := ss[:0:0]
	for _, s := range ss {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
