package connector_test

import (
	"strings"
	"testing"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/internal/connector"
)

// validConnector returns a connector that passes Validate and touches every
// rule, so each test case can break exactly one thing.
func validConnector() *patchbay.Connector {
	return &patchbay.Connector{
		Slug:        "acme",
		Name:        "Acme CRM",
		Family:      patchbay.FamilyCRM,
		Description: "Leads and deals in Acme.",
		DocsURL:     "https://docs.acme.test/api",
		AuthModes:   []patchbay.AuthMode{patchbay.AuthOAuth2, patchbay.AuthAPIKey},
		OAuth: &patchbay.OAuthSpec{
			AuthorizationURL: "https://{tenant}.acme.test/oauth/authorize",
			TokenURL:         "https://acme.test/oauth/token",
			RevocationURL:    "https://acme.test/oauth/revoke",
			PKCE:             "S256",
			ScopeSeparator:   ",",
			DefaultScopes:    []string{"read"},
			Scopes:           []patchbay.Scope{{Name: "read", Description: "Read"}, {Name: "write", Description: "Write"}},
			AuthParams:       map[string]string{"access_type": "offline"},
			TokenAuth:        "basic",
		},
		Fields: []patchbay.Field{
			{Name: "tenant", Label: "Tenant", Required: true, Pattern: `^[a-z]+$`},
			{Name: "api_key", Label: "API key", Secret: true},
		},
		API: patchbay.APISpec{
			BaseURL: "https://{tenant}.acme.test/api",
			Auth:    patchbay.AuthInjection{Type: "header", Name: "Authorization", Format: "Token {token}"},
			Headers: map[string]string{"X-Tenant": "{tenant}"},
		},
		Verify:   &patchbay.VerifySpec{Method: "GET", Path: "/me", AccountID: "data.id", AccountName: "data.name", RequiredScopes: []string{"read"}},
		Webhooks: &patchbay.WebhookSpec{Scheme: "hmac_sha256", Header: "X-Acme-Signature"},
		Lists: []patchbay.ListSpec{{Entity: "leads", Path: "/leads", ItemsField: "data", IDField: "id",
			Pagination: patchbay.PageAfterID, CursorParam: "starting_after", HasMoreField: "has_more",
			LimitParam: "limit", PageSize: 100}},
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(c *patchbay.Connector)
		want   string // substring of the error; "" means valid
	}{
		{"valid", func(c *patchbay.Connector) {}, ""},

		// identity
		{"slug required", func(c *patchbay.Connector) { c.Slug = "" }, "slug: required"},
		{"slug upper case", func(c *patchbay.Connector) { c.Slug = "Acme" }, "slug:"},
		{"slug too short", func(c *patchbay.Connector) { c.Slug = "a" }, "slug:"},
		{"slug leading digit", func(c *patchbay.Connector) { c.Slug = "1acme" }, "slug:"},
		{"slug dash", func(c *patchbay.Connector) { c.Slug = "acme-crm" }, "slug:"},
		{"name required", func(c *patchbay.Connector) { c.Name = "  " }, "name: required"},
		{"family unknown", func(c *patchbay.Connector) { c.Family = "social" }, "family:"},
		{"docs url http", func(c *patchbay.Connector) { c.DocsURL = "http://docs.acme.test" }, "docs_url:"},
		{"docs url placeholder", func(c *patchbay.Connector) { c.DocsURL = "https://{tenant}.acme.test" }, "docs_url: must not hold placeholders"},
		{"no auth modes", func(c *patchbay.Connector) { c.AuthModes = nil }, "auth_modes: at least one"},
		{"unknown auth mode", func(c *patchbay.Connector) { c.AuthModes = append(c.AuthModes, "magic") }, "auth_modes[2]: unknown mode"},
		{"duplicate auth mode", func(c *patchbay.Connector) { c.AuthModes = append(c.AuthModes, patchbay.AuthOAuth2) }, "listed twice"},

		// oauth block
		{"oauth missing", func(c *patchbay.Connector) { c.OAuth = nil; c.Verify.RequiredScopes = nil }, "oauth: required"},
		{"oauth without oauth mode", func(c *patchbay.Connector) { c.AuthModes = []patchbay.AuthMode{patchbay.AuthAPIKey} }, "oauth: set, but"},
		{"client credentials needs token url only", func(c *patchbay.Connector) {
			c.AuthModes = []patchbay.AuthMode{patchbay.AuthOAuth2ClientCredentials}
			c.OAuth = &patchbay.OAuthSpec{TokenURL: "https://acme.test/oauth/token"}
			c.Verify.RequiredScopes = nil
		}, ""},
		{"client credentials without token url", func(c *patchbay.Connector) {
			c.AuthModes = []patchbay.AuthMode{patchbay.AuthOAuth2ClientCredentials}
			c.OAuth = &patchbay.OAuthSpec{}
			c.Verify.RequiredScopes = nil
		}, "oauth.token_url: required"},
		{"authorization url required", func(c *patchbay.Connector) { c.OAuth.AuthorizationURL = "" }, "oauth.authorization_url: required"},
		{"token url http", func(c *patchbay.Connector) { c.OAuth.TokenURL = "http://acme.test/token" }, "oauth.token_url: \"http://acme.test/token\" must use https"},
		{"token url other scheme", func(c *patchbay.Connector) { c.OAuth.TokenURL = "ftp://acme.test/token" }, "oauth.token_url:"},
		{"token url http localhost", func(c *patchbay.Connector) { c.OAuth.TokenURL = "http://localhost:8080/token" }, ""},
		{"token url http 127.0.0.1", func(c *patchbay.Connector) { c.OAuth.TokenURL = "http://127.0.0.1:8080/token" }, ""},
		{"revocation url relative", func(c *patchbay.Connector) { c.OAuth.RevocationURL = "/revoke" }, "oauth.revocation_url: \"/revoke\" is not an absolute URL"},
		{"url placeholder names no field", func(c *patchbay.Connector) { c.OAuth.AuthorizationURL = "https://{shop}.acme.test/a" }, "oauth.authorization_url: placeholder {shop} names no field"},
		{"url unbalanced brace", func(c *patchbay.Connector) { c.OAuth.AuthorizationURL = "https://{tenant.acme.test/a" }, "unbalanced"},
		{"url with credentials", func(c *patchbay.Connector) { c.OAuth.TokenURL = "https://u:p@acme.test/t" }, "must not carry credentials"},
		{"url with fragment", func(c *patchbay.Connector) { c.OAuth.TokenURL = "https://acme.test/t#x" }, "must not have a fragment"},
		{"pkce plain", func(c *patchbay.Connector) { c.OAuth.PKCE = "plain" }, "oauth.pkce:"},
		{"pkce empty", func(c *patchbay.Connector) { c.OAuth.PKCE = "" }, ""},
		{"token auth unknown", func(c *patchbay.Connector) { c.OAuth.TokenAuth = "jwt" }, "oauth.token_auth:"},
		{"token auth body", func(c *patchbay.Connector) { c.OAuth.TokenAuth = "body" }, ""},
		{"scope separator unknown", func(c *patchbay.Connector) { c.OAuth.ScopeSeparator = "+" }, "oauth.scope_separator:"},
		{"default scope not declared", func(c *patchbay.Connector) { c.OAuth.DefaultScopes = []string{"admin"} }, "oauth.default_scopes: \"admin\" is not in oauth.scopes"},
		{"duplicate scope", func(c *patchbay.Connector) { c.OAuth.Scopes = append(c.OAuth.Scopes, patchbay.Scope{Name: "read"}) }, "oauth.scopes[2].name: \"read\" is listed twice"},
		{"scope with space", func(c *patchbay.Connector) { c.OAuth.Scopes[1].Name = "write all" }, "oauth.scopes[1].name:"},
		{"scope without name", func(c *patchbay.Connector) { c.OAuth.Scopes[1].Name = "" }, "oauth.scopes[1].name: required"},
		{"reserved auth param", func(c *patchbay.Connector) { c.OAuth.AuthParams["redirect_uri"] = "https://x" }, "oauth.auth_params: \"redirect_uri\""},

		// api
		{"base url required", func(c *patchbay.Connector) { c.API.BaseURL = "" }, "api.base_url: required"},
		{"base url http", func(c *patchbay.Connector) { c.API.BaseURL = "http://acme.test/api" }, "api.base_url:"},
		{"base url from a field", func(c *patchbay.Connector) {
			c.Fields = append(c.Fields, patchbay.Field{Name: "url", Label: "URL"})
			c.API.BaseURL = "{url}/api"
		}, ""},
		{"base url from an undeclared field", func(c *patchbay.Connector) { c.API.BaseURL = "{url}/api" }, "api.base_url: placeholder {url} names no field"},
		{"auth type unknown", func(c *patchbay.Connector) { c.API.Auth.Type = "digest" }, "api.auth.type: \"digest\""},
		{"header auth needs name", func(c *patchbay.Connector) { c.API.Auth.Name = "" }, "api.auth.name: required for type header"},
		{"header auth bad name", func(c *patchbay.Connector) { c.API.Auth.Name = "X Auth" }, "api.auth.name:"},
		{"query auth needs name", func(c *patchbay.Connector) { c.API.Auth = patchbay.AuthInjection{Type: "query"} }, "api.auth.name: required for type query"},
		{"basic auth needs username", func(c *patchbay.Connector) { c.API.Auth = patchbay.AuthInjection{Type: "basic", Password: "{api_key}"} }, "api.auth.username: required"},
		{"basic auth with fields and token", func(c *patchbay.Connector) {
			c.API.Auth = patchbay.AuthInjection{Type: "basic", Username: "{tenant}/token", Password: "{token}"}
		}, ""},
		{"bearer auth", func(c *patchbay.Connector) { c.API.Auth = patchbay.AuthInjection{Type: "bearer"} }, ""},
		{"format placeholder names no field", func(c *patchbay.Connector) { c.API.Auth.Format = "Token {secret}" }, "api.auth.format: placeholder {secret} names no field"},
		{"password placeholder names no field", func(c *patchbay.Connector) {
			c.API.Auth = patchbay.AuthInjection{Type: "basic", Username: "api", Password: "{secret}"}
		}, "api.auth.password: placeholder {secret}"},
		{"auth none with a credential mode", func(c *patchbay.Connector) { c.API.Auth = patchbay.AuthInjection{Type: "none"} }, "api.auth.type: none, but auth mode oauth2"},
		{"header placeholder names no field", func(c *patchbay.Connector) { c.API.Headers["X-Tenant"] = "{org}" }, "api.headers[X-Tenant]: placeholder {org}"},
		{"header name invalid", func(c *patchbay.Connector) { c.API.Headers["Bad Header"] = "x" }, "api.headers: \"Bad Header\""},
		{"idempotency header", func(c *patchbay.Connector) { c.API.IdempotencyHeader = "Idempotency-Key" }, ""},
		{"idempotency header invalid", func(c *patchbay.Connector) { c.API.IdempotencyHeader = "Idem Key" }, "api.idempotency_header:"},
		{"idempotency header is the credential's", func(c *patchbay.Connector) { c.API.IdempotencyHeader = "authorization" }, "api.idempotency_header:"},

		// fields
		{"field declared twice", func(c *patchbay.Connector) {
			c.Fields = append(c.Fields, patchbay.Field{Name: "tenant", Label: "Again"})
		}, "fields[tenant].name: declared twice"},
		{"field pattern invalid", func(c *patchbay.Connector) { c.Fields[0].Pattern = "([" }, "fields[tenant].pattern: not a valid regexp"},
		{"field name invalid", func(c *patchbay.Connector) { c.Fields[0].Name = "Tenant" }, "fields[Tenant].name:"},
		{"field name required", func(c *patchbay.Connector) { c.Fields[0].Name = "" }, "fields[0].name: required"},
		{"field named token", func(c *patchbay.Connector) { c.Fields = append(c.Fields, patchbay.Field{Name: "token", Label: "T"}) }, "fields[token].name: \"token\" is reserved"},
		{"field label required", func(c *patchbay.Connector) { c.Fields[0].Label = "" }, "fields[tenant].label: required"},
		{"api_key mode needs a secret field", func(c *patchbay.Connector) { c.Fields[1].Secret = false }, "fields: auth mode api_key needs at least one secret field"},
		{"basic mode needs a secret field", func(c *patchbay.Connector) {
			c.AuthModes = []patchbay.AuthMode{patchbay.AuthBasic}
			c.OAuth = nil
			c.Verify.RequiredScopes = nil
			c.Fields[1].Secret = false
		}, "fields: auth mode basic needs at least one secret field"},

		// verify
		{"verify required", func(c *patchbay.Connector) { c.Verify = nil }, "verify: required"},
		{"verify optional for webhooks", func(c *patchbay.Connector) { c.Family = patchbay.FamilyWebhook; c.Verify = nil }, ""},
		{"verify method PUT", func(c *patchbay.Connector) { c.Verify.Method = "PUT" }, "verify.method: \"PUT\""},
		{"verify method empty", func(c *patchbay.Connector) { c.Verify.Method = "" }, "verify.method:"},
		{"verify method POST", func(c *patchbay.Connector) { c.Verify.Method = "POST" }, ""},
		{"verify method HEAD", func(c *patchbay.Connector) { c.Verify.Method = "HEAD" }, ""},
		{"verify path required", func(c *patchbay.Connector) { c.Verify.Path = "" }, "verify.path: required"},
		{"verify path neither relative nor absolute", func(c *patchbay.Connector) { c.Verify.Path = "me" }, "verify.path: \"me\" must start with /"},
		{"verify path absolute http", func(c *patchbay.Connector) { c.Verify.Path = "http://acme.test/me" }, "verify.path:"},
		{"verify path absolute https", func(c *patchbay.Connector) { c.Verify.Path = "https://login.acme.test/userinfo" }, ""},
		{"verify path placeholder names no field", func(c *patchbay.Connector) { c.Verify.Path = "/users/{user}" }, "verify.path: placeholder {user}"},
		{"verify path placeholder names a field", func(c *patchbay.Connector) { c.Verify.Path = "/tenants/{tenant}" }, ""},
		{"verify relative path without base url", func(c *patchbay.Connector) { c.Family = patchbay.FamilyWebhook; c.API.BaseURL = "" }, "verify.path: relative, but api.base_url is empty"},
		{"verify account id not dotted", func(c *patchbay.Connector) { c.Verify.AccountID = "data..id" }, "verify.account_id:"},
		{"verify account name not dotted", func(c *patchbay.Connector) { c.Verify.AccountName = ".name" }, "verify.account_name:"},
		{"verify required scope not declared", func(c *patchbay.Connector) { c.Verify.RequiredScopes = []string{"admin"} }, "verify.required_scopes: \"admin\""},

		// webhooks and hints
		{"webhook scheme unknown", func(c *patchbay.Connector) { c.Webhooks.Scheme = "paypal" }, "webhooks.scheme: \"paypal\""},
		{"hmac scheme needs header", func(c *patchbay.Connector) { c.Webhooks.Header = "" }, "webhooks.header: required for scheme hmac_sha256"},
		{"stripe scheme needs no header", func(c *patchbay.Connector) { c.Webhooks = &patchbay.WebhookSpec{Scheme: "stripe"} }, ""},
		{"webhook header invalid", func(c *patchbay.Connector) { c.Webhooks.EventTypeHeader = "X Event" }, "webhooks.event_type_header:"},
		{"negative tolerance", func(c *patchbay.Connector) { c.Webhooks.ToleranceSeconds = -1 }, "webhooks.tolerance_seconds:"},
		{"negative rate", func(c *patchbay.Connector) { c.RateLimit.RequestsPerSecond = -1 }, "rate_limit.requests_per_second:"},

		// list endpoints
		{"list next cursor", func(c *patchbay.Connector) {
			c.Lists = append(c.Lists, patchbay.ListSpec{Entity: "deals", Path: "/deals?archived=false", ItemsField: "results",
				IDField: "id", Pagination: patchbay.PageNextCursor, CursorParam: "after", NextCursorField: "paging.next.after"})
		}, ""},
		{"list entity invalid", func(c *patchbay.Connector) { c.Lists[0].Entity = "Leads" }, "lists[0].entity:"},
		{"list entity twice", func(c *patchbay.Connector) { c.Lists = append(c.Lists, c.Lists[0]) }, "lists[1].entity: \"leads\" is declared twice"},
		{"list path absolute", func(c *patchbay.Connector) { c.Lists[0].Path = "https://acme.test/leads" }, "lists[0].path:"},
		{"list path placeholder names no field", func(c *patchbay.Connector) { c.Lists[0].Path = "/{org}/leads" }, "lists[0].path: placeholder {org}"},
		{"list without base url", func(c *patchbay.Connector) { c.Family = patchbay.FamilyWebhook; c.API.BaseURL = "" }, "lists[0].path: relative, but api.base_url is empty"},
		{"list items field required", func(c *patchbay.Connector) { c.Lists[0].ItemsField = "" }, "lists[0].items_field: required"},
		{"list id field not dotted", func(c *patchbay.Connector) { c.Lists[0].IDField = "a..b" }, "lists[0].id_field:"},
		{"list cursor param required", func(c *patchbay.Connector) { c.Lists[0].CursorParam = "" }, "lists[0].cursor_param: required"},
		{"list pagination unknown", func(c *patchbay.Connector) { c.Lists[0].Pagination = "offset" }, "lists[0].pagination:"},
		{"list after_id needs has_more", func(c *patchbay.Connector) { c.Lists[0].HasMoreField = "" }, "lists[0].has_more_field: required"},
		{"list next_cursor needs its field", func(c *patchbay.Connector) { c.Lists[0].Pagination = patchbay.PageNextCursor }, "lists[0].next_cursor_field: required"},
		{"list page size too big", func(c *patchbay.Connector) { c.Lists[0].PageSize = 5000 }, "lists[0].page_size:"},
		{"list page size needs limit param", func(c *patchbay.Connector) { c.Lists[0].LimitParam = "" }, "lists[0].limit_param: required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := validConnector()
			tt.mutate(c)
			err := connector.Validate(c)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate: nil, want an error containing %q", tt.want)
			}
			if code := patchbay.ErrorCode(err); code != patchbay.EINVALID {
				t.Errorf("code = %q, want %q", code, patchbay.EINVALID)
			}
			if msg := patchbay.ErrorMessage(err); !strings.Contains(msg, tt.want) {
				t.Errorf("message %q does not contain %q", msg, tt.want)
			}
		})
	}
}

func TestValidateListsEveryProblem(t *testing.T) {
	t.Parallel()
	c := validConnector()
	c.Slug, c.Name, c.OAuth.PKCE = "", "", "plain"
	msg := patchbay.ErrorMessage(connector.Validate(c))
	for _, want := range []string{"slug: required", "name: required", "oauth.pkce:"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q does not contain %q", msg, want)
		}
	}
	if err := connector.Validate(nil); patchbay.ErrorCode(err) != patchbay.EINVALID {
		t.Errorf("Validate(nil) = %v, want EINVALID", err)
	}
}
