package connection

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/patchbay/patchbay"
)

// AuthorizeRequest starts an OAuth authorization-code flow: to create a
// connection, or (ConnectionID set) to re-authorize one, for instance to
// change its scopes.
type AuthorizeRequest struct {
	Connector    string
	Scopes       []string // the connector's default scopes when empty
	DisplayName  string
	Config       map[string]string // non-secret fields, e.g. a Shopify shop
	ReturnTo     string            // where to send the operator afterwards: a path, or a URL under the public URL
	ConnectionID string
}

// Authorization is a started flow: the operator is sent to URL.
type Authorization struct {
	URL       string
	ExpiresAt time.Time
}

func randomString(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashState(state string) string {
	sum := sha256.Sum256([]byte(state))
	return hex.EncodeToString(sum[:])
}

// oauthConfig returns the x/oauth2 configuration of a connector for an
// org: its endpoints, and the org's (or the platform's) client.
func (s *Service) oauthConfig(ctx context.Context, orgID string, cn *patchbay.Connector, conn *patchbay.Connection, cred credential) (*oauth2.Config, error) {
	if cn.OAuth == nil {
		return nil, patchbay.Errorf(patchbay.EINVALID, "Connector %q does not use OAuth.", cn.Slug)
	}
	cl, err := s.store.FindOAuthClient(ctx, orgID, cn.Slug)
	if patchbay.ErrorCode(err) == patchbay.ENOTFOUND {
		return nil, patchbay.Errorf(patchbay.EINVALID, "No OAuth client is configured for %s: an Administrator sets one with PUT /v1/oauth-clients/%s.", cn.Name, cn.Slug)
	} else if err != nil {
		return nil, err
	}
	secret, err := s.open(clientSecretColumn, cl.ID, cl.ClientSecret)
	if err != nil {
		return nil, err
	}
	fields := func(tmpl string) (string, error) {
		if conn == nil {
			return tmpl, nil
		}
		return expand(tmpl, conn, cred, "")
	}
	authURL, err1 := fields(cn.OAuth.AuthorizationURL)
	tokenURL, err2 := fields(cn.OAuth.TokenURL)
	if err := errors.Join(err1, err2); err != nil {
		return nil, err
	}
	style := oauth2.AuthStyleAutoDetect
	switch cn.OAuth.TokenAuth {
	case "basic":
		style = oauth2.AuthStyleInHeader
	case "body":
		style = oauth2.AuthStyleInParams
	}
	return &oauth2.Config{ClientID: cl.ClientID, ClientSecret: secret, RedirectURL: s.RedirectURI(),
		Endpoint: oauth2.Endpoint{AuthURL: authURL, TokenURL: tokenURL, AuthStyle: style}}, nil
}

// withClient makes x/oauth2 use the service's HTTP client.
func (s *Service) withClient(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, s.client)
}

