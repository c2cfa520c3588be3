package httpapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/client"
)

// raw sends a request with a raw body and extra headers.
func (f *fixture) raw(method, path, key, body string, header http.Header) *httptest.ResponseRecorder {
	f.t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	req.Header.Set("Authorization", "Bearer "+key)
	w := httptest.NewRecorder()
	f.srv.ServeHTTP(w, req)
	return w
}

func TestProxyOverHTTP(t *testing.T) {
	f := newFixture(t)
	a := f.newOrg("Org A", "admin@a.example")
	c := f.newConnection(a.Org.ID, 1)
	base := "/v1/connections/" + c.ID + "/proxy"

	w := f.do("GET", base+"/echo/orders?limit=2", a.APIKey, nil)
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"path":"/api/echo/orders"`) || !strings.Contains(w.Body.String(), `"query":"limit=2"`) {
		t.Fatalf("GET: %d %s", w.Code, w.Body)
	}
	if w.Header().Get(client.HeaderRequestID) == "" || w.Header().Get(client.HeaderAttempts) != "1" || w.Header().Get("Request-Id") == "" {
		t.Errorf("answer headers %v", w.Header())
	}

	// A form body passes through: the vendor decides what it takes.
	w = f.raw("POST", base+"/echo/charges", a.APIKey, "amount=100&currency=eur",
		http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
	if w.Code != 200 || !strings.Contains(w.Body.String(), "application/x-www-form-urlencoded") {
		t.Errorf("form POST: %d %s", w.Code, w.Body)
	}
	// Every method the proxy passes on is served at the same path.
	for _, m := range []string{"PUT", "PATCH", "DELETE"} {
		if w := f.raw(m, base+"/echo/x", a.APIKey, "{}", nil); w.Code != 200 || !strings.Contains(w.Body.String(), `"method":"`+m+`"`) {
			t.Errorf("%s: %d %s", m, w.Code, w.Body)
		}
	}
	if w := f.raw("HEAD", base+"/echo/x", a.APIKey, "", nil); w.Code != 200 || w.Body.Len() != 0 {
		t.Errorf("HEAD: %d, %d bytes", w.Code, w.Body.Len())
	}
	if w := f.raw("OPTIONS", base+"/echo/x", a.APIKey, "", nil); w.Code != 405 || errorCode(t, w) != patchbay.ENOTALLOWED {
		t.Errorf("OPTIONS: %d %s", w.Code, w.Body)
	}

	// The Editor may not proxy; a custom role may be granted it.
	editor, _ := f.newKey(a.Org.ID, patchbay.RoleEditor, nil, 0)
	if w := f.do("GET", base+"/echo/x", editor, nil); w.Code != 403 || errorCode(t, w) != patchbay.EFORBIDDEN {
		t.Errorf("Editor: %d %s", w.Code, w.Body)
	}
	platform := f.newRole(a.Org.ID, "Platform", patchbay.CapConnectionsProxy)
	pk, _ := f.newKey(a.Org.ID, platform.ID, nil, 0)
	if w := f.do("GET", base+"/echo/x", pk, nil); w.Code != 200 {
		t.Errorf("custom role with connections:proxy: %d %s", w.Code, w.Body)
	}

	// Idempotency: replay, then conflict.
	key := http.Header{client.HeaderIdempotencyKey: {"order-7"}, "Content-Type": {"application/json"}}
	first := f.raw("POST", base+"/echo/orders", a.APIKey, `{"n":1}`, key)
	again := f.raw("POST", base+"/echo/orders", a.APIKey, `{"n":1}`, key)
	if first.Code != 200 || again.Code != 200 || again.Body.String() != first.Body.String() || again.Header().Get(client.HeaderReplayed) != "true" {
		t.Errorf("replay: %d/%d, replayed %q", first.Code, again.Code, again.Header().Get(client.HeaderReplayed))
	}
	if w := f.raw("POST", base+"/echo/orders", a.APIKey, `{"n":2}`, key); w.Code != 409 || errorCode(t, w) != patchbay.ECONFLICT {
		t.Errorf("conflict: %d %s", w.Code, w.Body)
	}

	// Bad headers and paths.
	for name, h := range map[string]http.Header{
		"ttl":   {client.HeaderCacheTTL: {"soon"}},
		"retry": {client.HeaderRetry: {"maybe"}},
	} {
		if w := f.raw("GET", base+"/echo/x", a.APIKey, "", h); w.Code != 400 {
			t.Errorf("bad %s header: %d", name, w.Code)
		}
	}
	if w := f.do("GET", base+"/echo/%2e%2e/%2e%2e/oauth/token", a.APIKey, nil); w.Code != 400 {
		t.Errorf("escaped dot segments: %d %s", w.Code, w.Body)
	}

	// The request log lists the calls, never the credential.
	var list client.List[client.APIRequest]
	f.must(200, "GET", "/v1/requests?connection_id="+c.ID+"&method=POST&status=2xx&source=proxy&sort=oldest", a.APIKey, nil, &list)
	if len(list.Data) < 2 || list.Data[0].Path != "/echo/charges" || list.Data[0].Source != "proxy" {
		t.Fatalf("request log: %+v", list.Data)
	}
	var replayed int
	for _, r := range list.Data {
		if r.Replayed {
			replayed++
		}
	}
	if replayed != 1 {
		t.Errorf("%d replayed rows, want 1", replayed)
	}
	var one client.APIRequest
	f.must(200, "GET", "/v1/requests/"+list.Data[0].ID, a.APIKey, nil, &one)
	if one.ID != list.Data[0].ID || one.ConnectionID != c.ID {
		t.Errorf("get request: %+v", one)
	}
	all := f.do("GET", "/v1/requests?limit=200", a.APIKey, nil).Body.String()
	secret := "vendor-key-" + a.Org.ID + "-1"
	if strings.Contains(all, secret) || !strings.Contains(all, "[REDACTED]") {
		t.Errorf("the request log shows the credential, or does not redact its echo")
	}
	viewer, _ := f.newKey(a.Org.ID, patchbay.RoleViewer, nil, 0)
	f.must(200, "GET", "/v1/requests?status=404", viewer, nil, &list)
	if len(list.Data) != 0 {
		t.Errorf("status=404 lists %d rows", len(list.Data))
	}

	// A paused connection is refused without a vendor call.
	if _, err := f.conns.Pause(patchbay.WithPrincipal(context.Background(), &patchbay.Principal{OrgID: a.Org.ID,
		ActorType: patchbay.ActorSystem, ActorID: "test", Capabilities: patchbay.NewCapabilitySet(patchbay.AllCapabilities...)}), c.ID); err != nil {
		t.Fatal(err)
	}
	calls := f.vendor.EchoCalls()
	if w := f.do("GET", base+"/echo/x", a.APIKey, nil); w.Code != 409 || errorCode(t, w) != patchbay.ECONFLICT || f.vendor.EchoCalls() != calls {
		t.Errorf("paused: %d %s", w.Code, w.Body)
	}
}

func TestRequestRetentionSettings(t *testing.T) {
	f := newFixture(t)
	a := f.newOrg("Org A", "admin@a.example")
	var st client.Settings
	f.must(200, "GET", "/v1/settings", a.APIKey, nil, &st)
	if st.RequestRetentionDays != 90 || st.IdempotencyRetentionDays != 90 {
		t.Errorf("defaults: %+v", st)
	}
	f.must(200, "PUT", "/v1/settings", a.APIKey, map[string]any{"delivery_retention_days": 0, "retry_schedule": []string{},
		"max_attempts": 0, "request_retention_days": 14, "idempotency_retention_days": 7}, &st)
	f.must(200, "GET", "/v1/settings", a.APIKey, nil, &st)
	if st.RequestRetentionDays != 14 || st.IdempotencyRetentionDays != 7 || st.DeliveryRetentionDays != 30 {
		t.Errorf("saved: %+v", st)
	}
	if w := f.do("PUT", "/v1/settings", a.APIKey, map[string]any{"delivery_retention_days": 0, "retry_schedule": []string{},
		"max_attempts": 0, "request_retention_days": -1}); w.Code != 400 {
		t.Errorf("negative retention: %d", w.Code)
	}
}
