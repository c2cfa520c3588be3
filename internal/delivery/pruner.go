package delivery

import (
	"context"
	"log/slog"
	"time"

	"github.com/patchbay/patchbay"
)

// Pruner deletes finished deliveries, request log rows, idempotency keys,
// sync operation logs, finished sync items and received webhooks past each
// org's retention (and expired proxy cache entries), in batches. Every replica runs one; a lease in the database elects the one
// that works, so pruning happens once.
type Pruner struct {
	Store    patchbay.Store
	Logger   *slog.Logger
	Now      func() time.Time
	Interval time.Duration // between rounds; an hour when zero
	Batch    int           // deliveries deleted per statement; 500 when zero

	// Retained counts what the last round deleted besides deliveries.
	Retained RetainedCounts

	owner string
	stop  context.CancelFunc
	done  chan struct{}
}

// Prune runs one round if this replica holds (or takes) the lease, and
// returns how many deliveries, request log rows, idempotency keys and
// cache entries it deleted; Retained counts the rest.
func (p *Pruner) Prune(ctx context.Context) (int, error) {
	if p.owner == "" {
		p.owner = patchbay.NewID("prn")
	}
	interval, batch := p.Interval, p.Batch
	if interval <= 0 {
		interval = time.Hour
	}
	if batch <= 0 {
		batch = 500
	}
	now := patchbay.Now
	if p.Now != nil {
		now = p.Now
	}
	if ok, err := p.Store.AcquireLease(ctx, "prune", p.owner, 2*interval); err != nil || !ok {
		return 0, err
	}
	orgs, err := p.Store.ListSettings(ctx)
	if err != nil {
		return 0, err
	}
	total := 0
	p.Retained = RetainedCounts{}
	for _, s := range orgs {
		cutoff := now().Add(-s.Retention())
		for ctx.Err() == nil {
			n, err := p.Store.PruneDeliveries(ctx, s.OrgID, cutoff, batch)
			if err != nil {
				return total, err
			}
			total += n
			if n < batch {
				break
			}
		}
		n, err := p.pruneRequests(ctx, s, now(), batch)
		total += n
		if err != nil {
			return total, err
		}
		c, err := p.pruneRetained(ctx, s, now(), batch)
		p.Retained.SyncOps, p.Retained.SyncItems, p.Retained.Inbound = p.Retained.SyncOps+c.SyncOps,
			p.Retained.SyncItems+c.SyncItems, p.Retained.Inbound+c.Inbound
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// Start prunes every Interval until Stop.
func (p *Pruner) Start(ctx context.Context) {
	ctx, p.stop = context.WithCancel(ctx)
	p.done = make(chan struct{})
	interval := p.Interval
	if interval <= 0 {
		interval = time.Hour
	}
	go func() {
		defer close(p.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			if n, err := p.Prune(ctx); err != nil && ctx.Err() == nil {
				p.Logger.Error("prune deliveries", "error", err.Error())
			} else if r := p.Retained; n > 0 || r != (RetainedCounts{}) {
				p.Logger.Info("pruned past retention", "deliveries_and_requests", n, "sync_ops", r.SyncOps,
					"sync_items", r.SyncItems, "inbound", r.Inbound)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

// Stop ends the pruner and waits for it.
func (p *Pruner) Stop() {
	if p.stop != nil {
		p.stop()
		<-p.done
		p.stop = nil
	}
}
