package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
)

// Relaxed commits.
//
// Most writes are promised to someone when they commit — an accepted
// event, a stored credential — and wait for the disk. The delivery queue's
// bookkeeping is not: a claim, or the recorded outcome of an attempt, lost
// to a power failure only means the delivery is attempted again, which
// at-least-once delivery allows (the receiver sees a duplicate, never a
// gap). Those transactions commit without waiting for the disk:
// PostgreSQL's synchronous_commit = off, SQLite's synchronous = NORMAL in
// WAL mode. A crash of the Patchbay process itself loses nothing either
// way (the write has reached the operating system), and the next commit
// that waits for the disk makes the relaxed ones before it durable too.
//
// An engine may also commit every transaction relaxed and wait for the
// disk after the commit instead (Config.Sync). SQLite does: its one write
// connection is what every writer queues for, and an execution trace
// under load showed a fifth of its time spent in the fsync inside the
// publishes' COMMIT. After the commit, concurrent transactions share one
// fsync while the next writer already works.

// inRelaxedTx is inTx for bookkeeping whose loss on power failure only
// repeats work. Inside a transaction it joins it, and the outer
// transaction decides.
func (s *Store) inRelaxedTx(ctx context.Context, fn func(*Store) error) error {
	if s.tx != nil {
		return fn(s)
	}
	return s.transact(ctx, true, fn)
}

// transact runs fn in a new transaction and commits it. Unless relaxed,
// the commit is on disk when transact returns.
func (s *Store) transact(ctx context.Context, relaxed bool, fn func(*Store) error) error {
	var err error
	if s.grp != nil {
		err = s.grp.transact(ctx, s, relaxed, fn)
	} else {
		err = s.commit(ctx, relaxed || s.cfg.Sync != nil, fn)
	}
	if err != nil {
		return err
	}
	if !relaxed && s.cfg.Sync != nil {
		if err := s.cfg.Sync(); err != nil {
			return fmt.Errorf("sync: %w", err)
		}
	}
	return nil
}

// commit runs fn in a new transaction and commits it, without waiting for
// the disk when relax is set and the engine can.
func (s *Store) commit(ctx context.Context, relax bool, fn func(*Store) error) error {
	d := s.cfg.Dialect
	if !relax || (d.RelaxTx == "" && d.RelaxConn == [2]string{}) {
		tx, err := s.cfg.Write.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		return s.run(tx, fn)
	}
	// The connection is reserved so that the setting and its undoing
	// happen on it alone: no other transaction may commit relaxed.
	conn, err := s.cfg.Write.Conn(ctx)
	if err != nil {
		return fmt.Errorf("reserve connection: %w", err)
	}
	defer conn.Close()
	if on, off := d.RelaxConn[0], d.RelaxConn[1]; on != "" {
		if _, err := conn.ExecContext(ctx, on); err != nil {
			return fmt.Errorf("relax commits: %w", err)
		}
		defer resetConn(ctx, conn, off)
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	return s.run(tx, func(t *Store) error {
		if d.RelaxTx != "" {
			if _, err := t.w.ExecContext(ctx, d.RelaxTx); err != nil {
				return fmt.Errorf("relax commit: %w", err)
			}
		}
		return fn(t)
	})
}

// resetConn runs off on conn, and has the pool discard conn if that fails:
// never hand the pool a connection that commits relaxed.
func resetConn(ctx context.Context, conn *sql.Conn, off string) {
	if _, err := conn.ExecContext(context.WithoutCancel(ctx), off); err != nil {
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	}
}
