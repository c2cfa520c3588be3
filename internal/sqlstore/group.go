package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// Group commit (Config.GroupCommit, on SQLite).
//
// SQLite has one writer, so under load transactions queue for it, and each
// one pays for its own BEGIN, COMMIT and log frames: a publish of 100
// events rewrites the same last pages of every table and index that the
// publish before it wrote. So a transaction that finds the writer busy
// joins a queue, and when the writer is free the first caller in the
// queue runs every queued transaction in one database transaction, each
// in a savepoint of its own, and commits once (BenchmarkQueue: a
// transaction of 400 events costs about a fifth less per event than one
// of 100).
//
// Each caller still gets its own function's result: a function that fails
// rolls back only its savepoint, and one that panics does too, and the
// panic is raised again in its caller's goroutine. A failed COMMIT fails
// every caller in it. Functions run in order of arrival, each seeing the
// writes of those before it, as if each had committed in turn. Their
// statements ignore their context's cancellation: SQLite rolls back the
// whole transaction when a write is interrupted, which would undo the
// other callers' work too. A caller whose context has ended before its
// turn is not run.

// group is the queue of transactions waiting for the writer.
type group struct {
	mu      sync.Mutex
	queue   []*unit
	running bool // a leader is running a batch
}

// unit is one caller's transaction.
type unit struct {
	ctx     context.Context
	fn      func(*Store) error
	relaxed bool
	wake    chan struct{} // closed when done, or when the unit is to lead

	// Set by the leader before wake is closed.
	done     bool
	err      error
	panicked any
}

// transact runs fn in a transaction shared with those queued with it.
func (g *group) transact(ctx context.Context, s *Store, relaxed bool, fn func(*Store) error) error {
	u := &unit{ctx: ctx, fn: fn, relaxed: relaxed, wake: make(chan struct{})}
	g.mu.Lock()
	g.queue = append(g.queue, u)
	lead := !g.running
	g.running = true
	g.mu.Unlock()
	if !lead {
		<-u.wake // done, or made the next leader
	}
	if !u.done {
		g.lead(s, u)
	}
	if u.panicked != nil {
		panic(u.panicked)
	}
	return u.err
}

// lead runs the queue as one transaction, wakes its callers and makes the
// first caller queued meanwhile the next leader. self is the leader's own
// unit, part of the batch.
func (g *group) lead(s *Store, self *unit) {
	g.mu.Lock()
	batch := g.queue
	g.queue = nil
	g.mu.Unlock()

	s.commitBatch(batch)

	g.mu.Lock()
	var next *unit
	if len(g.queue) > 0 {
		next = g.queue[0]
	} else {
		g.running = false
	}
	g.mu.Unlock()
	for _, u := range batch {
		if u != self {
			close(u.wake)
		}
	}
	if next != nil {
		close(next.wake)
	}
}

// errRolledBack stands for a failure already recorded in a unit.
var errRolledBack = errors.New("rolled back")

// commitBatch runs the units' functions in one transaction and records
// each one's result.
func (s *Store) commitBatch(batch []*unit) {
	relaxed := true
	for _, u := range batch {
		relaxed = relaxed && u.relaxed
	}
	ctx := context.WithoutCancel(batch[0].ctx)
	err := s.commit(ctx, relaxed || s.cfg.Sync != nil, func(t *Store) error {
		t.r, t.w = uncancelled{t.r}, uncancelled{t.w}
		if len(batch) == 1 {
			if !runUnit(batch[0], t) {
				return errRolledBack
			}
			return nil
		}
		for _, u := range batch {
			if _, err := t.w.ExecContext(ctx, "SAVEPOINT unit"); err != nil {
				return err
			}
			if !runUnit(u, t) {
				if _, err := t.w.ExecContext(ctx, "ROLLBACK TO unit"); err != nil {
					return err
				}
			}
			if _, err := t.w.ExecContext(ctx, "RELEASE unit"); err != nil {
				return err
			}
		}
		return nil
	})
	for _, u := range batch {
		if err != nil && u.err == nil && u.panicked == nil {
			u.err = err
		}
		u.done = true
	}
}

// runUnit calls u's function unless its context has ended, and reports
// whether it succeeded.
func runUnit(u *unit, t *Store) (ok bool) {
	if err := u.ctx.Err(); err != nil {
		u.err = err
		return false
	}
	defer func() {
		if v := recover(); v != nil {
			u.panicked = v
			ok = false
		}
	}()
	if err := u.fn(t); err != nil {
		u.err = err
		return false
	}
	return true
}

// uncancelled runs statements without their context's cancellation (see
// Group commit above).
type uncancelled struct{ q querier }

func (u uncancelled) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return u.q.ExecContext(context.WithoutCancel(ctx), query, args...)
}

func (u uncancelled) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return u.q.QueryContext(context.WithoutCancel(ctx), query, args...)
}

func (u uncancelled) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return u.q.QueryRowContext(context.WithoutCancel(ctx), query, args...)
}
