package fakevendor

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/patchbay/patchbay"
)

type itemsPage struct {
	Items      []item  `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

// call sends method path with body (JSON, when not "") and the headers in
// pairs.
func (e *env) call(method, path, body string, headers ...string) (reply, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.v.URL()+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return e.do(req)
}

func TestItemsPagination(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.v.SetItemCount(23)
	tok := e.connect()
	var ids []string
	path := "/api/items"
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("pagination does not end")
		}
		resp, body := e.get(path, tok.AccessToken)
		wantStatus(t, "items page", resp.StatusCode, http.StatusOK)
		var page itemsPage
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			ids = append(ids, it.ID)
		}
		if page.NextCursor == nil {
			if pages != 2 || len(page.Items) != 3 {
				t.Fatalf("last page is page %d with %d items, want page 2 with 3", pages, len(page.Items))
			}
			break
		}
		path = "/api/items?cursor=" + url.QueryEscape(*page.NextCursor)
	}
	if len(ids) != 23 || ids[0] != "item_0001" || ids[22] != "item_0023" {
		t.Fatalf("ids = %v", ids)
	}
	if !strings.Contains(string(mustGet(t, e, "/api/items?limit=100", tok.AccessToken)), `"next_cursor":null`) {
		t.Fatal("one page of 100 has a next cursor")
	}
	for _, bad := range []string{"?cursor=bogus", "?cursor=" + makeCursor(999), "?limit=0", "?limit=x"} {
		resp, _ := e.get("/api/items"+bad, tok.AccessToken)
		wantStatus(t, bad, resp.StatusCode, http.StatusBadRequest)
	}
	e.v.SetPageSize(50)
	e.v.SetItemCount(0)
	if body := mustGet(t, e, "/api/items", tok.AccessToken); !strings.Contains(string(body), `"items":[]`) {
		t.Fatalf("no items: %s", body)
	}
}

func mustGet(t *testing.T, e *env, path, bearer string) []byte {
	t.Helper()
	resp, body := e.get(path, bearer)
	wantStatus(t, path, resp.StatusCode, http.StatusOK)
	return body
}

func TestCreateItemIdempotency(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.v.SetItemCount(2)
	tok := e.connect("items:read", "items:write")
	auth := "Bearer " + tok.AccessToken

	resp, first := e.call("POST", "/api/items", `{"name":"one"}`, "Authorization", auth, "Idempotency-Key", "k1")
	wantStatus(t, "create", resp.StatusCode, http.StatusCreated)
	resp, again := e.call("POST", "/api/items", `{"name":"one"}`, "Authorization", auth, "Idempotency-Key", "k1")
	if resp.StatusCode != http.StatusCreated || string(again) != string(first) ||
		resp.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: %d %s (replayed %q), want %s", resp.StatusCode, again, resp.Header.Get("Idempotent-Replayed"), first)
	}
	resp, body := e.call("POST", "/api/items", `{"name":"two"}`, "Authorization", auth, "Idempotency-Key", "k1")
	if resp.StatusCode != http.StatusConflict || !strings.Contains(string(body), "idempotency_key_reused") {
		t.Fatalf("same key, other body: %d %s", resp.StatusCode, body)
	}
	resp, other := e.call("POST", "/api/items", `{"name":"one"}`, "Authorization", auth, "Idempotency-Key", "k2")
	if resp.StatusCode != http.StatusCreated || string(other) == string(first) {
		t.Fatalf("new key: %d %s", resp.StatusCode, other)
	}
	resp, _ = e.call("POST", "/api/items", `{"name":"one"}`, "Authorization", auth)
	wantStatus(t, "no key", resp.StatusCode, http.StatusCreated)
	for _, bad := range []string{`{}`, `{"name":""}`, `nope`, `{"name":"x","extra":1}`} {
		resp, _ := e.call("POST", "/api/items", bad, "Authorization", auth)
		wantStatus(t, "body "+bad, resp.StatusCode, http.StatusBadRequest)
	}
	var page itemsPage
	if err := json.Unmarshal(mustGet(t, e, "/api/items", tok.AccessToken), &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 5 || page.Items[2].Name != "one" || page.Items[2].ID != "item_0003" {
		t.Fatalf("items after creating 3 = %+v", page.Items)
	}

	// items:write is needed.
	readOnly := e.connect("items:read")
	resp, _ = e.call("POST", "/api/items", `{"name":"x"}`, "Authorization", "Bearer "+readOnly.AccessToken)
	wantStatus(t, "create without items:write", resp.StatusCode, http.StatusForbidden)

	// The request log shows the key was sent, and the body.
	var found bool
	for _, r := range e.v.Requests() {
		if r.Method == "POST" && r.Path == "/api/items" && r.Header.Get("Idempotency-Key") == "k2" {
			found = true
			if string(r.Body) != `{"name":"one"}` || r.Status != http.StatusCreated {
				t.Fatalf("logged body %q status %d", r.Body, r.Status)
			}
		}
	}
	if !found {
		t.Fatal("the request with Idempotency-Key k2 is not in Requests()")
	}
}

func TestAPIKeysAndBasic(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.v.AddAPIKey("key-all")
	e.v.AddAPIKey("key-read", "items:read")
	e.v.AddBasic("alice", "pw")

	tests := []struct {
		name    string
		headers []string
		path    string
		want    int
		www     string
	}{
		{"X-Api-Key", []string{"X-Api-Key", "key-all"}, "/api/whoami", 200, ""},
		{"API key as Bearer", []string{"Authorization", "Bearer key-all"}, "/api/items", 200, ""},
		{"scoped key reads", []string{"X-Api-Key", "key-read"}, "/api/items", 200, ""},
		{"scoped key writes", []string{"X-Api-Key", "key-read"}, "POST /api/items", 403,
			`Bearer error="insufficient_scope", scope="items:write"`},
		{"unknown X-Api-Key", []string{"X-Api-Key", "nope"}, "/api/whoami", 401, `Bearer error="invalid_token"`},
		{"unknown Bearer", []string{"Authorization", "Bearer nope"}, "/api/whoami", 401, `Bearer error="invalid_token"`},
		{"Basic", []string{"Authorization", basic("alice", "pw")}, "/api/items", 200, ""},
		{"wrong Basic", []string{"Authorization", basic("alice", "no")}, "/api/whoami", 401, `Basic realm="fakevendor"`},
		{"no credentials", nil, "/api/whoami", 401, `Bearer realm="fakevendor"`},
		{"other scheme", []string{"Authorization", "Token key-all"}, "/api/whoami", 401, `Bearer error="invalid_token"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			method, path, body := "GET", tt.path, ""
			if p, ok := strings.CutPrefix(tt.path, "POST "); ok {
				method, path, body = "POST", p, `{"name":"x"}`
			}
			resp, got := e.with(t).call(method, path, body, tt.headers...)
			if resp.StatusCode != tt.want || resp.Header.Get("WWW-Authenticate") != tt.www {
				t.Fatalf("%d %q %s, want %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), got, tt.want, tt.www)
			}
		})
	}

	// Each key has its own stable account, unless SetAccountID says otherwise.
	accountOf := func(headers ...string) string {
		_, body := e.call("GET", "/api/whoami", "", headers...)
		var w whoamiAnswer
		if err := json.Unmarshal(body, &w); err != nil {
			t.Fatal(err)
		}
		return w.Account.ID
	}
	a, b := accountOf("X-Api-Key", "key-all"), accountOf("Authorization", "Bearer key-all")
	if a == "" || a != b || a == accountOf("X-Api-Key", "key-read") {
		t.Fatalf("accounts: key-all %q/%q, key-read %q", a, b, accountOf("X-Api-Key", "key-read"))
	}
	e.v.SetAccountID("acct_fixed")
	if got := accountOf("Authorization", basic("alice", "pw")); got != "acct_fixed" {
		t.Fatalf("account after SetAccountID = %q", got)
	}
	// A grant keeps the account it was made with.
	tok := e.connect()
	e.v.SetAccountID("acct_other")
	if _, w := e.whoami(tok.AccessToken); w.Account.ID != "acct_fixed" {
		t.Fatalf("grant's account = %q, want acct_fixed", w.Account.ID)
	}
	if _, w := e.whoami(e.connect().AccessToken); w.Account.ID != "acct_other" {
		t.Fatalf("new grant's account = %q, want acct_other", w.Account.ID)
	}
}

