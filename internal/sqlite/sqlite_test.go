package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/internal/sqlite"
	"github.com/patchbay/patchbay/internal/storetest"
)

// TestStore runs the shared store suite on SQLite, one database file per
// subtest.
func TestStore(t *testing.T) {
	storetest.Run(t, open)
}

// open returns a store over a fresh, migrated database file in a temporary
// directory, closed when the test ends.
func open(t *testing.T, now func() time.Time) patchbay.Store {
	t.Helper()
	path := filepath.Join(t.TempDir(), "patchbay.db")
	s, err := sqlite.Open(path, now)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	// Registered after TempDir's cleanup, so it runs before the directory
	// is removed.
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	if _, err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return s
}

// The queue's relaxed commits leave the write connection as it was:
// every other commit still waits for the disk.
func TestRelaxedCommitsRestoreSynchronous(t *testing.T) {
	s, err := sqlite.Open(filepath.Join(t.TempDir(), "p.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ClaimDeliveries(ctx, "w1", time.Now(), time.Now().Add(time.Minute), 10); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FinishAttempts(ctx, "w1", nil); err != nil {
		t.Fatal(err)
	}
	var level int
	if err := s.DB().QueryRowContext(ctx, "PRAGMA synchronous").Scan(&level); err != nil {
		t.Fatal(err)
	}
	if level != 2 {
		t.Errorf("synchronous = %d after relaxed commits, want 2 (FULL)", level)
	}
}

// Statement journals stay in memory (see Open).
func TestTempStoreInMemory(t *testing.T) {
	t.Parallel()
	s, err := sqlite.Open(filepath.Join(t.TempDir(), "p.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var store int
	if err := s.DB().QueryRowContext(context.Background(), "PRAGMA temp_store").Scan(&store); err != nil {
		t.Fatal(err)
	}
	if store != 2 {
		t.Errorf("temp_store = %d, want 2 (MEMORY)", store)
	}
}

// BenchmarkQueue measures SQLite's share of delivering an event (see
// storetest.BenchmarkQueue).
func BenchmarkQueue(b *testing.B) {
	s, err := sqlite.Open(filepath.Join(b.TempDir(), "p.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	storetest.BenchmarkQueue(b, s)
}
