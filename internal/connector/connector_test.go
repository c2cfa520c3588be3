package connector_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/internal/connector"
)

// mustLoad loads the catalog or fails the test.
func mustLoad(tb testing.TB, dir string, overrides map[string]string) *connector.Catalog {
	tb.Helper()
	cat, err := connector.Load(dir, overrides)
	if err != nil {
		tb.Fatalf("Load(%q): %v", dir, err)
	}
	return cat
}

func TestEmbeddedCatalog(t *testing.T) {
	t.Parallel()
	cat := mustLoad(t, "", nil)
	if cat.Len() < 45 {
		t.Errorf("catalog has %d connectors, want at least 45", cat.Len())
	}
	fams := cat.Families()
	for _, f := range []string{patchbay.FamilyGoogle, patchbay.FamilyEmail, patchbay.FamilyPayment,
		patchbay.FamilyWebhook, patchbay.FamilyAnalytics, patchbay.FamilyCRM} {
		if fams[f] == 0 {
			t.Errorf("family %s has no connectors", f)
		}
	}
	named := map[string]string{
		"google_analytics": "google", "google_search_console": "google", "google_calendar": "google",
		"google_drive": "google", "gmail": "google",
		"mailchimp": "email", "brevo": "email", "activecampaign": "email", "sendgrid": "email", "postmark": "email",
		"stripe": "payment", "paypal": "payment", "square": "payment",
		"webhook_generic": "webhook",
		"plausible":       "analytics", "matomo": "analytics", "mixpanel": "analytics",
		"hubspot": "crm", "salesforce": "crm", "zoho_crm": "crm", "pipedrive": "crm",
		"slack": "messaging", "github": "dev",
	}
	for slug, family := range named {
		c, ok := cat.Get(slug)
		if !ok {
			t.Errorf("connector %s is missing", slug)
			continue
		}
		if c.Family != family {
			t.Errorf("%s: family %q, want %q", slug, c.Family, family)
		}
	}
	// Catalog entries are held to more than Validate asks of operators' files.
	for _, c := range cat.List(connector.Filter{}) {
		if c.Description == "" || !strings.HasSuffix(c.Description, ".") {
			t.Errorf("%s: description %q should be one sentence ending in a period", c.Slug, c.Description)
		}
		if !strings.HasPrefix(c.DocsURL, "https://") {
			t.Errorf("%s: docs_url %q should be an https URL", c.Slug, c.DocsURL)
		}
		if c.Verify == nil && c.Family != patchbay.FamilyWebhook {
			t.Errorf("%s: no verify call", c.Slug)
		}
		if c.OAuth != nil {
			for _, s := range c.OAuth.Scopes {
				if s.Description == "" {
					t.Errorf("%s: scope %s has no description", c.Slug, s.Name)
				}
			}
		}
	}
}

func TestEmbeddedOAuthURLsAreHTTPS(t *testing.T) {
	t.Parallel()
	cat := mustLoad(t, "", nil)
	n := 0
	for _, c := range cat.List(connector.Filter{}) {
		if c.OAuth == nil {
			continue
		}
		n++
		for name, u := range map[string]string{"authorization_url": c.OAuth.AuthorizationURL,
			"token_url": c.OAuth.TokenURL, "revocation_url": c.OAuth.RevocationURL} {
			if u != "" && !strings.HasPrefix(u, "https://") {
				t.Errorf("%s: oauth.%s %q is not https", c.Slug, name, u)
			}
		}
	}
	if n < 20 {
		t.Errorf("only %d OAuth connectors, want at least 20", n)
	}
}

