package delivery_test

import (
	"context"
	"testing"
	"time"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/internal/delivery"
)

// TestPruneRetained prunes the sync operation log, finished sync items and
// received webhooks, each past its own retention (the defaults: 365, 30
// and 90 days), in batches, on the replica holding the lease.
func TestPruneRetained(t *testing.T) {
	s := newSetup(t)
	ctx := context.Background()
	org := s.org.Org.ID
	c := &patchbay.Connection{OrgID: org, ConnectorSlug: "hubspot", DisplayName: "CRM", State: patchbay.StateActive,
		AuthMode: patchbay.AuthAPIKey}
	if err := s.store.CreateConnection(ctx, c); err != nil {
		t.Fatal(err)
	}
	run := &patchbay.SyncRun{OrgID: org, ConnectionID: c.ID, EntityType: "contacts"}
	if err := s.store.CreateSyncRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	var items []*patchbay.SyncItem
	for i := int64(1); i <= 5; i++ {
		items = append(items, &patchbay.SyncItem{Seq: i, Cursor: "c", Status: patchbay.ItemSucceeded})
	}
	if _, err := s.store.PutSyncItems(ctx, org, run.ID, items); err != nil {
		t.Fatal(err)
	}
	if err := s.store.AddSyncOps(ctx, org, run.ID, []*patchbay.SyncOp{{Message: "one"}, {Message: "two"}, {Message: "three"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.store.FinishSyncRun(ctx, org, run.ID, patchbay.SyncFinish{Status: patchbay.SyncCompleted}); err != nil {
		t.Fatal(err)
	}
	hook := &patchbay.InboundWebhook{OrgID: org, ConnectionID: c.ID, Provider: "hubspot", Status: patchbay.InboundProcessed}
	if err := s.store.CreateInbound(ctx, hook); err != nil {
		t.Fatal(err)
	}

	p := &delivery.Pruner{Store: s.store, Now: s.clock.Now, Batch: 2}
	steps := []struct {
		after time.Duration
		want  delivery.RetainedCounts
	}{
		{29 * 24 * time.Hour, delivery.RetainedCounts{}},
		{2 * 24 * time.Hour, delivery.RetainedCounts{SyncItems: 5}},
		{60 * 24 * time.Hour, delivery.RetainedCounts{Inbound: 1}},
		{300 * 24 * time.Hour, delivery.RetainedCounts{SyncOps: 3}},
	}
	for _, st := range steps {
		s.clock.Advance(st.after)
		if _, err := p.Prune(ctx); err != nil {
			t.Fatal(err)
		}
		if p.Retained != st.want {
			t.Fatalf("after %v more: pruned %+v, want %+v", st.after, p.Retained, st.want)
		}
	}
	// An org's own, shorter retention applies.
	if err := s.store.SaveSettings(ctx, &patchbay.Settings{OrgID: org, InboundRetention: 24 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	fresh := &patchbay.InboundWebhook{OrgID: org, ConnectionID: c.ID, Provider: "hubspot", Status: patchbay.InboundFailed}
	if err := s.store.CreateInbound(ctx, fresh); err != nil {
		t.Fatal(err)
	}
	s.clock.Advance(25 * time.Hour)
	if _, err := p.Prune(ctx); err != nil || p.Retained.Inbound != 1 {
		t.Fatalf("org retention: pruned %+v %v", p.Retained, err)
	}
}
