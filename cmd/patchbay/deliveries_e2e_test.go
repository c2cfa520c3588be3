package main_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/patchbay/patchbay/client"
	"github.com/patchbay/patchbay/internal/postgres/pgtest"
)

func TestDeliveriesEndToEndSQLite(t *testing.T) {
	t.Parallel()
	testDeliveries(t, "", 1)
}

// TestDeliveriesEndToEndPostgres runs two replicas on one database: each
// event is delivered once (the replicas claim with SKIP LOCKED).
func TestDeliveriesEndToEndPostgres(t *testing.T) {
	t.Parallel()
	testDeliveries(t, pgtest.URL(t), 2)
}

func testDeliveries(t *testing.T, database string, replicas int) {
	ctx := context.Background()
	var mu sync.Mutex
	seen := map[string]int{}
	var secret string
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		wh, err := standardwebhooks.NewWebhook(secret)
		if err != nil || wh.Verify(body, r.Header) != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		seen[r.Header.Get("webhook-id")]++
	}))
	defer receiver.Close()

	e := env{t: t, dataDir: t.TempDir(), database: database, extra: []string{"PATCHBAY_ALLOW_NETWORKS=127.0.0.0/8"}}
	out, stderr, code := e.run("init", "--json")
	if code != 0 {
		t.Fatalf("init: %s", stderr)
	}
	var creds map[string]string
	if err := json.Unmarshal([]byte(out), &creds); err != nil {
		t.Fatal(err)
	}
	var servers []*server
	for i := 0; i < replicas; i++ {
		servers = append(servers, e.serve())
	}
	c := client.New(servers[0].url, creds["api_key"])
	url := receiver.URL + "/hooks"
	var ep client.EndpointSecret
	if err := c.Do(ctx, "POST", "/v1/endpoints", nil, client.EndpointRequest{URL: &url, EventTypes: []string{"order.*"}}, &ep); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	secret = ep.Secret
	mu.Unlock()

	const n = 40
	var batch client.BatchRequest
	for i := 0; i < n; i++ {
		batch.Events = append(batch.Events, client.EventRequest{Type: "order.created",
			Payload: json.RawMessage(fmt.Sprintf(`{"order": %d}`, i)), IdempotencyKey: fmt.Sprintf("order-%d", i)})
	}
	// Publish through every replica, the same batch twice: idempotency
	// keys make the second a no-op.
	for _, s := range servers {
		var res client.List[client.Published]
		if err := client.New(s.url, creds["api_key"]).Do(ctx, "POST", "/v1/events/batch", nil, batch, &res); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		got := len(seen)
		mu.Unlock()
		if got == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d events delivered", got, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // room for a duplicate to show up
	mu.Lock()
	for id, count := range seen {
		if count != 1 {
			t.Errorf("event %s delivered %d times", id, count)
		}
	}
	mu.Unlock()
	var log client.List[client.Delivery]
	if err := c.Do(ctx, "GET", "/v1/deliveries", map[string][]string{"status": {"delivered"}, "limit": {"100"}}, nil, &log); err != nil || len(log.Data) != n {
		t.Fatalf("delivery log: %d delivered, %v", len(log.Data), err)
	}
	// The CLI publishes and reads the log through the same API.
	remote := []string{"--url", servers[0].url, "--api-key", creds["api_key"]}
	if out, stderr, code := e.run(append([]string{"events", "publish", "order.shipped", `{"order": 1}`}, remote...)...); code != 0 ||
		!strings.Contains(out, "to 1 endpoints") {
		t.Fatalf("cli events publish: exit %d\n%s%s", code, out, stderr)
	}
	if out, _, code := e.run(append([]string{"deliveries", "--status", "delivered", "--json"}, remote...)...); code != 0 ||
		!strings.Contains(out, log.Data[0].ID) {
		t.Fatalf("cli deliveries: exit %d\n%s", code, out)
	}
	if _, stderr, code := e.run(append([]string{"events", "publish", "order.shipped", "{not json"}, remote...)...); code != 1 ||
		!strings.HasPrefix(lastLine(stderr), "patchbay: ") {
		t.Fatalf("cli bad payload: exit %d, %q", code, stderr)
	}
	for _, s := range servers {
		s.stop(t)
	}
}