// TestEmbeddedVendorFacts pins vendor details that are easy to get wrong
// and that other code relies on.
func TestEmbeddedVendorFacts(t *testing.T) {
	t.Parallel()
	cat := mustLoad(t, "", nil)
	get := func(slug string) *patchbay.Connector {
		c, ok := cat.Get(slug)
		if !ok {
			t.Fatalf("connector %s is missing", slug)
		}
		return c
	}
	for _, slug := range []string{"google_analytics", "google_search_console", "google_calendar", "google_drive", "gmail"} {
		o := get(slug).OAuth
		if o.AuthorizationURL != "https://accounts.google.com/o/oauth2/v2/auth" || o.TokenURL != "https://oauth2.googleapis.com/token" ||
			o.RevocationURL != "https://oauth2.googleapis.com/revoke" || o.PKCE != "S256" ||
			o.AuthParams["access_type"] != "offline" || o.AuthParams["prompt"] != "consent" {
			t.Errorf("%s: Google OAuth settings are off: %+v", slug, o)
		}
	}
	if c := get("stripe"); c.OAuth.RevocationURL != "" || c.Webhooks.Scheme != "stripe" || !c.Supports(patchbay.AuthAPIKey) ||
		c.Verify.Path != "/v1/account" {
		t.Errorf("stripe: %+v", c)
	}
	if c := get("stripe"); !matches(c.Fields[0].Pattern, "rk_live_abc123") || !matches(c.Fields[0].Pattern, "sk_test_abc123") ||
		matches(c.Fields[0].Pattern, "pk_live_abc123") {
		t.Errorf("stripe: key pattern %q should take sk_ and rk_ keys only", c.Fields[0].Pattern)
	}
	if c := get("paypal"); c.AuthModes[0] != patchbay.AuthOAuth2ClientCredentials || c.OAuth.TokenAuth != "basic" ||
		c.OAuth.TokenURL != "https://api-m.paypal.com/v1/oauth2/token" {
		t.Errorf("paypal: %+v", c.OAuth)
	}
	if c := get("square"); c.OAuth.RevocationURL != "" {
		t.Errorf("square: revocation_url %q; Square's revoke is not RFC 7009", c.OAuth.RevocationURL)
	}
	if c := get("slack"); c.OAuth.ScopeSeparator != "," || c.OAuth.RevocationURL != "" || c.Verify.AccountID != "team_id" ||
		c.Webhooks.Scheme != "slack" {
		t.Errorf("slack: %+v %+v", c.OAuth, c.Verify)
	}
	if c := get("github"); c.Webhooks.Scheme != "github" || c.Webhooks.EventTypeHeader != "X-GitHub-Event" ||
		c.Webhooks.DeliveryIDHeader != "X-GitHub-Delivery" || c.Verify.AccountID != "id" || c.OAuth.RevocationURL != "" {
		t.Errorf("github: %+v", c.Webhooks)
	}
	if c := get("salesforce"); c.OAuth.RevocationURL != "https://login.salesforce.com/services/oauth2/revoke" || c.OAuth.PKCE != "S256" {
		t.Errorf("salesforce: %+v", c.OAuth)
	}
	if c := get("zoho_crm"); c.OAuth.ScopeSeparator != "," || c.OAuth.RevocationURL == "" {
		t.Errorf("zoho_crm: %+v", c.OAuth)
	}
	if c := get("airtable"); c.OAuth.PKCE != "S256" || !c.OAuth.RefreshTokenRotates {
		t.Errorf("airtable: PKCE and rotating refresh tokens expected: %+v", c.OAuth)
	}
	if c := get("shopify"); c.API.Auth.Name != "X-Shopify-Access-Token" || c.Webhooks.Scheme != "shopify" ||
		c.Webhooks.EventTypeHeader != "X-Shopify-Topic" || c.Webhooks.DeliveryIDHeader != "X-Shopify-Webhook-Id" ||
		!strings.Contains(c.OAuth.AuthorizationURL, "{shop}") {
		t.Errorf("shopify: %+v %+v", c.API, c.Webhooks)
	}
	if c := get("webhook_generic"); !slices.Equal(c.AuthModes, []patchbay.AuthMode{patchbay.AuthSignedToken}) ||
		c.API.Auth.Type != "none" || c.API.BaseURL != "" || c.Webhooks.Scheme != "standard_webhooks" ||
		len(c.Fields) != 1 || c.Fields[0].Name != "url" || !c.Fields[0].Required {
		t.Errorf("webhook_generic: %+v", c)
	}
	if c := get("webhook_hmac"); c.Webhooks.Scheme != "hmac_sha256" || c.Webhooks.Header != "X-Signature" {
		t.Errorf("webhook_hmac: %+v", c.Webhooks)
	}
	if c := get("twilio"); c.Verify.Path != "/2010-04-01/Accounts/{account_sid}.json" || c.API.Auth.Type != "basic" {
		t.Errorf("twilio: %+v", c.Verify)
	}
}

