// Package sqlite opens Patchbay's embedded store: a SQLite file through the
// pure-Go modernc.org/sqlite driver, so builds need no cgo.
package sqlite

import (
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/patchbay/patchbay/internal/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Open opens (creating if needed) the SQLite database at path and returns a
// store over it. It does not migrate; call Migrate.
//
// Settings, and why:
//   - WAL, so readers never wait for the writer;
//   - one write connection with BEGIN IMMEDIATE (_txlock=immediate): SQLite
//     has one writer, so writers queue in the pool instead of failing with
//     SQLITE_BUSY halfway through a transaction;
//   - a read pool of its own with query_only set;
//   - an accepted write is on disk before it is answered: a statement
//     outside a transaction commits with synchronous=FULL; a transaction
//     commits with NORMAL and then, unless it is the delivery queue's
//     bookkeeping (see sqlstore's relaxed.go), waits for an fsync of the
//     log that it shares with concurrent ones (walsync.go);
//   - transactions that queue for the writer run together, each in a
//     savepoint of its own (group commit, see sqlstore's group.go);
//   - temporary storage in memory (temp_store=MEMORY): a savepoint, and a
//     multi-row statement inside a transaction, copy each page they change
//     to a statement journal, which SQLite otherwise spills to a temporary
//     file past 64 KiB; those writes were a twentieth of the server's CPU
//     under delivery load (patchbay bench delivery, profiled);
//   - times stored as integers, microseconds since 1970 UTC
//     (_time_integer_format=unix_micro, read back by _inttotime): 8 bytes
//     instead of 32 of text in every row and index key (migration 14);
//   - prepared statements kept per connection (stmtcache.go);
//   - a busy timeout for the rare wait on checkpoints or other processes.
func Open(path string, now func() time.Time) (*sqlstore.Store, error) {
	return open(path, now, newWALSync(path).Sync)
}

// open is Open with the function that makes commits durable.
func open(path string, now func() time.Time, syncLog func() error) (*sqlstore.Store, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create database directory: %w", err)
		}
	}
	base := "file:" + (&url.URL{Path: path}).EscapedPath() +
		"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)" +
		"&_pragma=synchronous(FULL)&_pragma=temp_store(MEMORY)&_time_integer_format=unix_micro&_inttotime=1"
	w, err := openCaching(base + "&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	// Create the file and switch it to WAL before readers open it.
	if err := w.Ping(); err != nil {
		w.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		w.Close()
		return nil, err
	}
	r, err := openCaching(base + "&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, err
	}
	r.SetMaxOpenConns(max(4, 2*runtime.NumCPU()))
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, err
	}
	return sqlstore.New(sqlstore.Config{
		Dialect: sqlstore.Dialect{
			Name:              "sqlite",
			Goose:             goose.DialectSQLite3,
			IsUniqueViolation: isUniqueViolation,
			Positional:        true,
			// Transactions commit without the fsync, and those that must
			// wait for the disk call Sync after; synchronous is per
			// connection and fixed during a transaction.
			RelaxConn: [2]string{"PRAGMA synchronous = NORMAL", "PRAGMA synchronous = FULL"},
		},
		Sync:        syncLog,
		GroupCommit: true,
		Write:       w,
		Read:        r,
		Migrations:  sub,
		Now:         now,
	}), nil
}

// openCaching opens a pool whose connections cache their prepared
// statements (see stmtcache.go).
func openCaching(dsn string) (*sql.DB, error) {
	c, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(cachingConnector{c}), nil
}

func isUniqueViolation(err error) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}
