package postgres

import (
	"context"
	"database/sql"
	"io/fs"
	"testing"

	"github.com/pressly/goose/v3"

	"github.com/patchbay/patchbay/internal/postgres/pgtest"
)

// Migration 13 keys attempts by (delivery_id, number); attempts that an
// older database numbered alike are numbered again, none lost, and the
// way down restores the id key.
func TestMigrateAttemptsKey(t *testing.T) {
	pgtest.Require(t)
	t.Parallel()
	ctx := context.Background()
	db, err := sql.Open("pgx", pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, sub)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 12); err != nil {
		t.Fatal(err)
	}
	insert := `INSERT INTO attempts (id, org_id, delivery_id, number, started_at) VALUES ($1, 'org_1', $2, $3, $4)`
	for _, a := range []struct {
		id, delivery string
		number       int
		at           string
	}{
		{"att_a", "dlv_1", 1, "2026-11-23 10:00:00Z"},
		{"att_c", "dlv_1", 2, "2026-11-23 10:02:00Z"}, // later than att_b, same number
		{"att_b", "dlv_1", 2, "2026-11-23 10:01:00Z"},
		{"att_d", "dlv_2", 1, "2026-11-23 10:00:00Z"},
		{"att_e", "dlv_2", 3, "2026-11-23 10:03:00Z"}, // a gap, left as it is
	} {
		if _, err := db.ExecContext(ctx, insert, a.id, a.delivery, a.number, a.at); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.UpTo(ctx, 13); err != nil {
		t.Fatal(err)
	}
	numbers := func() map[string]int {
		rows, err := db.QueryContext(ctx, `SELECT id, number FROM attempts`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string]int{}
		for rows.Next() {
			var id string
			var n int
			if err := rows.Scan(&id, &n); err != nil {
				t.Fatal(err)
			}
			out[id] = n
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	want := map[string]int{"att_a": 1, "att_b": 2, "att_c": 3, "att_d": 1, "att_e": 3}
	got := numbers()
	for id, n := range want {
		if got[id] != n {
			t.Errorf("after migration 13, %s is numbered %d, want %d (all: %v)", id, got[id], n, got)
		}
	}
	if _, err := db.ExecContext(ctx, insert, "att_f", "dlv_2", 3, "2026-11-23 10:04:00Z"); err == nil {
		t.Error("a second attempt numbered 3 was stored, want a key violation")
	}
	if _, err := p.DownTo(ctx, 12); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, insert, "att_a", "dlv_3", 1, "2026-11-23 10:05:00Z"); err == nil {
		t.Error("after migrating down, a second attempt with id att_a was stored, want a key violation")
	}
	if got := numbers(); len(got) != len(want) {
		t.Errorf("after migrating down, %d attempts, want %d", len(got), len(want))
	}
}
