package delivery_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/internal/delivery"
	"github.com/patchbay/patchbay/internal/secret"
	"github.com/patchbay/patchbay/internal/sqlite"
	"github.com/patchbay/patchbay/internal/sqlstore"
	"github.com/patchbay/patchbay/internal/storetest"
)

// receiver is a webhook receiver on 127.0.0.1 that answers with status()
// and keeps what it got.
type receiver struct {
	*httptest.Server
	mu      sync.Mutex
	got     []received
	status  func(n int) (int, http.Header)
	counter int
}

type received struct {
	header http.Header
	body   []byte
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{status: func(int) (int, http.Header) { return http.StatusOK, nil }}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, received{req.Header.Clone(), body})
		r.counter++
		code, h := r.status(r.counter)
		r.mu.Unlock()
		for k, v := range h {
			w.Header()[k] = v
		}
		w.WriteHeader(code)
		_, _ = w.Write([]byte(`{"received":true}`))
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) received() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// setup is a delivery service and engine over a fresh SQLite store, with a
// fixed clock and jitter, allowed to reach 127.0.0.1.
type setup struct {
	t      *testing.T
	clock  *storetest.Clock
	store  *sqlstore.Store
	ring   *secret.Ring
	svc    *delivery.Service
	engine *delivery.Engine
	ctx    context.Context
	org    *patchbay.NewOrgResult
}

func newSetup(t *testing.T) *setup {
	s := &setup{t: t, clock: storetest.NewClock(time.Now().UTC().Truncate(time.Microsecond))}
	var err error
	if s.store, err = sqlite.Open(filepath.Join(t.TempDir(), "p.db"), s.clock.Now); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.store.Close() })
	if _, err := s.store.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	ring, err := secret.ParseRing(secret.NewKeySpec("k1"))
	if err != nil {
		t.Fatal(err)
	}
	if s.org, err = patchbay.CreateOrgWithAdmin(context.Background(), s.store, "Org", "a@example.com"); err != nil {
		t.Fatal(err)
	}
	s.ctx = patchbay.WithPrincipal(context.Background(), &patchbay.Principal{OrgID: s.org.Org.ID, ActorType: patchbay.ActorAPIKey,
		ActorID: s.org.Key.ID, Capabilities: patchbay.NewCapabilitySet(patchbay.AllCapabilities...)})
	s.ring = ring
	s.svc = delivery.NewService(s.store, ring, nil, nil, s.clock.Now)
	policy := delivery.DefaultPolicy()
	s.engine = delivery.NewEngine(delivery.EngineConfig{Store: s.store, Ring: ring, Policy: policy, Workers: 4,
		Client: delivery.NewClient(delivery.Options{AllowNetworks: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}),
		Now:    s.clock.Now, Rand: func() float64 { return 0.5 }, Disable: s.svc.Disable})
	s.svc.SetEngine(s.engine)
	s.engine.Start(context.Background())
	t.Cleanup(s.engine.Stop)
	return s
}

func (s *setup) endpoint(url string, types ...string) (*patchbay.Endpoint, string) {
	s.t.Helper()
	if len(types) == 0 {
		types = []string{"*"}
	}
	e, sec, err := s.svc.CreateEndpoint(s.ctx, delivery.EndpointInput{URL: &url, EventTypes: types})
	if err != nil {
		s.t.Fatal(err)
	}
	return e, sec
}

func (s *setup) publish(typ string) *patchbay.Event {
	s.t.Helper()
	out, err := s.svc.Publish(s.ctx, []delivery.EventInput{{Type: typ, Payload: json.RawMessage(`{"n": 1}`), SourceModule: "billing", SourceID: "inv_1"}})
	if err != nil {
		s.t.Fatal(err)
	}
	return out[0].Event
}

// waitFor polls until cond holds, for at most 10 seconds.
func (s *setup) waitFor(what string, cond func() bool) {
	s.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	s.t.Fatalf("timed out waiting for %s", what)
}

