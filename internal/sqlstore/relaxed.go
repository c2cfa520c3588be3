package sqlstore

import (
	"context"
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
// WAL mode. On SQLite that took a commit from about 1.5 ms to 0.13 ms on
// our machines, and the engine records outcomes in many small commits. A
// crash of the Patchbay process itself loses nothing either way (the
// write has reached the operating system), and the next commit that waits
// for the disk makes the relaxed ones before it durable too.

// inRelaxedTx is inTx for bookkeeping whose loss on power failure only
// repeats work. Inside a transaction it joins it, and the outer
// transaction decides.
func (s *Store) inRelaxedTx(ctx context.Context, fn func(*Store) error) error {
	d := s.cfg.Dialect
	if s.tx != nil || (d.RelaxTx == "" && d.RelaxConn == [2]string{}) {
		return s.inTx(ctx, fn)
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
		defer func() {
			if _, err := conn.ExecContext(context.WithoutCancel(ctx), off); err != nil {
				// Never hand the pool a connection that commits relaxed.
				_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			}
		}()
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