func basic(user, pass string) string {
	req, _ := http.NewRequest("GET", "/", nil)
	req.SetBasicAuth(user, pass)
	return req.Header.Get("Authorization")
}

func TestRequestLogRedacts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.v.AddAPIKey("sekrit-key")
	tok := e.connect()
	e.call("GET", "/api/whoami", "", "Authorization", "Bearer "+tok.AccessToken, "X-Trace", "t1")
	e.call("GET", "/api/whoami", "", "X-Api-Key", "sekrit-key")

	reqs := e.v.Requests()
	var paths []string
	for _, r := range reqs {
		paths = append(paths, r.Method+" "+r.Path)
		dump := fmt.Sprintf("%v %s %s", r.Header, r.Body, r.Query)
		for _, secret := range []string{tok.AccessToken, tok.RefreshToken, "sekrit-key", DefaultClientSecret} {
			if strings.Contains(dump, secret) {
				t.Errorf("%s %s logs a secret: %s", r.Method, r.Path, dump)
			}
		}
		if r.Time.IsZero() || r.Status == 0 {
			t.Errorf("%s %s: time %v status %d", r.Method, r.Path, r.Time, r.Status)
		}
	}
	want := []string{"GET /oauth/authorize", "POST /oauth/token", "GET /api/whoami", "GET /api/whoami"}
	if !slices.Equal(paths, want) {
		t.Fatalf("requests = %v, want %v", paths, want)
	}
	if got := reqs[1].Header.Get("Authorization"); got != "Basic "+Redacted {
		t.Errorf("token request Authorization = %q", got)
	}
	if reqs[1].Body != nil {
		t.Errorf("token request body logged: %q", reqs[1].Body)
	}
	if got := reqs[2].Header.Get("Authorization"); got != "Bearer "+Redacted || reqs[2].Header.Get("X-Trace") != "t1" {
		t.Errorf("API request headers = %v", reqs[2].Header)
	}
	if got := reqs[3].Header.Get("X-Api-Key"); got != Redacted {
		t.Errorf("X-Api-Key = %q", got)
	}
	// Requests returns copies.
	reqs[2].Header.Set("X-Trace", "changed")
	if e.v.Requests()[2].Header.Get("X-Trace") != "t1" {
		t.Error("Requests() shares its headers")
	}
}