// matches reports whether s matches pattern.
func matches(pattern, s string) bool {
	ok, err := regexp.MatchString(pattern, s)
	return err == nil && ok
}

// connectorURLs lists the URLs an override rewrites, by field name.
func connectorURLs(c *patchbay.Connector) map[string]string {
	urls := map[string]string{"api.base_url": c.API.BaseURL}
	if c.OAuth != nil {
		urls["oauth.authorization_url"] = c.OAuth.AuthorizationURL
		urls["oauth.token_url"] = c.OAuth.TokenURL
		urls["oauth.revocation_url"] = c.OAuth.RevocationURL
	}
	if c.Verify != nil && !strings.HasPrefix(c.Verify.Path, "/") {
		urls["verify.path"] = c.Verify.Path
	}
	return urls
}

func TestOverrides(t *testing.T) {
	t.Parallel()
	cat := mustLoad(t, "", map[string]string{
		"google_analytics": "http://127.0.0.1:9999/fake/",
		"shopify":          "http://127.0.0.1:9998",
	})
	ga, _ := cat.Get("google_analytics")
	want := map[string]string{
		"oauth.authorization_url": "http://127.0.0.1:9999/fake/o/oauth2/v2/auth",
		"oauth.token_url":         "http://127.0.0.1:9999/fake/token",
		"oauth.revocation_url":    "http://127.0.0.1:9999/fake/revoke",
		"api.base_url":            "http://127.0.0.1:9999/fake",
		"verify.path":             "http://127.0.0.1:9999/fake/v1beta/accountSummaries?pageSize=1",
	}
	got := connectorURLs(ga)
	for field, w := range want {
		if got[field] != w {
			t.Errorf("google_analytics %s = %q, want %q", field, got[field], w)
		}
	}

	// A host made of a placeholder is replaced like any other; relative
	// verify paths stay relative.
	shop, _ := cat.Get("shopify")
	if shop.OAuth.AuthorizationURL != "http://127.0.0.1:9998/admin/oauth/authorize" ||
		shop.OAuth.TokenURL != "http://127.0.0.1:9998/admin/oauth/access_token" ||
		shop.API.BaseURL != "http://127.0.0.1:9998/admin/api/2025-07" || shop.Verify.Path != "/shop.json" {
		t.Errorf("shopify after override: %+v %+v %+v", shop.OAuth.AuthorizationURL, shop.API.BaseURL, shop.Verify.Path)
	}

	// Connectors without an override are untouched.
	plain := mustLoad(t, "", nil)
	s1, _ := cat.Get("stripe")
	s2, _ := plain.Get("stripe")
	if !jsonEqual(t, s1, s2) {
		t.Errorf("stripe changed without an override")
	}
}

func TestOverridesRewriteEveryConnector(t *testing.T) {
	t.Parallel()
	plain := mustLoad(t, "", nil)
	overrides := map[string]string{}
	for _, c := range plain.List(connector.Filter{}) {
		overrides[c.Slug] = "http://127.0.0.1:4567"
	}
	cat := mustLoad(t, "", overrides)
	rewritten := 0
	for _, c := range cat.List(connector.Filter{}) {
		orig, _ := plain.Get(c.Slug)
		before := connectorURLs(orig)
		for field, u := range connectorURLs(c) {
			switch {
			case before[field] == "":
				if u != "" {
					t.Errorf("%s %s: empty URL became %q", c.Slug, field, u)
				}
			case strings.HasPrefix(before[field], "{"):
				if u != before[field] {
					t.Errorf("%s %s: field-origin URL %q changed to %q", c.Slug, field, before[field], u)
				}
			case !strings.HasPrefix(u, "http://127.0.0.1:4567"):
				t.Errorf("%s %s = %q, want it on http://127.0.0.1:4567", c.Slug, field, u)
			default:
				rewritten++
			}
		}
		if c.Verify != nil && strings.HasPrefix(orig.Verify.Path, "/") && c.Verify.Path != orig.Verify.Path {
			t.Errorf("%s: relative verify path %q changed to %q", c.Slug, orig.Verify.Path, c.Verify.Path)
		}
		if c.DocsURL != orig.DocsURL {
			t.Errorf("%s: docs_url changed", c.Slug)
		}
	}
	if rewritten < 100 {
		t.Errorf("only %d URLs rewritten", rewritten)
	}
}

