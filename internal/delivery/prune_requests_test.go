package delivery_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/internal/delivery"
)

func TestPrunerRequestLogAndIdempotencyKeys(t *testing.T) {
	s := newSetup(t)
	ctx := context.Background()
	if err := s.store.SaveSettings(ctx, &patchbay.Settings{OrgID: s.org.Org.ID,
		RequestRetention: 2 * 24 * time.Hour, IdempotencyRetention: 24 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if err := s.store.CreateRequest(ctx, &patchbay.APIRequest{OrgID: s.org.Org.ID, ConnectionID: "con_1",
			Source: patchbay.SourceProxy, Method: "GET", Path: fmt.Sprint("/x/", i)}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.store.ClaimIdempotencyKey(ctx, &patchbay.IdempotencyRecord{OrgID: s.org.Org.ID, ConnectionID: "con_1",
			Key: fmt.Sprint("k", i), RequestHash: "h", LockedUntil: s.clock.Now()}, s.clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	count := func() (requests int, keyHeld bool) {
		list, _, err := s.store.ListRequests(ctx, s.org.Org.ID, patchbay.RequestFilter{})
		if err != nil {
			t.Fatal(err)
		}
		_, claimed, err := s.store.ClaimIdempotencyKey(ctx, &patchbay.IdempotencyRecord{OrgID: s.org.Org.ID, ConnectionID: "con_1",
			Key: "k0", RequestHash: "other", LockedUntil: s.clock.Now()}, s.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if claimed {
			_ = s.store.ReleaseIdempotencyKey(ctx, s.org.Org.ID, "con_1", "k0")
		}
		return len(list), !claimed
	}
	p := &delivery.Pruner{Store: s.store, Now: s.clock.Now, Batch: 2}
	s.clock.Advance(25 * time.Hour) // past the keys' retention only
	if _, err := p.Prune(ctx); err != nil {
		t.Fatal(err)
	}
	if n, held := count(); n != 5 || held {
		t.Fatalf("after a day: %d requests (want 5), key held %v (want pruned)", n, held)
	}
	s.clock.Advance(24 * time.Hour) // past the request log's too
	n, err := p.Prune(ctx)
	if err != nil || n != 5 {
		t.Fatalf("pruned %d, %v; want the 5 request rows in batches of 2", n, err)
	}
	if n, _ := count(); n != 0 {
		t.Fatalf("%d requests kept past retention", n)
	}
}
