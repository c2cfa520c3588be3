package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/internal/postgres"
	"github.com/patchbay/patchbay/internal/postgres/pgtest"
	"github.com/patchbay/patchbay/internal/storetest"
)

// TestStore runs the shared store suite on PostgreSQL, one schema per
// subtest. See pgtest for where the server is and when the test skips.
func TestStore(t *testing.T) {
	pgtest.Require(t)
	storetest.Run(t, open)
}

// open returns a store over a fresh, migrated schema, closed (and the
// schema dropped) when the test ends.
func open(t *testing.T, now func() time.Time) patchbay.Store {
	t.Helper()
	url := pgtest.URL(t)
	ctx := context.Background()
	s, err := postgres.Open(ctx, url, now)
	if err != nil {
		t.Fatalf("open PostgreSQL: %v", err)
	}
	// Registered after pgtest's cleanup, so the pool closes before the
	// schema is dropped.
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return s
}

// TestWithSearchPath checks that the schema reaches pgx as a run-time
// parameter whatever form the base URL has.
func TestWithSearchPath(t *testing.T) {
	for _, base := range []string{
		"postgres://postgres@127.0.0.1:5432/test",
		"postgres://postgres@127.0.0.1:5432/test?sslmode=disable",
		"postgresql://u:p%40ss@db.example:6543/test?sslmode=disable&application_name=pb",
		"postgres://postgres@127.0.0.1:5432/test?search_path=public",
		"host=127.0.0.1 port=5432 user=postgres dbname=test sslmode=disable",
	} {
		u, err := pgtest.WithSearchPath(base, "pbtest_0123")
		if err != nil {
			t.Fatalf("WithSearchPath(%q): %v", base, err)
		}
		cfg, err := pgconn.ParseConfig(u)
		if err != nil {
			t.Fatalf("pgx cannot parse %q: %v", u, err)
		}
		if got := cfg.RuntimeParams["search_path"]; got != "pbtest_0123" {
			t.Errorf("WithSearchPath(%q) = %q: search_path %q, want pbtest_0123", base, u, got)
		}
		if cfg.Database != "test" {
			t.Errorf("WithSearchPath(%q) = %q: database %q, want test", base, u, cfg.Database)
		}
		if strings.Contains(base, "application_name") && cfg.RuntimeParams["application_name"] != "pb" {
			t.Errorf("WithSearchPath(%q) = %q lost application_name", base, u)
		}
		if strings.Contains(base, "p%40ss") && cfg.Password != "p@ss" {
			t.Errorf("WithSearchPath(%q) = %q garbled the password", base, u)
		}
	}
}

// BenchmarkQueue measures PostgreSQL's share of delivering an event (see
// storetest.BenchmarkQueue).
func BenchmarkQueue(b *testing.B) {
	pgtest.Require(b)
	ctx := context.Background()
	s, err := postgres.Open(ctx, pgtest.URL(b), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close() // before pgtest's cleanup drops the schema
	if _, err := s.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	storetest.BenchmarkQueue(b, s)
}
