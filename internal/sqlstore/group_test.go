package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/patchbay/patchbay"
)

// Transactions queued behind a busy writer run as one, and each caller
// still gets its own result: failures and panics undo only their own
// writes, a caller whose context ended first is not run, and one whose
// context ends while it runs does not undo the others.
func TestGroupCommit(t *testing.T) {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "g.db")+"?_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE t (k TEXT PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	s := New(Config{Dialect: Dialect{Name: "sqlite", Positional: true}, Write: db, GroupCommit: true})
	insert := func(ctx context.Context, tx patchbay.Store, k string) error {
		t, ok := tx.(*Store)
		if !ok {
			return errors.New("not a *Store")
		}
		_, err := t.w.ExecContext(ctx, `INSERT INTO t (k) VALUES ($1)`, k)
		return err
	}

	// The first transaction holds the writer until the others queue.
	ctx := context.Background()
	holding, release := make(chan struct{}), make(chan struct{})
	firstDone := make(chan error, 1)
	go func() {
		firstDone <- s.WithTx(ctx, func(tx patchbay.Store) error {
			close(holding)
			<-release
			return insert(ctx, tx, "first")
		})
	}()
	<-holding

	boom := errors.New("boom")
	dead, cancelDead := context.WithCancel(ctx)
	cancelDead()
	type call struct {
		k   string
		ctx context.Context
		fn  func(ctx context.Context, tx patchbay.Store, k string) error
	}
	calls := []call{
		{"ok1", ctx, insert},
		{"failed", ctx, func(ctx context.Context, tx patchbay.Store, k string) error {
			if err := insert(ctx, tx, k); err != nil {
				return err
			}
			return boom
		}},
		{"ok2", ctx, insert},
		{"panicked", ctx, func(ctx context.Context, tx patchbay.Store, k string) error {
			if err := insert(ctx, tx, k); err != nil {
				return err
			}
			panic("oops")
		}},
		{"dead", dead, insert},
		{"cancelled-while-running", ctx, func(ctx context.Context, tx patchbay.Store, k string) error {
			ctx, cancel := context.WithCancel(ctx)
			cancel()
			return insert(ctx, tx, k)
		}},
		{"ok3", ctx, insert},
	}
	results := make([]any, len(calls))
	var wg sync.WaitGroup
	for i, c := range calls {
		wg.Go(func() {
			defer func() {
				if v := recover(); v != nil {
					results[i] = v
				}
			}()
			results[i] = s.WithTx(c.ctx, func(tx patchbay.Store) error { return c.fn(c.ctx, tx, c.k) })
		})
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.grp.mu.Lock()
		n := len(s.grp.queue)
		s.grp.mu.Unlock()
		if n == len(calls) { // the first's unit left the queue when it led
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d units queued, want %d", n, len(calls))
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	if err := <-firstDone; err != nil {
		t.Fatalf("first: %v", err)
	}

	want := map[string]any{"ok1": nil, "failed": boom, "ok2": nil, "panicked": "oops", "dead": context.Canceled,
		"cancelled-while-running": nil, "ok3": nil}
	for i, c := range calls {
		got := results[i]
		if err, ok := got.(error); ok {
			if wantErr, _ := want[c.k].(error); wantErr != nil && errors.Is(err, wantErr) {
				continue
			}
		}
		if got != want[c.k] {
			t.Errorf("%s: got %v, want %v", c.k, got, want[c.k])
		}
	}
	var stored []string
	rows, err := db.Query(`SELECT k FROM t ORDER BY k`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		stored = append(stored, k)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	wantStored := []string{"cancelled-while-running", "first", "ok1", "ok2", "ok3"}
	if !slices.Equal(stored, wantStored) {
		t.Errorf("stored %v, want %v", stored, wantStored)
	}
}