func TestOverrideErrors(t *testing.T) {
	t.Parallel()
	for name, overrides := range map[string]map[string]string{
		"unknown slug": {"nosuch": "http://127.0.0.1:1"},
		"bad url":      {"stripe": "127.0.0.1:1"},
		"query":        {"stripe": "http://127.0.0.1:1/?x=1"},
	} {
		_, err := connector.Load("", overrides)
		if patchbay.ErrorCode(err) != patchbay.EINVALID {
			t.Errorf("%s: Load = %v, want EINVALID", name, err)
		}
	}
	_, err := connector.Load("", map[string]string{"nosuch": "http://127.0.0.1:1"})
	if !strings.Contains(patchbay.ErrorMessage(err), "nosuch") {
		t.Errorf("error %q does not name the slug", patchbay.ErrorMessage(err))
	}
}

func TestParseOverrides(t *testing.T) {
	t.Parallel()
	got, err := connector.ParseOverrides(" stripe=http://127.0.0.1:8001/v/ , google_analytics=https://fake.test,")
	if err != nil {
		t.Fatalf("ParseOverrides: %v", err)
	}
	want := map[string]string{"stripe": "http://127.0.0.1:8001/v", "google_analytics": "https://fake.test"}
	if !jsonEqual(t, got, want) {
		t.Errorf("ParseOverrides = %v, want %v", got, want)
	}
	if got, err := connector.ParseOverrides(""); err != nil || got == nil || len(got) != 0 {
		t.Errorf(`ParseOverrides("") = %v, %v; want an empty map`, got, err)
	}
	for _, spec := range []string{
		"stripe",                                    // no =
		"Stripe=http://127.0.0.1:1",                 // not a slug
		"stripe=ftp://127.0.0.1:1",                  // scheme
		"stripe=http://",                            // no host
		"stripe=http://127.0.0.1:1?x=1",             // query
		"stripe=http://u:p@127.0.0.1:1",             // credentials
		"stripe=http://a.test,stripe=http://b.test", // twice
	} {
		if _, err := connector.ParseOverrides(spec); patchbay.ErrorCode(err) != patchbay.EINVALID {
			t.Errorf("ParseOverrides(%q) = %v, want EINVALID", spec, err)
		}
	}
}

// writeJSON writes v as JSON to dir/name.
func writeJSON(tb testing.TB, dir, name string, v any) {
	tb.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
		tb.Fatal(err)
	}
}

func TestLoadDir(t *testing.T) {
	t.Parallel()
	plain := mustLoad(t, "", nil)
	dir := t.TempDir()
	writeJSON(t, dir, "acme.json", validConnector())
	stripe, _ := plain.Get("stripe")
	stripe.Name = "Stripe (custom)"
	writeJSON(t, dir, "stripe.json", stripe)
	if err := os.WriteFile(filepath.Join(dir, "README.txt"), []byte("not a connector"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "old.json"), 0o700); err != nil { // a directory is skipped
		t.Fatal(err)
	}

	cat := mustLoad(t, dir, map[string]string{"acme": "http://127.0.0.1:7000"})
	if cat.Len() != plain.Len()+1 {
		t.Errorf("Len = %d, want %d", cat.Len(), plain.Len()+1)
	}
	acme, ok := cat.Get("acme")
	if !ok {
		t.Fatal("acme was not added")
	}
	if acme.OAuth.TokenURL != "http://127.0.0.1:7000/oauth/token" {
		t.Errorf("override did not reach a connector from the directory: %q", acme.OAuth.TokenURL)
	}
	if s, _ := cat.Get("stripe"); s.Name != "Stripe (custom)" {
		t.Errorf("stripe was not replaced: name %q", s.Name)
	}
	if _, err := connector.Load(filepath.Join(dir, "missing"), nil); err == nil {
		t.Error("Load of a missing directory succeeded")
	}
}

