package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strconv"
	"testing"
)

func openTestDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := openCaching("file:" + filepath.Join(t.TempDir(), "cache.db"))
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

// cached returns how many statements the pool's one connection holds.
func cached(t *testing.T, db *sql.DB) int {
	t.Helper()
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	n := -1
	err = conn.Raw(func(dc any) error {
		c, ok := dc.(*cachingConn)
		if !ok {
			return fmt.Errorf("driver connection is a %T", dc)
		}
		n = len(c.stmts)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestStmtCacheReuses(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, "CREATE TABLE t (n INTEGER); CREATE INDEX t_n ON t (n)"); err != nil {
		t.Fatal("a script of two statements:", err)
	}
	before := cached(t, db)
	for i := range 5 {
		if _, err := db.ExecContext(ctx, "INSERT INTO t (n) VALUES (?)", i); err != nil {
			t.Fatal(err)
		}
	}
	if got := cached(t, db); got != before+1 {
		t.Errorf("after 5 runs of one INSERT the cache holds %d statements, want %d", got, before+1)
	}

	// Reading rows of a statement while running the same text again: the
	// second use gets its own statement and both read correctly.
	const q = "SELECT n FROM t WHERE n >= ? ORDER BY n"
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	outer, err := tx.QueryContext(ctx, q, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer outer.Close()
	var got []string
	for outer.Next() {
		var n int
		if err := outer.Scan(&n); err != nil {
			t.Fatal(err)
		}
		var count int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM ("+q+")", n).Scan(&count); err != nil {
			t.Fatal(err)
		}
		got = append(got, strconv.Itoa(n)+":"+strconv.Itoa(countRows(t, tx, q, n)))
	}
	if err := outer.Err(); err != nil {
		t.Fatal(err)
	}
	if want := "[0:5 1:4 2:3 3:2 4:1]"; fmt.Sprint(got) != want {
		t.Errorf("nested reads of one statement: %v, want %s", got, want)
	}
}

func TestStmtCacheBounded(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	for i := range maxCachedStmts + 50 {
		var n int
		if err := db.QueryRowContext(ctx, "SELECT "+strconv.Itoa(i)).Scan(&n); err != nil || n != i {
			t.Fatalf("SELECT %d: %d, %v", i, n, err)
		}
	}
	if got := cached(t, db); got != maxCachedStmts {
		t.Errorf("cache holds %d statements, want the bound %d", got, maxCachedStmts)
	}
}

// countRows runs q with arg and counts its rows.
func countRows(t *testing.T, tx *sql.Tx, q string, arg any) int {
	t.Helper()
	rows, err := tx.QueryContext(context.Background(), q, arg)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return n
}
