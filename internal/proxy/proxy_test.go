package proxy_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/internal/connection"
	"github.com/patchbay/patchbay/internal/connector"
	"github.com/patchbay/patchbay/internal/fakevendor"
	"github.com/patchbay/patchbay/internal/proxy"
	"github.com/patchbay/patchbay/internal/secret"
	"github.com/patchbay/patchbay/internal/sqlite"
	"github.com/patchbay/patchbay/internal/sqlstore"
	"github.com/patchbay/patchbay/internal/storetest"
)

// apiKey is the connection's credential: it must never reach the log.
const apiKey = "sk_live_proxy_test_credential_0123456789"

// setup is a proxy over a fresh SQLite store and the fake vendor on
// 127.0.0.1, with one api_key connection to it. Sleeps are recorded, not
// waited.
type setup struct {
	t      *testing.T
	clock  *storetest.Clock
	store  *sqlstore.Store
	vendor *fakevendor.Vendor
	conns  *connection.Service
	proxy  *proxy.Service
	org    *patchbay.NewOrgResult
	conn   *patchbay.Connection
	ctx    context.Context

	mu     sync.Mutex
	sleeps []time.Duration
}

func newSetup(t *testing.T) *setup {
	t.Helper()
	s := &setup{t: t, clock: storetest.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)), vendor: fakevendor.New(t)}
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "patchbay.db"), s.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if _, err := store.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.store = store
	ring, err := secret.ParseRing(secret.NewKeySpec("k1"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := s.vendor.WriteCatalog(dir); err != nil {
		t.Fatal(err)
	}
	cat, err := connector.Load(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	s.conns = connection.New(connection.Config{Store: store, Catalog: cat, Ring: ring, PublicURL: "http://127.0.0.1:1",
		Now: s.clock.Now, Logger: logger})
	s.proxy = proxy.New(proxy.Config{Store: store, Connections: s.conns, Ring: ring, Now: s.clock.Now, Logger: logger,
		Rand: func() float64 { return 0 },
		Sleep: func(ctx context.Context, d time.Duration) error {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.sleeps = append(s.sleeps, d)
			s.clock.Advance(d)
			return ctx.Err()
		}})
	if s.org, err = patchbay.CreateOrgWithAdmin(context.Background(), store, "Acme", "admin@acme.example"); err != nil {
		t.Fatal(err)
	}
	s.ctx = patchbay.WithPrincipal(context.Background(), &patchbay.Principal{OrgID: s.org.Org.ID, ActorType: patchbay.ActorAPIKey,
		ActorID: s.org.Key.ID, Capabilities: patchbay.NewCapabilitySet(patchbay.AllCapabilities...)})
	s.vendor.AddAPIKey(apiKey)
	res, err := s.conns.Create(s.ctx, connection.CreateRequest{Connector: fakevendor.Slug, AuthMode: patchbay.AuthAPIKey,
		Fields: map[string]string{"api_key": apiKey}})
	if err != nil {
		t.Fatal(err)
	}
	s.conn = res.Connection
	return s
}

func (s *setup) call(r proxy.Request) (*proxy.Response, error) {
	s.t.Helper()
	r.OrgID, r.ConnectionID = s.org.Org.ID, s.conn.ID
	return s.proxy.Call(s.ctx, r)
}

func (s *setup) mustCall(r proxy.Request) *proxy.Response {
	s.t.Helper()
	resp, err := s.call(r)
	if err != nil {
		s.t.Fatalf("%s %s: %v", r.Method, r.Path, err)
	}
	return resp
}

func (s *setup) waits() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.sleeps)
}

// log returns the request log, oldest first.
func (s *setup) log() []*patchbay.APIRequest {
	s.t.Helper()
	list, _, err := s.store.ListRequests(context.Background(), s.org.Org.ID, patchbay.RequestFilter{Oldest: true, Page: patchbay.Page{Limit: 200}})
	if err != nil {
		s.t.Fatal(err)
	}
	return list
}

func echoOf(t *testing.T, resp *proxy.Response) fakevendor.Echo {
	t.Helper()
	var e fakevendor.Echo
	if err := json.Unmarshal(resp.Body, &e); err != nil {
		t.Fatalf("echo: %v; body %s", err, resp.Body)
	}
	return e
}

