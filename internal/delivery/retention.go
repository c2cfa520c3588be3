package delivery

import (
	"context"
	"time"

	"github.com/patchbay/patchbay"
)

// RetainedCounts are the rows a pruning round deleted besides deliveries.
type RetainedCounts struct {
	SyncOps   int // operation-log entries
	SyncItems int // finished items of finished runs
	Inbound   int // received webhooks
}

// pruneRetained deletes, in batches, an org's sync operation log, finished
// sync items and received webhooks past the org's retention for each.
func (p *Pruner) pruneRetained(ctx context.Context, s *patchbay.Settings, now time.Time, batch int) (RetainedCounts, error) {
	var c RetainedCounts
	for _, job := range []struct {
		n      *int
		cutoff time.Time
		prune  func(ctx context.Context, orgID string, cutoff time.Time, limit int) (int, error)
	}{
		{&c.SyncOps, now.Add(-s.OperationLogRetentionOrDefault()), p.Store.PruneSyncOps},
		{&c.SyncItems, now.Add(-s.SyncItemRetentionOrDefault()), p.Store.PruneSyncItems},
		{&c.Inbound, now.Add(-s.InboundRetentionOrDefault()), p.Store.PruneInbound},
	} {
		for ctx.Err() == nil {
			n, err := job.prune(ctx, s.OrgID, job.cutoff, batch)
			if err != nil {
				return c, err
			}
			*job.n += n
			if n < batch {
				break
			}
		}
	}
	return c, nil
}
