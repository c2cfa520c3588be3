package sqlite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/internal/sqlstore"
)

// A Sync waits for an fsync that starts after it was called, and the
// callers that arrive while one runs share the next.
func TestWALSyncGroups(t *testing.T) {
	w := newWALSync(filepath.Join(t.TempDir(), "p.db"))
	var calls atomic.Int32
	release := make(chan struct{})
	started := make(chan struct{}, 100)
	w.fsync = func() error {
		calls.Add(1)
		started <- struct{}{}
		<-release
		return nil
	}

	first := make(chan error, 1)
	go func() { first <- w.Sync() }()
	<-started // the first fsync runs and holds

	const n = 5
	var wg sync.WaitGroup
	var entered, returned atomic.Int32
	for range n {
		wg.Go(func() {
			entered.Add(1)
			if err := w.Sync(); err != nil {
				t.Error(err)
			}
			returned.Add(1)
		})
	}
	for entered.Load() < n {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // let them reach the wait
	release <- struct{}{}
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	<-started // the next fsync, for those that waited
	if got := returned.Load(); got != 0 {
		t.Fatalf("%d callers returned on an fsync that began before they called", got)
	}
	go func() {
		for {
			select {
			case release <- struct{}{}:
			case <-t.Context().Done():
				return
			}
		}
	}()
	wg.Wait()
	if got := calls.Load(); got >= 1+n {
		t.Errorf("%d fsyncs for %d callers: none shared", got, 1+n)
	}

	// One after another, each call has its own.
	before := calls.Load()
	for range 3 {
		if err := w.Sync(); err != nil {
			t.Fatal(err)
		}
	}
	if got := calls.Load() - before; got != 3 {
		t.Errorf("%d fsyncs for 3 calls one after another, want 3", got)
	}
}

func TestWALSyncError(t *testing.T) {
	w := newWALSync(filepath.Join(t.TempDir(), "p.db"))
	boom := errors.New("disk gone")
	w.fsync = func() error { return boom }
	if err := w.Sync(); !errors.Is(err, boom) {
		t.Fatalf("Sync = %v, want %v", err, boom)
	}
	w.fsync = func() error { return nil }
	if err := w.Sync(); err != nil {
		t.Fatalf("Sync after a good fsync = %v", err)
	}
}

// The real fsync finds the log of an open database, and the database
// itself when there is no log.
func TestWALSyncFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.db")
	w := newWALSync(path)
	if err := w.Sync(); err == nil {
		t.Fatal("Sync of a database that does not exist succeeded")
	}
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := w.Sync(); err != nil {
		t.Fatalf("Sync without a log: %v", err)
	}
	if err := os.WriteFile(path+"-wal", nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := w.Sync(); err != nil {
		t.Fatalf("Sync with a log: %v", err)
	}
}

// A transaction that must be on disk calls Sync after its commit, with the
// write connection already free for the next writer; the queue's
// bookkeeping does not call it; a failed Sync fails the transaction.
func TestStoreSyncsAfterCommit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.db")
	ctx := context.Background()
	var (
		st    *sqlstore.Store
		syncs atomic.Int32
		fail  atomic.Bool
	)
	ws := newWALSync(path)
	st, err := open(path, nil, func() error {
		syncs.Add(1)
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		conn, err := st.DB().Conn(cctx)
		if err != nil {
			return fmt.Errorf("the write connection is still held: %w", err)
		}
		conn.Close()
		if fail.Load() {
			return errors.New("disk gone")
		}
		return ws.Sync()
	})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}

	base := syncs.Load()
	org := &patchbay.Org{Name: "Acme"}
	if err := st.WithTx(ctx, func(tx patchbay.Store) error { return tx.CreateOrg(ctx, org) }); err != nil {
		t.Fatal(err)
	}
	if got := syncs.Load() - base; got != 1 {
		t.Fatalf("%d syncs for one transaction, want 1", got)
	}
	if _, err := st.FinishAttempts(ctx, "w1", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ClaimDeliveries(ctx, "w1", time.Now(), time.Now().Add(time.Minute), 10); err != nil {
		t.Fatal(err)
	}
	if got := syncs.Load() - base; got != 1 {
		t.Errorf("%d syncs after the queue's bookkeeping, want still 1", got)
	}

	fail.Store(true)
	err = st.WithTx(ctx, func(tx patchbay.Store) error { return tx.CreateOrg(ctx, &patchbay.Org{Name: "Initech"}) })
	if err == nil || !strings.Contains(err.Error(), "disk gone") {
		t.Errorf("WithTx with a failing sync = %v, want the sync's error", err)
	}
}
