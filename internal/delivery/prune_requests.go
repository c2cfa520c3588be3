package delivery

import (
	"context"
	"time"

	"github.com/patchbay/patchbay"
)

// pruneRequests deletes an org's request log rows and idempotency keys
// past its retention, and proxy cache entries past their stale bound, in
// batches; it returns how many rows it deleted.
func (p *Pruner) pruneRequests(ctx context.Context, s *patchbay.Settings, now time.Time, batch int) (int, error) {
	steps := []func() (int, error){
		func() (int, error) {
			return p.Store.PruneRequests(ctx, s.OrgID, now.Add(-s.RequestLogRetention()), batch)
		},
		func() (int, error) {
			return p.Store.PruneIdempotencyKeys(ctx, s.OrgID, now.Add(-s.IdempotencyKeyRetention()), batch)
		},
		func() (int, error) { return p.Store.PruneCacheEntries(ctx, s.OrgID, now, batch) },
	}
	total := 0
	for _, step := range steps {
		for ctx.Err() == nil {
			n, err := step()
			if err != nil {
				return total, err
			}
			total += n
			if n < batch {
				break
			}
		}
	}
	return total, nil
}