func TestLoadDirRejectsBadFiles(t *testing.T) {
	t.Parallel()
	insecure := validConnector()
	insecure.Slug = "broken"
	insecure.OAuth.TokenURL = "http://acme.test/token"
	tests := []struct {
		name  string
		file  string
		write func(dir string)
		want  []string
	}{
		{"invalid connector", "broken.json", func(dir string) { writeJSON(t, dir, "broken.json", insecure) },
			[]string{"broken.json", "oauth.token_url"}},
		{"malformed JSON", "bad.json", func(dir string) { _ = os.WriteFile(filepath.Join(dir, "bad.json"), []byte("{"), 0o600) },
			[]string{"bad.json"}},
		{"unknown field", "typo.json", func(dir string) {
			_ = os.WriteFile(filepath.Join(dir, "typo.json"), []byte(`{"slug":"typo","nmae":"Typo"}`), 0o600) //nolint:misspell // a typo on purpose
		}, []string{"typo.json", "nmae"}}, //nolint:misspell // the typo above
		{"two values", "two.json", func(dir string) {
			b, _ := json.Marshal(validConnector())
			_ = os.WriteFile(filepath.Join(dir, "two.json"), append(b, b...), 0o600)
		}, []string{"two.json", "more than one"}},
		{"slug not the file name", "other.json", func(dir string) { writeJSON(t, dir, "other.json", validConnector()) },
			[]string{"other.json", "slug", "does not match"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			tt.write(dir)
			_, err := connector.Load(dir, nil)
			if patchbay.ErrorCode(err) != patchbay.EINVALID {
				t.Fatalf("Load = %v, want EINVALID", err)
			}
			msg := patchbay.ErrorMessage(err)
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q does not contain %q", msg, w)
				}
			}
		})
	}
}

func TestList(t *testing.T) {
	t.Parallel()
	cat := mustLoad(t, "", nil)
	slugs := func(cs []*patchbay.Connector) []string {
		out := []string{}
		for _, c := range cs {
			out = append(out, c.Slug)
		}
		return out
	}

	all := cat.List(connector.Filter{})
	if len(all) != cat.Len() {
		t.Errorf("List() has %d connectors, want %d", len(all), cat.Len())
	}
	if !slices.IsSortedFunc(all, func(a, b *patchbay.Connector) int {
		return strings.Compare(a.Family+"\x00"+a.Name, b.Family+"\x00"+b.Name)
	}) {
		t.Errorf("List() is not sorted by family, then name: %v", slugs(all))
	}

	payment := cat.List(connector.Filter{Family: patchbay.FamilyPayment})
	for _, c := range payment {
		if c.Family != patchbay.FamilyPayment || !c.IsPayment() {
			t.Errorf("family filter let %s (%s) through", c.Slug, c.Family)
		}
	}
	for _, want := range []string{"stripe", "paypal", "square"} {
		if !slices.Contains(slugs(payment), want) {
			t.Errorf("family payment lacks %s", want)
		}
	}

	if got := slugs(cat.List(connector.Filter{AuthMode: patchbay.AuthSignedToken})); !slices.Equal(got, []string{"webhook_generic", "webhook_hmac"}) {
		t.Errorf("signed_token connectors = %v", got)
	}
	cc := cat.List(connector.Filter{AuthMode: patchbay.AuthOAuth2ClientCredentials})
	if !slices.Contains(slugs(cc), "paypal") {
		t.Errorf("client-credentials connectors %v lack paypal", slugs(cc))
	}
	for _, c := range cc {
		if !c.Supports(patchbay.AuthOAuth2ClientCredentials) {
			t.Errorf("auth mode filter let %s through", c.Slug)
		}
	}

	for _, q := range []string{"STRIPE", "stripe", " Stripe "} {
		if got := slugs(cat.List(connector.Filter{Query: q})); !slices.Contains(got, "stripe") {
			t.Errorf("query %q = %v, want stripe among them", q, got)
		}
	}
	if got := slugs(cat.List(connector.Filter{Query: "sendinblue"})); !slices.Equal(got, []string{"brevo"}) {
		t.Errorf("query on description = %v, want [brevo]", got)
	}
	if got := slugs(cat.List(connector.Filter{Query: "zoho_"})); !slices.Equal(got, []string{"zoho_crm"}) {
		t.Errorf("query on slug = %v, want [zoho_crm]", got)
	}
	if got := cat.List(connector.Filter{Query: "no such vendor anywhere"}); got == nil || len(got) != 0 {
		t.Errorf("query without matches = %v, want an empty list", got)
	}
	got := slugs(cat.List(connector.Filter{Family: patchbay.FamilyCRM, AuthMode: patchbay.AuthOAuth2, Query: "sales"}))
	if !slices.Equal(got, []string{"salesforce"}) {
		t.Errorf("combined filter = %v, want [salesforce]", got)
	}
}