func TestConnector(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.v.Connector()
	if c.Slug != "fakevendor" || c.Family != "dev" || !c.Supports("oauth2") || !c.Supports("api_key") ||
		!c.Supports("basic") || c.OAuth == nil || c.OAuth.PKCE != "S256" || !c.OAuth.RefreshTokenRotates ||
		!slices.Equal(c.OAuth.DefaultScopes, []string{"profile", "items:read"}) || len(c.OAuth.Scopes) != 3 ||
		c.API.BaseURL != e.v.URL()+"/api" || c.API.Auth.Type != "bearer" || c.Verify == nil ||
		c.Verify.Path != "/whoami" || c.Verify.AccountID != "account.id" || c.Verify.AccountName != "account.name" {
		t.Fatalf("Connector() = %+v", c)
	}
	if !slices.ContainsFunc(c.Fields, func(f patchbay.Field) bool { return f.Name == "api_key" && f.Secret }) {
		t.Fatalf("fields = %+v, want a secret api_key", c.Fields)
	}
	for _, u := range []string{c.OAuth.AuthorizationURL, c.OAuth.TokenURL, c.OAuth.RevocationURL} {
		if !strings.HasPrefix(u, e.v.URL()+"/oauth/") {
			t.Errorf("OAuth URL %s is not the fake's", u)
		}
	}

	// Verify as Patchbay would: base URL + path, the credential as Bearer,
	// the account at the dotted paths.
	e.v.AddAPIKey("k")
	for _, cred := range []string{e.connect().AccessToken, "k"} {
		req, _ := http.NewRequest(c.Verify.Method, c.API.BaseURL+c.Verify.Path, nil)
		req.Header.Set("Authorization", "Bearer "+cred)
		resp, body := e.do(req)
		wantStatus(t, "verify", resp.StatusCode, http.StatusOK)
		var doc map[string]any
		if err := json.Unmarshal(body, &doc); err != nil {
			t.Fatal(err)
		}
		if id, _ := dotted(doc, c.Verify.AccountID).(string); !strings.HasPrefix(id, "acct_") {
			t.Errorf("account id at %s = %v", c.Verify.AccountID, id)
		}
		if name := dotted(doc, c.Verify.AccountName); name != AccountName {
			t.Errorf("account name at %s = %v", c.Verify.AccountName, name)
		}
	}
	resp, _ := e.get("/docs", "")
	wantStatus(t, "DocsURL", resp.StatusCode, http.StatusOK)
}

// dotted follows a dotted path into decoded JSON.
func dotted(v any, path string) any {
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}