func TestRetryOn429HonoursRetryAfter(t *testing.T) {
	t.Parallel()
	s := newSetup(t)
	s.vendor.RateLimitNext(2, 7*time.Second)
	before := s.clock.Now()
	resp := s.mustCall(proxy.Request{Method: "GET", Path: "/echo/orders?status=open"})
	if resp.StatusCode != 200 || resp.Attempts != 3 {
		t.Fatalf("status %d after %d attempts, want 200 after 3", resp.StatusCode, resp.Attempts)
	}
	if w := s.waits(); !slices.Equal(w, []time.Duration{7 * time.Second, 7 * time.Second}) {
		t.Errorf("waited %v, want the vendor's Retry-After of 7s twice", w)
	}
	if got := s.clock.Now().Sub(before); got != 14*time.Second {
		t.Errorf("clock moved %v, want 14s", got)
	}
	if e := echoOf(t, resp); e.Path != "/api/echo/orders" || e.Query != "status=open" {
		t.Errorf("vendor saw %s?%s", e.Path, e.Query)
	}
	if resp.Header.Get("Request-Id") != "req_fake_1" {
		t.Errorf("vendor request id header %q", resp.Header.Get("Request-Id"))
	}
	rows := s.log()
	var proxied []*patchbay.APIRequest
	for _, r := range rows {
		if r.Source == patchbay.SourceProxy {
			proxied = append(proxied, r)
		}
	}
	if len(proxied) != 3 {
		t.Fatalf("%d proxy rows, want one per attempt (3)", len(proxied))
	}
	first := proxied[0]
	for i, r := range proxied {
		wantStatus, wantRetryOf := 429, first.ID
		if i == 0 {
			wantRetryOf = ""
		}
		if i == 2 {
			wantStatus = 200
		}
		if r.StatusCode != wantStatus || r.RetryOf != wantRetryOf || r.Attempt != i+1 || r.Method != "GET" ||
			r.Path != "/echo/orders?status=open" || r.ConnectionID != s.conn.ID || r.Connector != fakevendor.Slug {
			t.Errorf("row %d = %+v; want status %d, retry_of %q, attempt %d", i, r, wantStatus, wantRetryOf, i+1)
		}
	}
	if proxied[2].VendorRequestID != "req_fake_1" || resp.LogID != proxied[2].ID {
		t.Errorf("last row: vendor request id %q, id %s (answer's %s)", proxied[2].VendorRequestID, proxied[2].ID, resp.LogID)
	}
}

func TestRetryAfterBeyondTheCapIsAnswered(t *testing.T) {
	t.Parallel()
	s := newSetup(t)
	s.vendor.RateLimitNext(1, 10*time.Minute)
	resp := s.mustCall(proxy.Request{Method: "GET", Path: "/echo/x"})
	if resp.StatusCode != 429 || resp.Attempts != 1 || len(s.waits()) != 0 || resp.Header.Get("Retry-After") != "600" {
		t.Errorf("status %d, %d attempts, waits %v, Retry-After %q; want the vendor's 429 at once",
			resp.StatusCode, resp.Attempts, s.waits(), resp.Header.Get("Retry-After"))
	}
}

func TestWritesRetryOnlyWhenAsked(t *testing.T) {
	t.Parallel()
	s := newSetup(t)
	s.vendor.FailNext(1, http.StatusServiceUnavailable)
	resp := s.mustCall(proxy.Request{Method: "POST", Path: "/echo/charges", Body: []byte(`{"amount":1}`)})
	if resp.StatusCode != 503 || resp.Attempts != 1 {
		t.Errorf("unasked write: status %d after %d attempts, want 503 after 1", resp.StatusCode, resp.Attempts)
	}
	s.vendor.FailNext(2, http.StatusBadGateway)
	resp = s.mustCall(proxy.Request{Method: "POST", Path: "/echo/charges", Body: []byte(`{"amount":1}`), Retry: true})
	if resp.StatusCode != 200 || resp.Attempts != 3 {
		t.Errorf("asked write: status %d after %d attempts, want 200 after 3", resp.StatusCode, resp.Attempts)
	}
	// Without Retry-After: exponential backoff (Rand 0 takes the low end).
	if w := s.waits(); !slices.Equal(w, []time.Duration{125 * time.Millisecond, 250 * time.Millisecond}) {
		t.Errorf("backoff %v, want 125ms then 250ms", w)
	}
	s.vendor.FailNext(5, http.StatusInternalServerError)
	resp = s.mustCall(proxy.Request{Method: "GET", Path: "/echo/x"})
	if resp.StatusCode != 500 || resp.Attempts != 3 {
		t.Errorf("bounded attempts: status %d after %d, want 500 after 3", resp.StatusCode, resp.Attempts)
	}
}

