package connector

import (
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/patchbay/patchbay"
)

// WebhookSchemes lists the values Webhooks.Scheme may take: the inbound
// signature schemes Patchbay verifies.
var WebhookSchemes = []string{"stripe", "github", "slack", "shopify", "standard_webhooks", "hmac_sha256"}

// AuthTypes lists the values API.Auth.Type may take.
var AuthTypes = []string{"bearer", "header", "query", "basic", "none"}

var (
	slugPattern        = regexp.MustCompile(`^[a-z][a-z0-9_]{1,63}$`)
	fieldNamePattern   = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
	placeholderPattern = regexp.MustCompile(`\{([^{}]*)\}`)
	headerNamePattern  = regexp.MustCompile("^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
)

// tokenPlaceholder is the placeholder for the connection's credential in
// auth formats, basic-auth user names and passwords, and header values.
const tokenPlaceholder = "token"

// reservedAuthParams are authorization-URL parameters Patchbay sets itself,
// which AuthParams may not override.
var reservedAuthParams = []string{"client_id", "redirect_uri", "response_type", "scope", "state",
	"code_challenge", "code_challenge_method"}

// Validate checks a connector against the catalog's rules: a slug matching
// ^[a-z][a-z0-9_]{1,63}$, a name, a known family, at least one known auth
// mode and none twice; an oauth block exactly when an OAuth mode is offered
// (client credentials needs only token_url); absolute https URLs (http only
// for localhost and 127.0.0.1) whose {placeholders} name declared fields;
// PKCE "" or "S256"; token_auth "", "basic" or "body"; default and
// verification scopes among the declared scopes; a known auth injection
// with the name it needs; fields with unique names and valid patterns, and
// a secret one for api_key and basic modes; a GET, POST or HEAD verify call
// (optional for the webhook family); and a known webhook scheme, with a
// header for hmac_sha256.
//
// It returns nil or an EINVALID *patchbay.Error whose message lists every
// problem as "field: problem", separated by "; ".
func Validate(c *patchbay.Connector) error {
	if c == nil {
		return patchbay.Errorf(patchbay.EINVALID, "connector: missing")
	}
	v := &validator{c: c, fields: map[string]bool{}}
	v.identity()
	v.fieldList()
	v.oauth()
	v.api()
	v.verify()
	v.webhooks()
	v.rateLimit()
	v.lists()
	if len(v.problems) == 0 {
		return nil
	}
	return patchbay.Errorf(patchbay.EINVALID, "%s", strings.Join(v.problems, "; "))
}

// validator collects the problems of one connector.
type validator struct {
	c        *patchbay.Connector
	fields   map[string]bool // declared field names
	problems []string
}

func (v *validator) addf(format string, args ...any) {
	v.problems = append(v.problems, fmt.Sprintf(format, args...))
}

func (v *validator) identity() {
	c := v.c
	switch {
	case c.Slug == "":
		v.addf("slug: required")
	case !slugPattern.MatchString(c.Slug):
		v.addf("slug: %q must match %s", c.Slug, slugPattern)
	}
	if strings.TrimSpace(c.Name) == "" {
		v.addf("name: required")
	}
	if !slices.Contains(patchbay.Families, c.Family) {
		v.addf("family: %q is not one of %s", c.Family, strings.Join(patchbay.Families, ", "))
	}
	if c.DocsURL != "" {
		v.url("docs_url", c.DocsURL, false)
	}
	if len(c.AuthModes) == 0 {
		v.addf("auth_modes: at least one is required")
	}
	for i, m := range c.AuthModes {
		switch {
		case !slices.Contains(patchbay.AuthModes, m):
			v.addf("auth_modes[%d]: unknown mode %q", i, m)
		case slices.Index(c.AuthModes, m) != i:
			v.addf("auth_modes[%d]: %q is listed twice", i, m)
		}
	}
}

func (v *validator) fieldList() {
	secret := false
	for i, f := range v.c.Fields {
		where := fmt.Sprintf("fields[%d]", i)
		if f.Name != "" {
			where = fmt.Sprintf("fields[%s]", f.Name)
		}
		switch {
		case f.Name == "":
			v.addf("%s.name: required", where)
		case !fieldNamePattern.MatchString(f.Name):
			v.addf("%s.name: %q must match %s", where, f.Name, fieldNamePattern)
		case f.Name == tokenPlaceholder:
			v.addf("%s.name: %q is reserved for the connection's credential", where, f.Name)
		case v.fields[f.Name]:
			v.addf("%s.name: declared twice", where)
		default:
			v.fields[f.Name] = true
		}
		if strings.TrimSpace(f.Label) == "" {
			v.addf("%s.label: required", where)
		}
		if f.Pattern != "" {
			if _, err := regexp.Compile(f.Pattern); err != nil {
				v.addf("%s.pattern: not a valid regexp: %v", where, err)
			}
		}
		secret = secret || f.Secret
	}
	for _, m := range []patchbay.AuthMode{patchbay.AuthAPIKey, patchbay.AuthBasic} {
		if v.c.Supports(m) && !secret {
			v.addf("fields: auth mode %s needs at least one secret field", m)
		}
	}
}

func (v *validator) oauth() {
	c, o := v.c, v.c.OAuth
	code, cc := c.Supports(patchbay.AuthOAuth2), c.Supports(patchbay.AuthOAuth2ClientCredentials)
	switch {
	case o == nil && (code || cc):
		v.addf("oauth: required by the OAuth auth modes")
		return
	case o == nil:
		return
	case !code && !cc:
		v.addf("oauth: set, but auth_modes has neither oauth2 nor oauth2_client_credentials")
		return
	}
	if o.AuthorizationURL == "" && code {
		v.addf("oauth.authorization_url: required by auth mode oauth2")
	} else if o.AuthorizationURL != "" {
		v.url("oauth.authorization_url", o.AuthorizationURL, true)
	}
	if o.TokenURL == "" {
		v.addf("oauth.token_url: required")
	} else {
		v.url("oauth.token_url", o.TokenURL, true)
	}
	if o.RevocationURL != "" {
		v.url("oauth.revocation_url", o.RevocationURL, true)
	}
	if o.PKCE != "" && o.PKCE != "S256" {
		v.addf(`oauth.pkce: %q must be "" or "S256"`, o.PKCE)
	}
	if !slices.Contains([]string{"", "basic", "body"}, o.TokenAuth) {
		v.addf(`oauth.token_auth: %q must be "", "basic" or "body"`, o.TokenAuth)
	}
	if !slices.Contains([]string{"", " ", ","}, o.ScopeSeparator) {
		v.addf(`oauth.scope_separator: %q must be "", " " or ","`, o.ScopeSeparator)
	}
	names := map[string]bool{}
	for i, s := range o.Scopes {
		switch {
		case s.Name == "":
			v.addf("oauth.scopes[%d].name: required", i)
		case strings.ContainsAny(s.Name, " \t\r\n,"):
			v.addf("oauth.scopes[%d].name: %q must not hold spaces or commas", i, s.Name)
		case names[s.Name]:
			v.addf("oauth.scopes[%d].name: %q is listed twice", i, s.Name)
		}
		names[s.Name] = true
	}
	for _, s := range o.DefaultScopes {
		if !names[s] {
			v.addf("oauth.default_scopes: %q is not in oauth.scopes", s)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(o.AuthParams)) {
		if k == "" || slices.Contains(reservedAuthParams, k) {
			v.addf("oauth.auth_params: %q is set by Patchbay, not by the connector", k)
		}
	}
}

func (v *validator) api() {
	c, a := v.c, v.c.API
	if a.BaseURL == "" && c.Family != patchbay.FamilyWebhook {
		v.addf("api.base_url: required")
	} else if a.BaseURL != "" {
		v.url("api.base_url", a.BaseURL, true)
	}
	switch a.Auth.Type {
	case "header", "query":
		if a.Auth.Name == "" {
			v.addf("api.auth.name: required for type %s", a.Auth.Type)
		} else if a.Auth.Type == "header" && !headerNamePattern.MatchString(a.Auth.Name) {
			v.addf("api.auth.name: %q is not a valid header name", a.Auth.Name)
		}
	case "basic":
		if a.Auth.Username == "" {
			v.addf("api.auth.username: required for type basic")
		}
	case "bearer":
	case "none":
		for _, m := range c.AuthModes {
			if m != patchbay.AuthSignedToken {
				v.addf("api.auth.type: none, but auth mode %s carries a credential", m)
			}
		}
	default:
		v.addf("api.auth.type: %q is not one of %s", a.Auth.Type, strings.Join(AuthTypes, ", "))
	}
	v.placeholders("api.auth.format", a.Auth.Format, true)
	v.placeholders("api.auth.username", a.Auth.Username, true)
	v.placeholders("api.auth.password", a.Auth.Password, true)
	for _, name := range slices.Sorted(maps.Keys(a.Headers)) {
		if !headerNamePattern.MatchString(name) {
			v.addf("api.headers: %q is not a valid header name", name)
		}
		v.placeholders("api.headers["+name+"]", a.Headers[name], true)
	}
	if h := a.IdempotencyHeader; h != "" {
		if !headerNamePattern.MatchString(h) {
			v.addf("api.idempotency_header: %q is not a valid header name", h)
		} else if strings.EqualFold(h, "Authorization") || (a.Auth.Type == "header" && strings.EqualFold(h, a.Auth.Name)) {
			v.addf("api.idempotency_header: %q carries the credential", h)
		}
	}
}

func (v *validator) verify() {
	c, vs := v.c, v.c.Verify
	if vs == nil {
		if c.Family != patchbay.FamilyWebhook {
			v.addf("verify: required (a read-only call that tests the credential)")
		}
		return
	}
	if !slices.Contains([]string{"GET", "POST", "HEAD"}, vs.Method) {
		v.addf("verify.method: %q must be GET, POST or HEAD", vs.Method)
	}
	switch {
	case vs.Path == "":
		v.addf("verify.path: required")
	case strings.HasPrefix(vs.Path, "/"):
		v.placeholders("verify.path", vs.Path, false)
		if c.API.BaseURL == "" {
			v.addf("verify.path: relative, but api.base_url is empty")
		}
	case strings.Contains(vs.Path, "://") || strings.HasPrefix(vs.Path, "{"):
		v.url("verify.path", vs.Path, true)
	default:
		v.addf("verify.path: %q must start with / or be an absolute URL", vs.Path)
	}
	for _, p := range [][2]string{{"verify.account_id", vs.AccountID}, {"verify.account_name", vs.AccountName}} {
		if p[1] != "" && slices.Contains(strings.Split(p[1], "."), "") {
			v.addf("%s: %q is not a dotted path", p[0], p[1])
		}
	}
	for _, s := range vs.RequiredScopes {
		if c.OAuth == nil || !slices.ContainsFunc(c.OAuth.Scopes, func(d patchbay.Scope) bool { return d.Name == s }) {
			v.addf("verify.required_scopes: %q is not in oauth.scopes", s)
		}
	}
}

func (v *validator) webhooks() {
	w := v.c.Webhooks
	if w == nil {
		return
	}
	if !slices.Contains(WebhookSchemes, w.Scheme) {
		v.addf("webhooks.scheme: %q is not one of %s", w.Scheme, strings.Join(WebhookSchemes, ", "))
	}
	if w.Scheme == "hmac_sha256" && w.Header == "" {
		v.addf("webhooks.header: required for scheme hmac_sha256")
	}
	for _, h := range [][2]string{{"webhooks.header", w.Header},
		{"webhooks.event_type_header", w.EventTypeHeader}, {"webhooks.delivery_id_header", w.DeliveryIDHeader}} {
		if h[1] != "" && !headerNamePattern.MatchString(h[1]) {
			v.addf("%s: %q is not a valid header name", h[0], h[1])
		}
	}
	if w.ToleranceSeconds < 0 {
		v.addf("webhooks.tolerance_seconds: must not be negative")
	}
}

func (v *validator) rateLimit() {
	r := v.c.RateLimit
	if r.RequestsPerSecond < 0 {
		v.addf("rate_limit.requests_per_second: must not be negative")
	}
	if r.RetryAfterHeader != "" && !headerNamePattern.MatchString(r.RetryAfterHeader) {
		v.addf("rate_limit.retry_after_header: %q is not a valid header name", r.RetryAfterHeader)
	}
}

// placeholders checks that every {name} in s names a declared field (or,
// when token is true, is {token}); it reports whether all did.
func (v *validator) placeholders(where, s string, token bool) bool {
	ok := true
	for _, m := range placeholderPattern.FindAllStringSubmatch(s, -1) {
		if token && m[1] == tokenPlaceholder {
			continue
		}
		if !v.fields[m[1]] {
			v.addf("%s: placeholder {%s} names no field", where, m[1])
			ok = false
		}
	}
	if strings.ContainsAny(placeholderPattern.ReplaceAllString(s, ""), "{}") {
		v.addf("%s: unbalanced { or }", where)
		ok = false
	}
	return ok
}

// url checks that raw is an absolute https URL (http only for local hosts),
// with {field} placeholders when placeholders is true. A URL that starts
// with a placeholder takes its scheme and host from that field and is not
// checked further.
func (v *validator) url(where, raw string, placeholders bool) {
	if !placeholders && strings.ContainsAny(raw, "{}") {
		v.addf("%s: must not hold placeholders", where)
		return
	}
	if !v.placeholders(where, raw, false) || strings.HasPrefix(raw, "{") {
		return
	}
	u, err := url.Parse(placeholderPattern.ReplaceAllString(raw, "x"))
	switch {
	case err != nil || !u.IsAbs() || u.Host == "":
		v.addf("%s: %q is not an absolute URL", where, raw)
	case u.Scheme != "https" && (u.Scheme != "http" || !isLocalHost(u.Hostname())):
		v.addf("%s: %q must use https (http only for localhost and 127.0.0.1)", where, raw)
	case u.User != nil:
		v.addf("%s: %q must not carry credentials", where, raw)
	case u.Fragment != "":
		v.addf("%s: %q must not have a fragment", where, raw)
	}
}

// isLocalHost reports whether host is a loopback name plain http may use.
func isLocalHost(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

func (v *validator) lists() {
	seen := map[string]bool{}
	for i, l := range v.c.Lists {
		where := fmt.Sprintf("lists[%d]", i)
		switch {
		case !patchbay.ValidEntityType(l.Entity):
			v.addf("%s.entity: %q must be a lower-case word such as customers", where, l.Entity)
		case seen[l.Entity]:
			v.addf("%s.entity: %q is declared twice", where, l.Entity)
		}
		seen[l.Entity] = true
		switch {
		case !strings.HasPrefix(l.Path, "/"):
			v.addf("%s.path: %q must start with /", where, l.Path)
		case v.c.API.BaseURL == "":
			v.addf("%s.path: relative, but api.base_url is empty", where)
		default:
			v.placeholders(where+".path", l.Path, false)
		}
		for _, p := range [][2]string{{"items_field", l.ItemsField}, {"id_field", l.IDField},
			{"has_more_field", l.HasMoreField}, {"next_cursor_field", l.NextCursorField}} {
			if p[1] != "" && slices.Contains(strings.Split(p[1], "."), "") {
				v.addf("%s.%s: %q is not a dotted path", where, p[0], p[1])
			}
		}
		if l.ItemsField == "" {
			v.addf("%s.items_field: required", where)
		}
		if l.IDField == "" {
			v.addf("%s.id_field: required", where)
		}
		if l.CursorParam == "" {
			v.addf("%s.cursor_param: required", where)
		}
		switch l.Pagination {
		case patchbay.PageAfterID:
			if l.HasMoreField == "" {
				v.addf("%s.has_more_field: required for pagination %s", where, l.Pagination)
			}
		case patchbay.PageNextCursor:
			if l.NextCursorField == "" {
				v.addf("%s.next_cursor_field: required for pagination %s", where, l.Pagination)
			}
		default:
			v.addf("%s.pagination: %q must be %s or %s", where, l.Pagination, patchbay.PageAfterID, patchbay.PageNextCursor)
		}
		if l.PageSize < 0 || l.PageSize > 1000 {
			v.addf("%s.page_size: must be 0 to 1000", where)
		}
		if l.PageSize > 0 && l.LimitParam == "" {
			v.addf("%s.limit_param: required with page_size", where)
		}
	}
}