// checkReturnTo accepts a path on this server or a URL under the public
// URL, so the callback cannot be made into an open redirect.
func (s *Service) checkReturnTo(to string) error {
	if to == "" || (strings.HasPrefix(to, "/") && !strings.HasPrefix(to, "//") && !strings.Contains(to, `\`)) {
		return nil
	}
	u, err := url.Parse(to)
	pub, _ := url.Parse(s.public)
	if err != nil || pub == nil || u.Scheme != pub.Scheme || u.Host != pub.Host {
		return patchbay.Errorf(patchbay.EINVALID, "return_to must be a path on Patchbay or a URL under %s.", s.public)
	}
	return nil
}

// StartAuthorization begins an OAuth flow and returns the vendor URL to
// send the operator to. The state is single-use, expires after StateTTL,
// and is stored only as a hash; the PKCE verifier is sealed.
func (s *Service) StartAuthorization(ctx context.Context, req AuthorizeRequest) (*Authorization, error) {
	p := patchbay.PrincipalFrom(ctx)
	cn, err := s.connector(req.Connector)
	if err != nil {
		return nil, err
	}
	if !cn.Supports(patchbay.AuthOAuth2) {
		return nil, patchbay.Errorf(patchbay.EINVALID, "%s does not connect with OAuth; use POST /v1/connections.", cn.Name)
	}
	if err := s.canConnect(p, cn); err != nil {
		return nil, err
	}
	if err := s.checkReturnTo(req.ReturnTo); err != nil {
		return nil, err
	}
	var existing *patchbay.Connection
	if req.ConnectionID != "" {
		if existing, err = s.store.FindConnection(ctx, p.OrgID, req.ConnectionID); err != nil {
			return nil, err
		} else if existing.ConnectorSlug != cn.Slug || existing.State == patchbay.StateDisconnected {
			return nil, patchbay.Errorf(patchbay.ECONFLICT, "Connection %s cannot be re-authorized with %s.", existing.ID, cn.Name)
		}
		if req.Config == nil {
			req.Config = existing.Config
		}
	}
	scopes, err := pickScopes(cn, req.Scopes)
	if err != nil {
		return nil, err
	}
	config, err := s.checkFields(cn, req.Config, false)
	if err != nil {
		return nil, err
	}
	probe := &patchbay.Connection{Config: config}
	cfg, err := s.oauthConfig(ctx, p.OrgID, cn, probe, credential{})
	if err != nil {
		return nil, err
	}
	state, verifier := randomString(32), oauth2.GenerateVerifier()
	st := &patchbay.OAuthState{StateHash: hashState(state), OrgID: p.OrgID, ConnectorSlug: cn.Slug,
		ConnectionID: req.ConnectionID, RedirectURI: cfg.RedirectURL, Scopes: scopes, DisplayName: req.DisplayName,
		Config: config, ReturnTo: req.ReturnTo, Actor: p.Actor(), ActorName: p.ActorName,
		ExpiresAt: s.now().Add(s.StateTTL)}
	opts := []oauth2.AuthCodeOption{}
	if cn.OAuth.PKCE == "S256" {
		if st.CodeVerifier, err = s.seal(verifierColumn, st.StateHash, verifier); err != nil {
			return nil, err
		}
		opts = append(opts, oauth2.S256ChallengeOption(verifier))
	}
	sep := cn.OAuth.ScopeSeparator
	if sep == "" {
		sep = " "
	}
	if len(scopes) > 0 {
		opts = append(opts, oauth2.SetAuthURLParam("scope", strings.Join(scopes, sep)))
	}
	for k, v := range cn.OAuth.AuthParams {
		opts = append(opts, oauth2.SetAuthURLParam(k, v))
	}
	if err := s.store.CreateOAuthState(ctx, st); err != nil {
		return nil, err
	}
	return &Authorization{URL: cfg.AuthCodeURL(state, opts...), ExpiresAt: st.ExpiresAt}, nil
}

// pickScopes validates requested scopes against the connector's list, or
// returns its defaults.
func pickScopes(cn *patchbay.Connector, want []string) ([]string, error) {
	if len(want) == 0 {
		return append([]string(nil), cn.OAuth.DefaultScopes...), nil
	}
	known := map[string]bool{}
	for _, sc := range cn.OAuth.Scopes {
		known[sc.Name] = true
	}
	seen := map[string]bool{}
	var out []string
	for _, sc := range want {
		if len(cn.OAuth.Scopes) > 0 && !known[sc] {
			return nil, patchbay.Errorf(patchbay.EINVALID, "%s offers no scope %q.", cn.Name, sc)
		}
		if !seen[sc] {
			seen[sc] = true
			out = append(out, sc)
		}
	}
	return out, nil
}

// CallbackResult is where a finished flow leaves the operator.
type CallbackResult struct {
	Connection *patchbay.Connection
	ReturnTo   string
}

// CompleteAuthorization finishes a flow at the callback: it takes the
// state (once), exchanges the code with the PKCE verifier, tests the
// credential and only then stores the connection. A vendor error, a failed
// exchange or a failed test stores nothing.
func (s *Service) CompleteAuthorization(ctx context.Context, state, code, vendorError string) (*CallbackResult, error) {
	if state == "" {
		return nil, patchbay.Errorf(patchbay.EINVALID, "The callback has no state.")
	}
	st, err := s.store.TakeOAuthState(ctx, hashState(state), s.now())
	if err != nil {
		if patchbay.ErrorCode(err) == patchbay.ENOTFOUND {
			return nil, patchbay.Errorf(patchbay.EINVALID, "%s", patchbay.ErrorMessage(err))
		}
		return nil, err
	}
	actorType, actorID, _ := strings.Cut(st.Actor, ":")
	ctx = patchbay.WithPrincipal(ctx, &patchbay.Principal{OrgID: st.OrgID, ActorType: actorType, ActorID: actorID, ActorName: st.ActorName})
	res := &CallbackResult{ReturnTo: st.ReturnTo}
	cn, err := s.connector(st.ConnectorSlug)
	if err != nil {
		return res, err
	}
	probe := &patchbay.Connection{ID: st.ConnectionID, OrgID: st.OrgID, ConnectorSlug: cn.Slug, AuthMode: patchbay.AuthOAuth2,
		Config: st.Config, DisplayName: st.DisplayName}
	fail := func(err error) (*CallbackResult, error) {
		s.auditFailure(ctx, "connection.authorize", probe, err)
		return res, err
	}
	if vendorError != "" {
		return fail(patchbay.Errorf(patchbay.EINVALID, "%s did not grant access (%s).", cn.Name, vendorError))
	}
	if code == "" {
		return fail(patchbay.Errorf(patchbay.EINVALID, "The callback has no authorization code."))
	}
	cfg, err := s.oauthConfig(ctx, st.OrgID, cn, probe, credential{})
	if err != nil {
		return fail(err)
	}
	var opts []oauth2.AuthCodeOption
	if st.CodeVerifier != "" {
		verifier, err := s.open(verifierColumn, st.StateHash, st.CodeVerifier)
		if err != nil {
			return fail(err)
		}
		opts = append(opts, oauth2.VerifierOption(verifier))
	}
	tok, err := cfg.Exchange(s.withClient(ctx), code, opts...)
	if err != nil {
		return fail(tokenError(cn, err))
	}
	cred := credential{AccessToken: tok.AccessToken, TokenType: tok.TokenType}
	probe.Scopes = grantedScopes(cn, tok, st.Scopes)
	result := s.verify(ctx, cn, probe, cred)
	if result.Outcome != patchbay.TestConnected {
		return fail(testFailure(cn, result))
	}
	if st.ConnectionID == "" {
		res.Connection, err = s.createConnection(ctx, cn, probe, cred, tok.RefreshToken, s.expiry(tok), result)
	} else {
		res.Connection, err = s.reauthorize(ctx, cn, probe, cred, tok.RefreshToken, s.expiry(tok), result)
	}
	return res, err
}

// expiry is when a token expires by the service's clock: from the
// answer's expires_in (x/oauth2 computes Expiry on the wall clock, which
// tests replace).
func (s *Service) expiry(tok *oauth2.Token) *time.Time {
	var t time.Time
	switch {
	case tok.ExpiresIn > 0:
		t = s.now().Add(time.Duration(tok.ExpiresIn) * time.Second)
	case !tok.Expiry.IsZero():
		t = tok.Expiry
	default:
		return nil
	}
	t = t.UTC().Truncate(time.Microsecond)
	return &t
}

// grantedScopes reads the scopes a vendor granted from the token answer;
// vendors that do not say granted what was asked.
func grantedScopes(cn *patchbay.Connector, tok *oauth2.Token, asked []string) []string {
	raw, _ := tok.Extra("scope").(string)
	if raw == "" {
		return asked
	}
	sep := " "
	if cn.OAuth != nil && cn.OAuth.ScopeSeparator != "" && strings.Contains(raw, cn.OAuth.ScopeSeparator) {
		sep = cn.OAuth.ScopeSeparator
	}
	var out []string
	for _, sc := range strings.Split(raw, sep) {
		if sc = strings.TrimSpace(sc); sc != "" {
			out = append(out, sc)
		}
	}
	return out
}

// tokenError describes a failed token request without any secret.
func tokenError(cn *patchbay.Connector, err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		code := re.ErrorCode
		if code == "" && re.Response != nil {
			code = http.StatusText(re.Response.StatusCode)
		}
		return &patchbay.Error{Code: patchbay.EINVALID, Message: cn.Name + " refused the token request (" + code + ")."}
	}
	return &patchbay.Error{Code: patchbay.EUNAVAILABLE, Message: cn.Name + "'s token endpoint could not be reached.",
		Err: errors.New(safeTransportError(err))}
}

// clientCredentialsToken fetches a token with the client-credentials grant
// using the client id and secret the connection holds.
func (s *Service) clientCredentialsToken(ctx context.Context, cn *patchbay.Connector, conn *patchbay.Connection, cred credential) (*oauth2.Token, error) {
	tokenURL, err := expand(cn.OAuth.TokenURL, conn, cred, "")
	if err != nil {
		return nil, err
	}
	style := oauth2.AuthStyleAutoDetect
	switch cn.OAuth.TokenAuth {
	case "basic":
		style = oauth2.AuthStyleInHeader
	case "body":
		style = oauth2.AuthStyleInParams
	}
	cc := clientcredentials.Config{ClientID: cred.Fields["client_id"], ClientSecret: cred.Fields["client_secret"],
		TokenURL: tokenURL, Scopes: conn.Scopes, AuthStyle: style}
	tok, err := cc.Token(s.withClient(ctx))
	if err != nil {
		return nil, tokenError(cn, err)
	}
	return tok, nil
}