func TestIdempotencyReplayAndConflict(t *testing.T) {
	t.Parallel()
	s := newSetup(t)
	req := proxy.Request{Method: "POST", Path: "/echo/charges", Body: []byte(`{"amount":100}`), IdempotencyKey: "order-42"}
	first := s.mustCall(req)
	if first.StatusCode != 200 || first.Replayed {
		t.Fatalf("first call: %d, replayed %v", first.StatusCode, first.Replayed)
	}
	if e := echoOf(t, first); e.IdempotencyKey != "order-42" {
		t.Errorf("the vendor got Idempotency-Key %q, want the caller's (the connector declares the header)", e.IdempotencyKey)
	}
	calls := s.vendor.EchoCalls()

	again := s.mustCall(req)
	if !again.Replayed || again.StatusCode != 200 || string(again.Body) != string(first.Body) || again.Attempts != 0 {
		t.Errorf("replay: replayed %v, status %d, attempts %d, body %s", again.Replayed, again.StatusCode, again.Attempts, again.Body)
	}
	if again.Header.Get("Request-Id") != first.Header.Get("Request-Id") {
		t.Errorf("replayed headers %v", again.Header)
	}
	if s.vendor.EchoCalls() != calls {
		t.Error("a replay called the vendor")
	}

	other := req
	other.Body = []byte(`{"amount":999}`)
	_, err := s.call(other)
	if patchbay.ErrorCode(err) != patchbay.ECONFLICT || !strings.Contains(patchbay.ErrorMessage(err), "different request") {
		t.Errorf("same key, other request: %v; want a conflict saying so", err)
	}
	// Another path with the key is another request too.
	other = req
	other.Path = "/echo/refunds"
	if _, err := s.call(other); patchbay.ErrorCode(err) != patchbay.ECONFLICT {
		t.Errorf("same key, other path: %v", err)
	}

	// A key held by a call in progress (another replica's, say).
	held := &patchbay.IdempotencyRecord{OrgID: s.org.Org.ID, ConnectionID: s.conn.ID, Key: "busy",
		RequestHash: "whatever", LockedUntil: s.clock.Now().Add(time.Minute)}
	if _, _, err := s.store.ClaimIdempotencyKey(context.Background(), held, s.clock.Now()); err != nil {
		t.Fatal(err)
	}
	busy := req
	busy.IdempotencyKey = "busy"
	if _, err := s.call(busy); patchbay.ErrorCode(err) != patchbay.ECONFLICT || !strings.Contains(patchbay.ErrorMessage(err), "in progress") {
		t.Errorf("key in flight: %v", err)
	}

	// A keyed call the vendor keeps failing is not remembered: the same
	// key runs again later. A key makes a write retryable.
	s.vendor.FailNext(3, http.StatusServiceUnavailable)
	flaky := req
	flaky.IdempotencyKey = "flaky"
	resp := s.mustCall(flaky)
	if resp.StatusCode != 503 || resp.Attempts != 3 {
		t.Errorf("failing keyed call: %d after %d attempts", resp.StatusCode, resp.Attempts)
	}
	if resp = s.mustCall(flaky); resp.StatusCode != 200 || resp.Replayed {
		t.Errorf("after failures the key ran again: status %d, replayed %v", resp.StatusCode, resp.Replayed)
	}

	var replays int
	for _, r := range s.log() {
		if r.Replayed {
			replays++
			if r.IdempotencyKey != "order-42" || r.StatusCode != 200 {
				t.Errorf("replay row %+v", r)
			}
		}
	}
	if replays != 1 {
		t.Errorf("%d replay rows, want 1", replays)
	}
}

