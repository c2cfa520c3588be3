package delivery_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/internal/delivery"
)

func TestOrgPolicyRetentionAndReport(t *testing.T) {
	s := newSetup(t)
	r := newReceiver(t)
	r.status = func(n int) (int, http.Header) {
		if n == 1 {
			return http.StatusInternalServerError, nil
		}
		return http.StatusOK, nil
	}
	// The org's own retry policy applies to its endpoints.
	if err := s.store.SaveSettings(context.Background(), &patchbay.Settings{OrgID: s.org.Org.ID,
		DeliveryRetention: 24 * time.Hour, RetrySchedule: []time.Duration{30 * time.Second}, MaxAttempts: 3}); err != nil {
		t.Fatal(err)
	}
	ep, _ := s.endpoint(r.URL)
	s.publish("invoice.paid")
	s.waitFor("first attempt", s.status(ep.ID, patchbay.DeliveryRetrying, 1))
	if d := s.deliveries(ep.ID)[0]; d.NextAttemptAt.Sub(*d.LastAttemptAt) != 30*time.Second {
		t.Fatalf("the org's schedule is not used: wait %v", d.NextAttemptAt.Sub(*d.LastAttemptAt))
	}
	s.clock.Advance(30 * time.Second)
	s.engine.Wake()
	s.waitFor("delivery", s.status(ep.ID, patchbay.DeliveryDelivered, 2))

	rep, err := s.store.SummarizeDeliveries(context.Background(), s.org.Org.ID, s.clock.Now().Add(-time.Hour))
	if err != nil || len(rep) != 1 || rep[0].Total != 1 || rep[0].Delivered != 1 || rep[0].LastDelivery == nil {
		t.Fatalf("report %+v %v", rep, err)
	}

	// Past the org's retention, the delivery, its attempts and its event go.
	p := &delivery.Pruner{Store: s.store, Now: s.clock.Now, Batch: 1}
	if n, err := p.Prune(context.Background()); err != nil || n != 0 {
		t.Fatalf("pruned %d within retention: %v", n, err)
	}
	s.clock.Advance(25 * time.Hour)
	if n, err := p.Prune(context.Background()); err != nil || n != 1 {
		t.Fatalf("pruned %d past retention, want 1: %v", n, err)
	}
	if len(s.deliveries(ep.ID)) != 0 {
		t.Fatal("delivery kept past retention")
	}
	// A second replica's pruner does not run while the first holds the lease.
	other := &delivery.Pruner{Store: s.store, Now: s.clock.Now}
	s.publish("invoice.paid")
	s.waitFor("delivery", s.status(ep.ID, patchbay.DeliveryDelivered, 1))
	s.clock.Advance(30 * time.Minute) // within the first pruner's lease
	if ok, err := s.store.AcquireLease(context.Background(), "prune", "someone-else", time.Hour); err != nil || ok {
		t.Fatalf("a second owner took a held lease: %v %v", ok, err)
	}
	if n, err := other.Prune(context.Background()); err != nil || n != 0 {
		t.Fatalf("a second pruner ran: %d %v", n, err)
	}
	// Once the lease lapses, another replica takes over.
	s.clock.Advance(3 * time.Hour)
	if ok, err := s.store.AcquireLease(context.Background(), "prune", "someone-else", time.Hour); err != nil || !ok {
		t.Fatalf("a lapsed lease was not taken over: %v %v", ok, err)
	}
}
