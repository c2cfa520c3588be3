package fakevendor

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

func TestRevocation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	revoke := func(token, hint string) int {
		resp, _ := e.post("/oauth/revoke", url.Values{"token": {token}, "token_type_hint": {hint}},
			DefaultClientID, DefaultClientSecret)
		return resp.StatusCode
	}

	// Revoking an access token revokes that token only.
	tok := e.connect()
	wantStatus(t, "revoke access token", revoke(tok.AccessToken, "access_token"), http.StatusOK)
	if status, _ := e.whoami(tok.AccessToken); status != http.StatusUnauthorized || !e.v.Revoked(tok.AccessToken) {
		t.Fatalf("revoked access token: whoami %d, Revoked %v", status, e.v.Revoked(tok.AccessToken))
	}
	next := e.refresh(tok.RefreshToken)
	wantStatus(t, "refresh after access-token revocation", next.status, http.StatusOK)

	// Revoking a refresh token revokes the grant and its access tokens,
	// whatever the hint says.
	wantStatus(t, "revoke refresh token", revoke(next.RefreshToken, "access_token"), http.StatusOK)
	if status, _ := e.whoami(next.AccessToken); status != http.StatusUnauthorized {
		t.Fatalf("access token of a revoked grant: %d, want 401", status)
	}
	if r := e.refresh(next.RefreshToken); r.Error != "invalid_grant" || !strings.Contains(r.ErrorDescription, "revoked") {
		t.Fatalf("refresh of a revoked token = %+v", r)
	}
	if !e.v.Revoked(next.RefreshToken) || !e.v.Revoked(next.AccessToken) {
		t.Fatal("Revoked is false after revoking the refresh token")
	}

	// Unknown tokens get 200; the request is still recorded.
	wantStatus(t, "revoke unknown", revoke("nonsense", ""), http.StatusOK)
	if e.v.Revoked("nonsense") {
		t.Fatal("Revoked(unknown) = true")
	}
	if got, want := e.v.Revocations(), []string{tok.AccessToken, next.RefreshToken, "nonsense"}; !slices.Equal(got, want) {
		t.Fatalf("Revocations() = %v, want %v", got, want)
	}

	// Client authentication is required, in the body or by Basic.
	resp, _ := e.post("/oauth/revoke", url.Values{"token": {"x"}})
	wantStatus(t, "revoke without client auth", resp.StatusCode, http.StatusUnauthorized)
	resp, _ = e.post("/oauth/revoke", url.Values{"token": {"y"}, "client_id": {DefaultClientID},
		"client_secret": {DefaultClientSecret}})
	wantStatus(t, "revoke with body auth", resp.StatusCode, http.StatusOK)
	resp, _ = e.post("/oauth/revoke", url.Values{}, DefaultClientID, DefaultClientSecret)
	wantStatus(t, "revoke without token", resp.StatusCode, http.StatusBadRequest)

	// A client cannot revoke another client's tokens.
	e.v.AddClient("other", "pw")
	live := e.connect()
	resp, _ = e.post("/oauth/revoke", url.Values{"token": {live.RefreshToken}}, "other", "pw")
	wantStatus(t, "revoke another client's token", resp.StatusCode, http.StatusBadRequest)
	if e.v.Revoked(live.RefreshToken) {
		t.Fatal("another client revoked the token")
	}
}

func TestClientCredentials(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.token(url.Values{"grant_type": {"client_credentials"}, "scope": {"items:read"}})
	if tok.status != http.StatusOK || tok.AccessToken == "" || tok.RefreshToken != "" || tok.Scope != "items:read" {
		t.Fatalf("client credentials = %+v", tok)
	}
	resp, _ := e.get("/api/items", tok.AccessToken)
	wantStatus(t, "items with a client-credentials token", resp.StatusCode, http.StatusOK)
	wantError(t, "unknown scope", e.token(url.Values{"grant_type": {"client_credentials"}, "scope": {"root"}}),
		400, "invalid_scope")
	e.v.AddClient("spa", "")
	resp, body := e.post("/oauth/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {"spa"}})
	if resp.StatusCode != 400 || !strings.Contains(string(body), "unauthorized_client") {
		t.Fatalf("public client credentials: %d %s", resp.StatusCode, body)
	}
}
