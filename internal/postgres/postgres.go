// Package postgres opens Patchbay's production store: PostgreSQL through
// pgx. Several Patchbay replicas may share one database.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/patchbay/patchbay/internal/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Open connects to the database at url (postgres://…) and returns a store
// over a pgx pool. It does not migrate; call Migrate, which holds a session
// advisory lock so that replicas starting together migrate once.
func Open(ctx context.Context, url string, now func() time.Time) (*sqlstore.Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// The parse error can echo the URL, password included: keep it out.
		return nil, errors.New("invalid PostgreSQL URL")
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	db := stdlib.OpenDBFromPool(pool)
	// Replicas sharing a schema migrate one at a time under an advisory
	// lock. The lock id is derived from the search path, so databases in
	// other schemas of the same server (tests run many) do not queue.
	locker, err := lock.NewPostgresSessionLocker(
		lock.WithLockID(lockID(cfg.ConnConfig.RuntimeParams["search_path"])),
		lock.WithLockTimeout(1, 300), // poll every second, for up to five minutes
	)
	if err != nil {
		return nil, err
	}
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, err
	}
	return sqlstore.New(sqlstore.Config{
		Dialect: sqlstore.Dialect{
			Name:              "postgres",
			Goose:             goose.DialectPostgres,
			IsUniqueViolation: isUniqueViolation,
			ForUpdate:         " FOR UPDATE",
			SkipLocked:        " FOR UPDATE SKIP LOCKED",
			Notify:            "SELECT pg_notify('" + Channel(cfg.ConnConfig.RuntimeParams["search_path"]) + "', '')",
			RelaxTx:           "SET LOCAL synchronous_commit = off",
			// The queue's claims and finishes touch a few rows found by
			// index. On a queue table not yet analyzed (a new database,
			// or the first minute of a busy one) the planner took
			// thousands of due or sending rows for a few dozen and
			// sorted, scanned or joined all of them each time: a claim of
			// 64 took 12 ms instead of 2.5, a finish of 100 up to 150 ms
			// instead of a few. Without sequential and bitmap scans, the
			// plans stay on the indexes whatever the statistics say.
			QueueTx:        "SELECT set_config('enable_seqscan', 'off', true), set_config('enable_bitmapscan', 'off', true)",
			MigrateOptions: []goose.ProviderOption{goose.WithSessionLocker(locker)},
		},
		Write:      db,
		Migrations: sub,
		Now:        now,
		OnClose:    pool.Close,
	}), nil
}

// lockID returns the migration lock id for a search path.
func lockID(searchPath string) int64 {
	h := fnv.New64a()
	h.Write([]byte("patchbay-migrate:" + searchPath))
	return int64(h.Sum64() >> 1)
}

func isUniqueViolation(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == "23505"
}