func (s *setup) deliveries(endpointID string) []*patchbay.Delivery {
	list, _, err := s.store.ListDeliveries(context.Background(), s.org.Org.ID, patchbay.DeliveryFilter{EndpointID: endpointID, Oldest: true})
	if err != nil {
		s.t.Fatal(err)
	}
	return list
}

func (s *setup) status(endpointID string, st patchbay.DeliveryStatus, attempts int) func() bool {
	return func() bool {
		ds := s.deliveries(endpointID)
		return len(ds) > 0 && ds[0].Status == st && ds[0].Attempts == attempts
	}
}

func TestDeliverSigned(t *testing.T) {
	s := newSetup(t)
	r := newReceiver(t)
	ep, sec := s.endpoint(r.URL+"/hooks", "invoice.*")
	other, _ := s.endpoint(r.URL+"/other", "customer.created")
	ev := s.publish("invoice.paid")
	s.waitFor("delivery", s.status(ep.ID, patchbay.DeliveryDelivered, 1))
	got := r.received()
	if len(got) != 1 {
		t.Fatalf("receiver got %d requests", len(got))
	}
	wh, err := standardwebhooks.NewWebhook(sec)
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Verify(got[0].body, got[0].header); err != nil {
		t.Fatalf("the official library refuses our signature: %v", err)
	}
	var body struct {
		ID, Type string
		Data     json.RawMessage
		Source   struct{ Module, ID string }
	}
	if err := json.Unmarshal(got[0].body, &body); err != nil || body.ID != ev.ID || body.Type != "invoice.paid" ||
		string(body.Data) != `{"n": 1}` || body.Source.Module != "billing" || got[0].header.Get("webhook-id") != ev.ID {
		t.Fatalf("body %s", got[0].body)
	}
	if len(s.deliveries(other.ID)) != 0 {
		t.Fatal("an unsubscribed endpoint got a delivery")
	}
	attempts, _ := s.store.ListAttempts(context.Background(), s.org.Org.ID, s.deliveries(ep.ID)[0].ID)
	if len(attempts) != 1 || attempts[0].StatusCode != 200 || attempts[0].Response != `{"received":true}` {
		t.Fatalf("attempts %+v", attempts)
	}

	// A rotated secret signs alongside the new one during its grace period.
	_, fresh, err := s.svc.RotateSecret(s.ctx, ep.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	s.publish("invoice.voided")
	s.waitFor("second delivery", func() bool { return len(r.received()) == 2 })
	last := r.received()[1]
	for _, k := range []string{sec, fresh} {
		wh, _ := standardwebhooks.NewWebhook(k)
		if err := wh.Verify(last.body, last.header); err != nil {
			t.Fatalf("during rotation a secret does not verify: %v", err)
		}
	}

	// Once the grace period is over, the old secret no longer signs.
	s.clock.Advance(time.Hour + time.Second)
	s.publish("invoice.sent")
	s.waitFor("third delivery", func() bool { return len(r.received()) == 3 })
	last = r.received()[2]
	if sigs := strings.Fields(last.header.Get("webhook-signature")); len(sigs) != 1 {
		t.Fatalf("after the grace period, signatures %q", sigs)
	}
	// (The test clock is now an hour ahead of the library's.)
	whOld, _ := standardwebhooks.NewWebhook(sec)
	whNew, _ := standardwebhooks.NewWebhook(fresh)
	if whOld.VerifyIgnoringTimestamp(last.body, last.header) == nil || whNew.VerifyIgnoringTimestamp(last.body, last.header) != nil {
		t.Fatal("after the grace period, the old secret still verifies or the new one does not")
	}
}

// TestRetryScheduleAndDeadLetter fails every attempt and walks the clock
// through the retry schedule: 1m, 5m, 15m, 1h, 4h, then dead letter.
func TestRetryScheduleAndDeadLetter(t *testing.T) {
	s := newSetup(t)
	r := newReceiver(t)
	r.status = func(int) (int, http.Header) { return http.StatusInternalServerError, nil }
	ep, sec := s.endpoint(r.URL)
	s.publish("invoice.paid")
	for i, wait := range []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour, 4 * time.Hour} {
		s.waitFor("attempt "+strconv.Itoa(i+1), s.status(ep.ID, patchbay.DeliveryRetrying, i+1))
		d := s.deliveries(ep.ID)[0]
		if got := d.NextAttemptAt.Sub(*d.LastAttemptAt); got != wait {
			t.Fatalf("after attempt %d the wait is %v, want %v", i+1, got, wait)
		}
		s.clock.Advance(wait - time.Second)
		s.engine.Wake()
		time.Sleep(50 * time.Millisecond)
		if n := s.deliveries(ep.ID)[0].Attempts; n != i+1 {
			t.Fatalf("attempt %d made before its time", n)
		}
		s.clock.Advance(time.Second)
		s.engine.Wake()
	}
	s.waitFor("dead letter", s.status(ep.ID, patchbay.DeliveryDeadLetter, 6))
	d := s.deliveries(ep.ID)[0]
	if d.LastStatusCode != 500 || d.LastError == "" {
		t.Fatalf("dead letter %+v", d)
	}
	for _, got := range r.received() {
		wh, _ := standardwebhooks.NewWebhook(sec)
		if err := wh.VerifyIgnoringTimestamp(got.body, got.header); err != nil {
			t.Fatalf("retry not signed: %v", err)
		}
	}

	// A retry by hand gives fresh attempts and keeps the old ones.
	r.status = func(int) (int, http.Header) { return http.StatusOK, nil }
	if _, err := s.svc.Retry(s.ctx, []string{d.ID}); err != nil {
		t.Fatal(err)
	}
	s.waitFor("manual retry", s.status(ep.ID, patchbay.DeliveryDelivered, 7))
	attempts, _ := s.store.ListAttempts(context.Background(), s.org.Org.ID, d.ID)
	if len(attempts) != 7 || !attempts[6].Manual || attempts[5].Manual || attempts[6].Number != 7 {
		t.Fatalf("attempt log after manual retry: %d attempts, last %+v", len(attempts), attempts[len(attempts)-1])
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	s := newSetup(t)
	r := newReceiver(t)
	r.status = func(int) (int, http.Header) {
		return http.StatusTooManyRequests, http.Header{"Retry-After": {"600"}}
	}
	ep, _ := s.endpoint(r.URL)
	s.publish("invoice.paid")
	s.waitFor("first attempt", s.status(ep.ID, patchbay.DeliveryRetrying, 1))
	d := s.deliveries(ep.ID)[0]
	if got := d.NextAttemptAt.Sub(*d.LastAttemptAt); got != 10*time.Minute {
		t.Fatalf("wait %v, want the 10 minutes Retry-After asked for", got)
	}
}

// TestCircuitBreaker disables an endpoint after ten failures in a row,
// holds its deliveries, tells the org with an endpoint.disabled event, and
// re-enables it on a manual retry.
func TestCircuitBreaker(t *testing.T) {
	s := newSetup(t)
	bad := newReceiver(t)
	bad.status = func(int) (int, http.Header) { return http.StatusBadGateway, nil }
	watcher := newReceiver(t)
	ep, _ := s.endpoint(bad.URL, "invoice.*")
	s.endpoint(watcher.URL, "endpoint.*")
	for i := 0; i < patchbay.DisableAfter; i++ {
		s.publish("invoice.paid")
	}
	s.waitFor("the breaker", func() bool {
		e, err := s.store.FindEndpoint(context.Background(), s.org.Org.ID, ep.ID)
		return err == nil && e.DisabledAt != nil
	})
	s.waitFor("endpoint.disabled event", func() bool { return len(watcher.received()) == 1 })
	var note struct {
		Type string
		Data struct {
			EndpointID string `json:"endpoint_id"`
		}
	}
	if err := json.Unmarshal(watcher.received()[0].body, &note); err != nil || note.Type != "endpoint.disabled" || note.Data.EndpointID != ep.ID {
		t.Fatalf("notification %s", watcher.received()[0].body)
	}
	// New events for it are held, visible, not sent.
	before := len(bad.received())
	s.publish("invoice.paid")
	held := s.deliveries(ep.ID)
	for _, d := range held {
		if d.Status != patchbay.DeliveryHeld {
			t.Fatalf("delivery to a disabled endpoint is %s", d.Status)
		}
	}
	time.Sleep(50 * time.Millisecond)
	if len(bad.received()) != before {
		t.Fatal("a disabled endpoint was called")
	}
	conn, err := s.store.FindConnection(context.Background(), s.org.Org.ID, ep.ConnectionID)
	if err != nil || conn.Health != patchbay.HealthDisabled {
		t.Fatalf("the endpoint's connection: %+v %v", conn, err)
	}
	// A manual retry re-enables it and releases what was held.
	bad.status = func(int) (int, http.Header) { return http.StatusOK, nil }
	if _, err := s.svc.Retry(s.ctx, []string{held[0].ID}); err != nil {
		t.Fatal(err)
	}
	s.waitFor("everything delivered", func() bool {
		for _, d := range s.deliveries(ep.ID) {
			if d.Status != patchbay.DeliveryDelivered {
				return false
			}
		}
		return true
	})
	e, _ := s.store.FindEndpoint(context.Background(), s.org.Org.ID, ep.ID)
	if e.DisabledAt != nil || e.ConsecutiveFailures != 0 {
		t.Fatalf("endpoint after retry %+v", e)
	}
}

func TestInactiveEndpointHolds(t *testing.T) {
	s := newSetup(t)
	r := newReceiver(t)
	ep, _ := s.endpoint(r.URL)
	off := false
	if _, err := s.svc.UpdateEndpoint(s.ctx, ep.ID, delivery.EndpointInput{Active: &off}); err != nil {
		t.Fatal(err)
	}
	s.publish("invoice.paid")
	if d := s.deliveries(ep.ID); len(d) != 1 || d[0].Status != patchbay.DeliveryHeld {
		t.Fatalf("deliveries %+v", d)
	}
	on := true
	if _, err := s.svc.UpdateEndpoint(s.ctx, ep.ID, delivery.EndpointInput{Active: &on}); err != nil {
		t.Fatal(err)
	}
	s.waitFor("release", s.status(ep.ID, patchbay.DeliveryDelivered, 1))
}

func TestPublishValidation(t *testing.T) {
	s := newSetup(t)
	for _, in := range []delivery.EventInput{
		{Type: "", Payload: json.RawMessage(`{}`)},
		{Type: "bad type!", Payload: json.RawMessage(`{}`)},
		{Type: "a.b", Payload: json.RawMessage(`{`)},
		{Type: "a.b"},
		{Type: "patchbay.test", Payload: json.RawMessage(`{}`)},
		{Type: "endpoint.disabled", Payload: json.RawMessage(`{}`), SourceModule: "patchbay"},
		{Type: "a.b", Payload: json.RawMessage(`"` + string(make([]byte, 300<<10)) + `"`)},
	} {
		if _, err := s.svc.Publish(s.ctx, []delivery.EventInput{in}); err == nil {
			t.Errorf("%q accepted", in.Type)
		}
	}
	// The same idempotency key gives the same event, stored once.
	in := delivery.EventInput{Type: "a.b", Payload: json.RawMessage(`{}`), IdempotencyKey: "k-1"}
	first, err1 := s.svc.Publish(s.ctx, []delivery.EventInput{in})
	again, err2 := s.svc.Publish(s.ctx, []delivery.EventInput{in})
	if err1 != nil || err2 != nil || first[0].Event.ID != again[0].Event.ID || !again[0].Duplicate {
		t.Fatalf("idempotency: %v %v %+v %+v", err1, err2, first, again)
	}
}