func TestCacheAndStaleFallback(t *testing.T) {
	t.Parallel()
	s := newSetup(t)
	req := proxy.Request{Method: "GET", Path: "/echo/plans", CacheTTL: time.Minute, MaxStale: time.Hour}
	miss := s.mustCall(req)
	if miss.Cache != proxy.CacheMiss || miss.StatusCode != 200 {
		t.Fatalf("first call: cache %q, status %d", miss.Cache, miss.StatusCode)
	}
	calls := s.vendor.EchoCalls()
	hit := s.mustCall(req)
	if hit.Cache != proxy.CacheHit || string(hit.Body) != string(miss.Body) || s.vendor.EchoCalls() != calls {
		t.Errorf("fresh: cache %q, vendor calls %d → %d", hit.Cache, calls, s.vendor.EchoCalls())
	}

	s.clock.Advance(5 * time.Minute) // expired, within MaxStale
	s.vendor.FailNext(3, http.StatusServiceUnavailable)
	stale := s.mustCall(req)
	if stale.Cache != proxy.CacheStale || stale.StatusCode != 200 || string(stale.Body) != string(miss.Body) || stale.Attempts != 3 {
		t.Errorf("vendor failing: cache %q, status %d, %d attempts", stale.Cache, stale.StatusCode, stale.Attempts)
	}
	if stale.Header.Get("Age") != "300" {
		t.Errorf("Age %q, want 300", stale.Header.Get("Age"))
	}

	// The vendor back: a fresh answer replaces the entry.
	fresh := s.mustCall(req)
	if fresh.Cache != proxy.CacheMiss || echoOf(t, fresh).Call == echoOf(t, miss).Call {
		t.Errorf("vendor back: cache %q", fresh.Cache)
	}

	// Past MaxStale the failure is the answer.
	s.clock.Advance(3 * time.Hour)
	s.vendor.FailNext(3, http.StatusServiceUnavailable)
	if resp := s.mustCall(req); resp.StatusCode != 503 || resp.Cache != proxy.CacheMiss {
		t.Errorf("past max stale: status %d, cache %q", resp.StatusCode, resp.Cache)
	}

	var hits, stales int
	var failedFirst string
	for _, r := range s.log() {
		switch {
		case r.CacheHit:
			hits++
		case r.Stale:
			stales++
			if r.RetryOf == "" || r.RetryOf != failedFirst || r.StatusCode != 200 {
				t.Errorf("stale row %+v; want retry_of the failed call's first attempt %s", r, failedFirst)
			}
		case r.StatusCode == 503 && r.Attempt == 1 && failedFirst == "":
			failedFirst = r.ID
		}
	}
	if hits != 1 || stales != 1 {
		t.Errorf("%d cache hit rows and %d stale rows, want 1 and 1", hits, stales)
	}
}

