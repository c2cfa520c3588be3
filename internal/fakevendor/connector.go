package fakevendor

import (
	"github.com/patchbay/patchbay"
)

// Slug is the fake vendor's connector slug.
const Slug = "fakevendor"

// Connector is a catalog entry for this Vendor: its OAuth endpoints, API
// base URL (URL()+"/api") and whoami verification.
//
// APISpec has one way to attach a credential, Bearer, so the API accepts an
// API key as a Bearer token as well as an access token; in api_key mode
// the key is the token. The fake also accepts X-Api-Key and HTTP Basic
// (the username and password fields), which a connector cannot declare
// alongside Bearer. Client credentials are per deployment, not part of a
// catalog entry: use [DefaultClientID] and [DefaultClientSecret] or
// [Vendor.AddClient].
func (v *Vendor) Connector() patchbay.Connector {
	base := v.URL()
	scopes := []patchbay.Scope{
		{Name: ScopeItemsRead, Description: "Read items"},
		{Name: ScopeItemsWrite, Description: "Create items"},
		{Name: ScopeProfile, Description: "Read the account's id and name"},
	}
	return patchbay.Connector{
		Slug:        Slug,
		Name:        "Fake Vendor",
		Family:      patchbay.FamilyDev,
		Description: "A fake vendor on 127.0.0.1 for Patchbay's own tests.",
		DocsURL:     base + "/docs",
		AuthModes:   []patchbay.AuthMode{patchbay.AuthOAuth2, patchbay.AuthAPIKey, patchbay.AuthBasic},
		OAuth: &patchbay.OAuthSpec{
			AuthorizationURL: base + "/oauth/authorize",
			TokenURL:         base + "/oauth/token",
			RevocationURL:    base + "/oauth/revoke",
			PKCE:             "S256",
			ScopeSeparator:   " ",
			DefaultScopes:    append([]string(nil), DefaultScopes...),
			Scopes:           scopes,
			// TokenAuth stays empty: the fake accepts Basic and body alike.
			RefreshTokenRotates: true,
		},
		// Not Required: one form serves both the api_key and basic modes.
		Fields: []patchbay.Field{
			{Name: "api_key", Label: "API key", Secret: true, Help: "For the api_key mode."},
			{Name: "username", Label: "User name", Help: "For the basic mode."},
			{Name: "password", Label: "Password", Secret: true, Help: "For the basic mode."},
		},
		API: patchbay.APISpec{
			BaseURL: base + "/api",
			Auth:    patchbay.AuthInjection{Type: "bearer"},
			// The fake honours Idempotency-Key on POST /api/items and
			// echoes it from /api/echo/.
			IdempotencyHeader: "Idempotency-Key",
		},
		Verify: &patchbay.VerifySpec{
			Method:      "GET",
			Path:        "/whoami",
			AccountID:   "account.id",
			AccountName: "account.name",
		},
		// The fake signs no webhooks itself; tests that play the vendor
		// sign theirs per Standard Webhooks.
		Webhooks: &patchbay.WebhookSpec{Scheme: "standard_webhooks"},
		Lists:    lists(),
	}
}
