package main_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/patchbay/patchbay/client"
	"github.com/patchbay/patchbay/internal/fakevendor"
)

// TestProxyEndToEnd drives the proxy of the real binary on SQLite through
// the client and the CLI: a rate-limited call retried after the vendor's
// Retry-After, an idempotent replay, and a request log without the
// credential.
func TestProxyEndToEnd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := newPlane(t, "")
	const secret = "vendor-api-key-proxy-e2e-4d2b"
	p.vendor.AddAPIKey(secret)
	srv := p.env.serve()
	c := p.client(srv.url)
	var conn client.ConnectionResult
	if err := c.Do(ctx, "POST", "/v1/connections", nil, client.CreateConnectionRequest{Connector: fakevendor.Slug,
		AuthMode: "api_key", Fields: map[string]string{"api_key": secret}}, &conn); err != nil {
		t.Fatal(err)
	}
	id := conn.Connection.ID

	p.vendor.RateLimitNext(1, time.Second)
	res, err := c.Proxy(ctx, id, client.ProxyRequest{Method: "GET", Path: "/echo/orders?limit=1"})
	if err != nil || res.StatusCode != 200 || res.Header.Get(client.HeaderAttempts) != "2" {
		t.Fatalf("rate-limited GET: %+v %v", res, err)
	}

	post := client.ProxyRequest{Method: "POST", Path: "/echo/orders", Body: []byte(`{"n":1}`), IdempotencyKey: "e2e-1"}
	first, err := c.Proxy(ctx, id, post)
	if err != nil || first.StatusCode != 200 {
		t.Fatalf("keyed POST: %+v %v", first, err)
	}
	again, err := c.Proxy(ctx, id, post)
	if err != nil || !again.Replayed || string(again.Body) != string(first.Body) {
		t.Fatalf("replay: %+v %v", again, err)
	}
	post.Body = []byte(`{"n":2}`)
	if _, err := c.Proxy(ctx, id, post); client.ErrorCode(err) != "conflict" {
		t.Fatalf("reused key: %v", err)
	}

	remote := []string{"--url", srv.url, "--api-key", p.creds.APIKey}
	out, stderr, code := p.env.run(append([]string{"connections", "proxy", id, "GET", "/echo/cli"}, remote...)...)
	if code != 0 || !strings.Contains(out, `"path":"/api/echo/cli"`) {
		t.Fatalf("cli proxy: exit %d\n%s%s", code, out, stderr)
	}
	out, stderr, code = p.env.run(append([]string{"requests", "--json", "--connection", id, "--limit", "200"}, remote...)...)
	if code != 0 {
		t.Fatalf("cli requests: exit %d\n%s", code, stderr)
	}
	var list client.List[client.APIRequest]
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("cli requests output: %v\n%s", err, out)
	}
	var retries, replays int
	for _, r := range list.Data {
		if r.RetryOf != "" {
			retries++
		}
		if r.Replayed {
			replays++
		}
	}
	// 429 and its retry, the keyed POST and its replay, the CLI GET.
	if retries != 1 || replays != 1 || len(list.Data) != 5 {
		t.Errorf("request log: %d rows, %d retries, %d replays", len(list.Data), retries, replays)
	}
	if strings.Contains(out, secret) || !strings.Contains(out, "[REDACTED]") {
		t.Errorf("the request log shows the credential (or does not redact the vendor's echo of it)")
	}
}
