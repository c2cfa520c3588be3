package delivery_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/internal/delivery"
)

// stubHandoff stands in for an Engine: it grants up to room deliveries
// and keeps what it is handed instead of sending it.
type stubHandoff struct {
	room       int
	until      time.Time
	woken      int
	dispatched []*patchbay.Delivery
	events     map[string]*patchbay.Event
	endpoints  map[string]*patchbay.Endpoint
}

func (h *stubHandoff) Wake() { h.woken++ }

func (h *stubHandoff) Reserve(n int) (string, time.Time, int) {
	granted := min(n, h.room)
	h.room -= granted
	return "eng_stub", h.until, granted
}

func (h *stubHandoff) Release(n int) { h.room += n }

func (h *stubHandoff) Dispatch(ds []*patchbay.Delivery, events map[string]*patchbay.Event, endpoints map[string]*patchbay.Endpoint) {
	h.dispatched = append(h.dispatched, ds...)
	h.events, h.endpoints = events, endpoints
}

// A publish stores as many deliveries as the engine has room for already
// leased to it and hands them over after the commit; the rest wait in the
// queue, and only then is the queue woken.
func TestPublishHandsOff(t *testing.T) {
	s := newSetup(t)
	s.engine.Stop()
	r := newReceiver(t)
	a, _ := s.endpoint(r.URL+"/a", "invoice.*")
	b, _ := s.endpoint(r.URL+"/b", "invoice.*")

	h := &stubHandoff{room: 1, until: s.clock.Now().Add(time.Minute)}
	s.svc.SetEngine(h)
	ev := s.publish("invoice.paid")
	if len(h.dispatched) != 1 || h.events[ev.ID] == nil || h.endpoints[h.dispatched[0].EndpointID] == nil {
		t.Fatalf("dispatched %+v with events %v and endpoints %v; want one delivery with its event and endpoint",
			h.dispatched, h.events, h.endpoints)
	}
	if h.woken != 1 {
		t.Errorf("queue woken %d times, want 1 (one delivery had no room)", h.woken)
	}
	statuses := map[patchbay.DeliveryStatus]int{}
	for _, ep := range []*patchbay.Endpoint{a, b} {
		for _, d := range s.deliveries(ep.ID) {
			statuses[d.Status]++
		}
	}
	if statuses[patchbay.DeliverySending] != 1 || statuses[patchbay.DeliveryPending] != 1 {
		t.Errorf("stored statuses %v, want one sending (handed over) and one pending", statuses)
	}

	h.room, h.woken = 10, 0
	s.publish("invoice.voided")
	if len(h.dispatched) != 3 || h.woken != 0 {
		t.Errorf("with room for all: %d dispatched in total (want 3), queue woken %d times (want 0)", len(h.dispatched), h.woken)
	}
}

// A delivery handed over to an engine that died before sending it is
// durable: once its lease ends another engine claims and sends it.
func TestHandedOffDeliverySurvivesItsEngine(t *testing.T) {
	s := newSetup(t)
	s.engine.Stop()
	r := newReceiver(t)
	ep, _ := s.endpoint(r.URL+"/hooks", "invoice.*")
	lease := time.Minute
	s.svc.SetEngine(&stubHandoff{room: 10, until: s.clock.Now().Add(lease)}) // keeps, never sends
	s.publish("invoice.paid")
	if ds := s.deliveries(ep.ID); len(ds) != 1 || ds[0].Status != patchbay.DeliverySending {
		t.Fatalf("deliveries %+v, want one sending", ds)
	}

	next := delivery.NewEngine(delivery.EngineConfig{Store: s.store, Ring: s.ring, Policy: delivery.DefaultPolicy(), Workers: 2,
		Client: delivery.NewClient(delivery.Options{AllowNetworks: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}),
		Now:    s.clock.Now, Rand: func() float64 { return 0.5 }})
	next.Start(context.Background())
	t.Cleanup(next.Stop)
	next.Wake()
	time.Sleep(50 * time.Millisecond)
	if len(r.received()) != 0 {
		t.Fatal("another engine sent a delivery whose lease was still running")
	}
	s.clock.Advance(lease + time.Second)
	next.Wake()
	s.waitFor("delivery after the lease ended", s.status(ep.ID, patchbay.DeliveryDelivered, 1))
}

// The room an engine promises comes back as its workers take what they
// were handed, and a stopped engine promises none.
func TestEngineRoom(t *testing.T) {
	s := newSetup(t)
	r := newReceiver(t)
	ep, _ := s.endpoint(r.URL+"/hooks", "invoice.*")
	_, _, room := s.engine.Reserve(1 << 20)
	s.engine.Release(room)
	if room == 0 {
		t.Fatal("a running engine promises no room")
	}
	for range 3 {
		in := make([]delivery.EventInput, 40)
		for i := range in {
			in[i] = delivery.EventInput{Type: "invoice.paid", Payload: []byte(`{}`)}
		}
		if _, err := s.svc.Publish(s.ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	s.waitFor("120 deliveries", func() bool {
		ds, _, _ := s.store.ListDeliveries(context.Background(), s.org.Org.ID, patchbay.DeliveryFilter{EndpointID: ep.ID,
			Statuses: []patchbay.DeliveryStatus{patchbay.DeliveryDelivered}, Page: patchbay.Page{Limit: 200}})
		return len(ds) == 120
	})
	if n := len(r.received()); n != 120 {
		t.Errorf("receiver got %d requests, want 120", n)
	}
	_, _, after := s.engine.Reserve(1 << 20)
	if after != room {
		t.Errorf("room after the deliveries: %d, want all of it back (%d)", after, room)
	}
	s.engine.Stop()
	if _, _, g := s.engine.Reserve(1); g != 0 {
		t.Errorf("a stopped engine granted %d", g)
	}
}
