package syncs

import (
	"context"
	"errors"
	"time"

	"github.com/patchbay/patchbay"
)

// Scheduler starts the runs of due schedules. Every replica runs one; a
// lease elects the one that works, so each due schedule starts one run.
type Scheduler struct {
	Syncs    *Service
	Interval time.Duration // between rounds; 30 s when zero
	Batch    int           // schedules per round; 100 when zero

	owner string
	stop  context.CancelFunc
	done  chan struct{}
}

// leaseName is the scheduler's lease, apart from the pruner's.
const leaseName = "sync-scheduler"

func (sc *Scheduler) interval() time.Duration {
	if sc.Interval <= 0 {
		return 30 * time.Second
	}
	return sc.Interval
}

// worse returns the poorer of two health levels.
func worse(a, b patchbay.Health) patchbay.Health {
	rank := map[patchbay.Health]int{patchbay.HealthDegraded: 1, patchbay.HealthFailing: 2, patchbay.HealthDisabled: 3}
	if rank[b] > rank[a] {
		return b
	}
	return a
}

// RunDue runs one round if this replica holds (or takes) the lease: for
// each due schedule it starts a run and sets the next one an interval
// away, times the backoff factor of the poorer of the schedule's and the
// connection's health. A run of an entity type the connector can list is
// pulled at once; any other is announced to the host platform with a
// sync.due event. It returns how many runs it started.
func (sc *Scheduler) RunDue(ctx context.Context) (int, error) {
	s := sc.Syncs
	if sc.owner == "" {
		sc.owner = patchbay.NewID("sch")
	}
	batch := sc.Batch
	if batch <= 0 {
		batch = 100
	}
	if ok, err := s.store.AcquireLease(ctx, leaseName, sc.owner, 2*sc.interval()); err != nil || !ok {
		return 0, err
	}
	due, err := s.store.DueSyncSchedules(ctx, s.now(), batch)
	if err != nil {
		return 0, err
	}
	started := 0
	for _, sch := range due {
		if err := ctx.Err(); err != nil {
			return started, err
		}
		if sc.runLogged(ctx, sch) {
			started++
		}
	}
	return started, nil
}

// runLogged is runOne with its error logged: one schedule's failure does
// not keep the others from running.
func (sc *Scheduler) runLogged(ctx context.Context, sch *patchbay.SyncSchedule) bool {
	ok, err := sc.runOne(ctx, sch)
	if err != nil {
		sc.Syncs.logger.ErrorContext(ctx, "scheduled sync", "connection", sch.ConnectionID, "entity_type", sch.EntityType,
			"error", err.Error())
	}
	return ok
}

// runOne starts the run of one due schedule; it reports whether it did.
func (sc *Scheduler) runOne(ctx context.Context, sch *patchbay.SyncSchedule) (bool, error) {
	s := sc.Syncs
	ctx = system(ctx, sch.OrgID)
	c, err := s.store.FindConnection(ctx, sch.OrgID, sch.ConnectionID)
	if err != nil {
		return false, err
	}
	now := s.now()
	health := worse(sch.Health, c.Health)
	next, ok := patchbay.NextSyncAt(now, sch.Interval, sch.Enabled, health)
	if !ok {
		// The connection is disabled: look again after the longest backoff.
		next = now.Add(sch.Interval * time.Duration(patchbay.BackoffFactor(patchbay.HealthFailing)))
	}
	r := &patchbay.SyncRun{OrgID: sch.OrgID, ConnectionID: sch.ConnectionID, EntityType: sch.EntityType,
		Direction: sch.Direction, Trigger: patchbay.TriggerScheduled}
	created := false
	err = s.store.WithTx(ctx, func(tx patchbay.Store) error {
		cur, err := tx.FindSyncSchedule(ctx, sch.OrgID, sch.ConnectionID, sch.EntityType, sch.Direction)
		if err != nil {
			return err
		}
		if !cur.Enabled || cur.NextRunAt.IsZero() || cur.NextRunAt.After(now) {
			return nil // changed since it was found due
		}
		cur.NextRunAt = next
		if err := tx.PutSyncSchedule(ctx, cur); err != nil {
			return err
		}
		if !ok {
			return nil
		}
		// Look before inserting: on PostgreSQL a unique violation would
		// abort the transaction, and with it the schedule's update.
		last, _, err := tx.ListSyncRuns(ctx, r.OrgID, patchbay.SyncRunFilter{ConnectionID: r.ConnectionID,
			EntityType: r.EntityType, Direction: r.Direction, Page: patchbay.Page{Limit: 1}})
		if err != nil {
			return err
		}
		if len(last) > 0 && !last[0].Status.Finished() {
			return nil // the last run is still open
		}
		err = tx.CreateSyncRun(ctx, r)
		created = err == nil
		return err
	})
	if err != nil || !ok {
		return false, err
	}
	if !created {
		abandoned, err := s.abandonStale(ctx, r, c)
		if err != nil || !abandoned {
			return false, errors.Join(err, sc.reannounce(ctx, sch, c))
		}
		if err := s.store.CreateSyncRun(ctx, r); err != nil {
			return false, err
		}
	}
	cn, spec, specErr := s.listSpec(c, r.EntityType)
	if specErr == nil && r.Direction == patchbay.SyncInbound {
		_, err := s.pull(ctx, r, cn, spec)
		return true, err
	}
	if err := s.announce(ctx, r, c.ConnectorSlug); err != nil {
		_, ferr := s.store.FinishSyncRun(ctx, r.OrgID, r.ID, patchbay.SyncFinish{Status: patchbay.SyncFailed,
			Error: "The sync.due event could not be published."})
		if ferr != nil {
			return true, ferr
		}
		return true, err
	}
	return true, nil
}

// reannounce publishes sync.due again for a scheduled run still pending
// when its schedule comes due again: the event may have been lost in a
// crash between the run's commit and its publish. Its idempotency key keeps
// a published one from going out twice.
func (sc *Scheduler) reannounce(ctx context.Context, sch *patchbay.SyncSchedule, c *patchbay.Connection) error {
	runs, _, err := sc.Syncs.store.ListSyncRuns(ctx, sch.OrgID, patchbay.SyncRunFilter{ConnectionID: sch.ConnectionID,
		EntityType: sch.EntityType, Direction: sch.Direction, Status: patchbay.SyncPending, Page: patchbay.Page{Limit: 1}})
	if err != nil || len(runs) == 0 || runs[0].Trigger != patchbay.TriggerScheduled {
		return err
	}
	return sc.Syncs.announce(ctx, runs[0], c.ConnectorSlug)
}

// Start runs a round every Interval until Stop.
func (sc *Scheduler) Start(ctx context.Context) {
	ctx, sc.stop = context.WithCancel(ctx)
	sc.done = make(chan struct{})
	go func() {
		defer close(sc.done)
		t := time.NewTicker(sc.interval())
		defer t.Stop()
		for {
			if n, err := sc.RunDue(ctx); err != nil && ctx.Err() == nil {
				sc.Syncs.logger.Error("sync scheduler", "error", err.Error())
			} else if n > 0 {
				sc.Syncs.logger.Info("started scheduled syncs", "count", n)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

// Stop ends the scheduler and waits for it.
func (sc *Scheduler) Stop() {
	if sc.stop != nil {
		sc.stop()
		<-sc.done
		sc.stop = nil
	}
}
