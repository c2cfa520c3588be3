package sqlite

import (
	"context"
	"database/sql"
	"io/fs"
	"path/filepath"
	"testing"
	"time"

	"github.com/pressly/goose/v3"
)

// migrateTo opens the database at path as a version-12 binary did (times
// written as text) and migrates it to version.
func migrateTo(t *testing.T, path string, version int64, down bool) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_time_format=sqlite")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, sub)
	if err != nil {
		t.Fatal(err)
	}
	if down {
		_, err = p.DownTo(context.Background(), version)
	} else {
		_, err = p.UpTo(context.Background(), version)
	}
	if err != nil {
		t.Fatalf("migrate to %d: %v", version, err)
	}
	return db
}

func exec(t *testing.T, db *sql.DB, query string, args ...any) {
	t.Helper()
	if _, err := db.Exec(query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// Migrations 13 and 14 keep what an older database held: its text times
// become the same instants as integers (and text again on the way down),
// and attempts that shared a number are numbered again, none lost.
func TestMigrateTimesAndAttempts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "patchbay.db")
	old := migrateTo(t, path, 12, false)

	// Times as version 12 wrote them, one with an offset other than UTC.
	created := "2026-11-23 17:32:19.97858+00:00"
	due := "2026-01-02 03:04:05+00:00"
	started := "2026-11-23 19:32:20.000123+02:00"
	exec(t, old, `INSERT INTO events (id, org_id, type, payload, created_at) VALUES ('evt_1', 'org_1', 'a.b', '{}', $1)`, created)
	exec(t, old, `INSERT INTO deliveries (id, org_id, event_id, event_type, status, next_attempt_at, created_at, updated_at)
		VALUES ('dlv_1', 'org_1', 'evt_1', 'a.b', 'retrying', $1, $2, $2)`, due, created)
	for i, at := range []string{created, started, started} {
		number := min(i+1, 2) // the last two share number 2
		exec(t, old, `INSERT INTO attempts (id, org_id, delivery_id, number, started_at) VALUES ($1, 'org_1', 'dlv_1', $2, $3)`,
			"att_"+string(rune('a'+i)), number, at)
	}
	old.Close()

	s, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	at := func(text string) time.Time {
		v, err := time.Parse("2006-01-02 15:04:05.999999999-07:00", text)
		if err != nil {
			t.Fatal(err)
		}
		return v.UTC()
	}
	d, err := s.FindDelivery(ctx, "org_1", "dlv_1")
	if err != nil {
		t.Fatal(err)
	}
	if !d.CreatedAt.Equal(at(created)) || !d.NextAttemptAt.Equal(at(due)) {
		t.Errorf("delivery times: created %s, due %s; want %s and %s", d.CreatedAt, d.NextAttemptAt, at(created), at(due))
	}
	ev, err := s.FindEvent(ctx, "org_1", "evt_1")
	if err != nil || !ev.CreatedAt.Equal(at(created)) {
		t.Errorf("event: %+v, %v; want created %s", ev, err, at(created))
	}
	as, err := s.ListAttempts(ctx, "org_1", "dlv_1")
	if err != nil {
		t.Fatal(err)
	}
	wantIDs := []string{"att_a", "att_b", "att_c"}
	if len(as) != len(wantIDs) {
		t.Fatalf("%d attempts after the migration, want %d", len(as), len(wantIDs))
	}
	for i, a := range as {
		if a.ID != wantIDs[i] || a.Number != i+1 {
			t.Errorf("attempt %d: %s numbered %d, want %s numbered %d", i, a.ID, a.Number, wantIDs[i], i+1)
		}
	}
	if !as[1].StartedAt.Equal(at(started)) {
		t.Errorf("attempt started %s, want %s", as[1].StartedAt, at(started))
	}
	var kind string
	if err := s.DB().QueryRowContext(ctx, `SELECT typeof(created_at) FROM deliveries`).Scan(&kind); err != nil || kind != "integer" {
		t.Errorf("a delivery's created_at is stored as %q (%v), want integer", kind, err)
	}

	// Compared with times bound now, the converted ones are in order: the
	// delivery is due and claimed.
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	claimed, err := s.ClaimDeliveries(ctx, "w1", now, now.Add(time.Minute), 10)
	if err != nil || len(claimed) != 1 {
		t.Errorf("claimed %d deliveries (%v), want the converted one", len(claimed), err)
	}
	s.Close()

	back := migrateTo(t, path, 12, true)
	var text string
	if err := back.QueryRow(`SELECT CAST(created_at AS TEXT) FROM events`).Scan(&text); err != nil || text != created {
		t.Errorf("after migrating down, the event's created_at is %q (%v), want %q", text, err, created)
	}
	if err := back.QueryRow(`SELECT CAST(started_at AS TEXT) FROM attempts WHERE id = 'att_b'`).Scan(&text); err != nil || !at(text).Equal(at(started)) {
		t.Errorf("after migrating down, an attempt's started_at is %q (%v), want the instant %s", text, err, started)
	}
}