func TestRequestLogHoldsNoSecret(t *testing.T) {
	t.Parallel()
	s := newSetup(t)
	// The vendor echoes the credential it received; the caller sends
	// secrets of its own in the query and the body.
	s.mustCall(proxy.Request{Method: "GET", Path: "/echo/me?access_token=callers-own-token&expand=1"})
	s.mustCall(proxy.Request{Method: "POST", Path: "/echo/users", Retry: true,
		Body: []byte(`{"name":"Ada","password":"hunter2hunter2","nested":{"api_key":"k-123456789"}}`)})
	s.mustCall(proxy.Request{Method: "POST", Path: "/echo/form", Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
		Body: []byte("name=Ada&client_secret=form-secret-value")})
	resp, err := s.conns.Do(s.ctx, s.org.Org.ID, s.conn.ID, "GET", "/echo/delivery", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if _, _, err := s.conns.Test(s.ctx, s.conn.ID); err != nil {
		t.Fatal(err)
	}

	rows := s.log()
	dump, _ := json.Marshal(rows)
	for _, secret := range []string{apiKey, "callers-own-token", "hunter2hunter2", "k-123456789", "form-secret-value"} {
		if strings.Contains(string(dump), secret) {
			t.Errorf("the request log holds %q", secret)
		}
	}
	sources := map[patchbay.RequestSource]bool{}
	for _, r := range rows {
		sources[r.Source] = true
	}
	for _, want := range patchbay.RequestSources {
		if !sources[want] {
			t.Errorf("no %s row: every vendor call through a connection is logged", want)
		}
	}
	first := rows[0]
	if !strings.Contains(first.ResponseBody, connection.Redacted) || !strings.Contains(first.Path, "access_token=%5BREDACTED%5D") {
		t.Errorf("first row: path %q, response %q", first.Path, first.ResponseBody)
	}
	if !strings.Contains(rows[1].RequestBody, `"name":"Ada"`) {
		t.Errorf("the excerpt lost more than the secrets: %q", rows[1].RequestBody)
	}
}

func TestRefusedWithoutAVendorCall(t *testing.T) {
	t.Parallel()
	s := newSetup(t)
	before := len(s.vendor.Requests())

	for _, tc := range []struct {
		name string
		req  proxy.Request
		code string
	}{
		{"absolute URL", proxy.Request{Method: "GET", Path: "http://evil.example/x"}, patchbay.EINVALID},
		{"dot dot", proxy.Request{Method: "GET", Path: "/echo/../../oauth/token"}, patchbay.EINVALID},
		{"placeholder", proxy.Request{Method: "GET", Path: "/echo/{api_key}"}, patchbay.EINVALID},
		{"method", proxy.Request{Method: "TRACE", Path: "/echo/x"}, patchbay.EINVALID},
		{"cached write", proxy.Request{Method: "POST", Path: "/echo/x", CacheTTL: time.Minute}, patchbay.EINVALID},
		{"key with spaces", proxy.Request{Method: "POST", Path: "/echo/x", IdempotencyKey: "a b"}, patchbay.EINVALID},
	} {
		if _, err := s.call(tc.req); patchbay.ErrorCode(err) != tc.code {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
		}
	}
	if _, err := s.proxy.Call(s.ctx, proxy.Request{OrgID: "org_other", ConnectionID: s.conn.ID, Method: "GET", Path: "/echo/x"}); patchbay.ErrorCode(err) != patchbay.ENOTFOUND {
		t.Errorf("another org's connection: %v", err)
	}

	for _, state := range []patchbay.ConnectionState{patchbay.StatePaused, patchbay.StateAuthExpired, patchbay.StateAuthRevoked, patchbay.StateDisconnected} {
		c, err := s.store.FindConnection(context.Background(), s.org.Org.ID, s.conn.ID)
		if err != nil {
			t.Fatal(err)
		}
		c.State = state
		if err := s.store.UpdateConnection(context.Background(), c); err != nil {
			t.Fatal(err)
		}
		_, err = s.call(proxy.Request{Method: "GET", Path: "/echo/x"})
		if patchbay.ErrorCode(err) != patchbay.ECONFLICT || !strings.Contains(patchbay.ErrorMessage(err), string(state)[:4]) {
			t.Errorf("%s connection: %v", state, err)
		}
	}
	if after := len(s.vendor.Requests()); after != before {
		t.Errorf("refused calls reached the vendor: %d requests", after-before)
	}
	if rows := s.log(); slices.ContainsFunc(rows, func(r *patchbay.APIRequest) bool { return r.Source == patchbay.SourceProxy }) {
		t.Errorf("refused calls were logged as vendor calls: %d rows", len(rows))
	}
}

func TestScopesChecked(t *testing.T) {
	t.Parallel()
	s := newSetup(t)
	c := &patchbay.Connection{ID: patchbay.NewID("con"), OrgID: s.org.Org.ID, ConnectorSlug: fakevendor.Slug, DisplayName: "OAuth",
		State: patchbay.StateActive, AuthMode: patchbay.AuthOAuth2, Scopes: []string{fakevendor.ScopeProfile}}
	if err := s.store.CreateConnection(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	_, err := s.proxy.Call(s.ctx, proxy.Request{OrgID: s.org.Org.ID, ConnectionID: c.ID, Method: "POST", Path: "/items",
		RequireScopes: []string{fakevendor.ScopeProfile, fakevendor.ScopeItemsWrite}})
	var pe *patchbay.Error
	if !errors.As(err, &pe) || pe.Code != patchbay.ESCOPE || !slices.Equal(pe.Details, []string{fakevendor.ScopeItemsWrite}) {
		t.Fatalf("missing scope: %v, want insufficient_scope naming items:write", err)
	}
}

func TestIdempotencyKeyRunsOnceUnderConcurrency(t *testing.T) {
	t.Parallel()
	s := newSetup(t)
	s.vendor.SetLatency(50 * time.Millisecond) // keep the first call in flight
	req := proxy.Request{OrgID: s.org.Org.ID, ConnectionID: s.conn.ID, Method: "POST", Path: "/echo/payouts",
		Body: []byte(`{"amount":5}`), IdempotencyKey: "payout-1"}
	var wg sync.WaitGroup
	results := make([]error, 8)
	for i := range results {
		wg.Go(func() {
			_, results[i] = s.proxy.Call(s.ctx, req)
		})
	}
	wg.Wait()
	ok, inFlight := 0, 0
	for _, err := range results {
		switch {
		case err == nil:
			ok++
		case patchbay.ErrorCode(err) == patchbay.ECONFLICT:
			inFlight++
		default:
			t.Errorf("unexpected error %v", err)
		}
	}
	if s.vendor.EchoCalls() != 1 || ok+inFlight != len(results) || ok == 0 {
		t.Errorf("vendor called %d times (want 1); %d answers, %d in-flight conflicts", s.vendor.EchoCalls(), ok, inFlight)
	}
}