func TestFamilies(t *testing.T) {
	t.Parallel()
	cat := mustLoad(t, "", nil)
	total := 0
	for family, n := range cat.Families() {
		if !slices.Contains(patchbay.Families, family) {
			t.Errorf("unknown family %q", family)
		}
		if got := len(cat.List(connector.Filter{Family: family})); got != n {
			t.Errorf("Families()[%s] = %d, List finds %d", family, n, got)
		}
		total += n
	}
	if total != cat.Len() {
		t.Errorf("family counts add up to %d, want %d", total, cat.Len())
	}
}

func TestGetReturnsCopy(t *testing.T) {
	t.Parallel()
	cat := mustLoad(t, "", nil)
	if c, ok := cat.Get("nosuch"); ok || c != nil {
		t.Errorf("Get(nosuch) = %v, %v", c, ok)
	}
	for _, slug := range []string{"github", "google_analytics", "gocardless"} {
		orig, _ := cat.Get(slug)
		before, err := json.Marshal(orig) // a snapshot, in case copies share memory
		if err != nil {
			t.Fatal(err)
		}
		c, _ := cat.Get(slug)
		c.Name = "changed"
		c.AuthModes[0] = "changed"
		if len(c.Fields) > 0 {
			c.Fields[0].Name = "changed"
		}
		c.OAuth.TokenURL = "changed"
		c.OAuth.Scopes[0].Name = "changed"
		c.OAuth.DefaultScopes[0] = "changed"
		if c.OAuth.AuthParams != nil {
			c.OAuth.AuthParams["access_type"] = "changed"
		}
		if c.API.Headers != nil {
			for k := range c.API.Headers {
				c.API.Headers[k] = "changed"
			}
		}
		c.Verify.Path = "changed"
		if c.Verify.RequiredScopes != nil {
			c.Verify.RequiredScopes[0] = "changed"
		}
		if c.Webhooks != nil {
			c.Webhooks.Scheme = "changed"
		}
		after, _ := cat.Get(slug)
		if !jsonEqual(t, json.RawMessage(before), after) {
			t.Errorf("%s: changing a copy from Get changed the catalog", slug)
		}
	}
	listed := cat.List(connector.Filter{Query: "stripe"})
	listed[0].OAuth.Scopes[0].Name = "changed"
	if s, _ := cat.Get("stripe"); s.OAuth.Scopes[0].Name == "changed" {
		t.Error("changing a connector from List changed the catalog")
	}
}

// jsonEqual reports whether a and b marshal to the same JSON.
func jsonEqual(tb testing.TB, a, b any) bool {
	tb.Helper()
	ja, err := json.Marshal(a)
	if err != nil {
		tb.Fatal(err)
	}
	jb, err := json.Marshal(b)
	if err != nil {
		tb.Fatal(err)
	}
	return string(ja) == string(jb)
}

func ExampleParseOverrides() {
	overrides, err := connector.ParseOverrides("stripe=http://127.0.0.1:8111,slack=http://127.0.0.1:8112/slack")
	if err != nil {
		panic(err)
	}
	cat, err := connector.Load("", overrides)
	if err != nil {
		panic(err)
	}
	slack, _ := cat.Get("slack")
	fmt.Println(slack.OAuth.TokenURL)
	fmt.Println(slack.API.BaseURL + slack.Verify.Path)
	// Output:
	// http://127.0.0.1:8112/slack/api/oauth.v2.access
	// http://127.0.0.1:8112/slack/api/auth.test
}
