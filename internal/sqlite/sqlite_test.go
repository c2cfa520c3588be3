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
