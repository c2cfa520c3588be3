// Package sqlstore implements patchbay.Store once, over database/sql, for
// both engines. The SQL is written in the subset SQLite and PostgreSQL share
// ($n placeholders, RETURNING, row-value comparisons, ON CONFLICT); what
// differs — the driver, the migrations, how a unique violation is spelled —
// comes from internal/sqlite and internal/postgres through Config.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/patchbay/patchbay"
)

// Dialect is what the shared SQL needs to know about an engine.
type Dialect struct {
	// Name is "sqlite" or "postgres".
	Name string
	// Goose is the migration dialect.
	Goose goose.Dialect
	// IsUniqueViolation reports whether err is a unique-constraint failure.
	IsUniqueViolation func(error) bool
	// ForUpdate is appended to a SELECT that locks the rows it reads inside
	// a transaction (" FOR UPDATE" on PostgreSQL; SQLite's BEGIN IMMEDIATE
	// already holds the database's one write lock).
	ForUpdate string
	// SkipLocked is appended to the SELECT that claims queue rows (" FOR
	// UPDATE SKIP LOCKED" on PostgreSQL, so replicas claim different rows).
	SkipLocked string
	// Positional is true when anonymous "?" placeholders bind faster than
	// numbered ones: SQLite looks "$n" names up one by one, which costs
	// O(n²) in a statement with thousands of parameters.
	Positional bool
	// Notify is the statement that wakes other replicas' engines when the
	// transaction commits; empty when there is nothing to wake.
	Notify string
	// RelaxTx is run first in a transaction whose loss on power failure
	// only repeats work, so its commit need not wait for the disk; RelaxConn
	// holds the statements run on the connection before and after such a
	// transaction where the engine cannot relax one transaction alone (see
	// relaxed.go). Empty: such transactions commit like any other.
	RelaxTx   string
	RelaxConn [2]string
	// QueueTx is run first in the transactions that claim and finish queue
	// rows, to keep their plans on the indexes whatever the statistics say
	// (see ClaimDeliveries and finishDeliveries).
	QueueTx string
	// MigrateOptions are extra options for the migration provider, such as
	// a lock that keeps replicas from migrating at once.
	MigrateOptions []goose.ProviderOption
}

// Config configures a Store.
type Config struct {
	Dialect Dialect
	// Write handles every write. On SQLite it has exactly one connection:
	// SQLite allows one writer, and queueing writers in the pool is cheaper
	// than having them retry on SQLITE_BUSY.
	Write *sql.DB
	// Read handles reads outside transactions; it may be the same as Write.
	Read *sql.DB
	// Migrations holds the engine's numbered goose migrations at its root.
	Migrations fs.FS
	// Now is the clock; patchbay.Now when nil.
	Now func() time.Time
	// OnClose, when set, runs after the handles close (to close a pool
	// underneath them).
	OnClose func()
	// Sync, when set, makes every commit so far durable. With it, every
	// transaction commits relaxed (see relaxed.go), and one that must
	// wait for the disk calls Sync after its commit, once the write
	// connection is free for the next writer.
	Sync func() error
	// GroupCommit runs transactions that queue for the one writer
	// together, each in a savepoint (see group.go).
	GroupCommit bool
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Store implements patchbay.Store.
type Store struct {
	cfg Config
	now func() time.Time
	r   querier // reads
	w   querier // writes
	tx  *sql.Tx // set inside WithTx
	grp *group  // with Config.GroupCommit
}

var _ patchbay.Store = (*Store)(nil)

// New returns a Store over the databases in cfg. It does not migrate.
func New(cfg Config) *Store {
	if cfg.Read == nil {
		cfg.Read = cfg.Write
	}
	now := cfg.Now
	if now == nil {
		now = patchbay.Now
	}
	s := &Store{cfg: cfg, now: func() time.Time { return now().UTC().Truncate(time.Microsecond) },
		r: cfg.Read, w: cfg.Write}
	if cfg.GroupCommit {
		s.grp = &group{}
	}
	return s
}

// Dialect returns the engine's name, "sqlite" or "postgres".
func (s *Store) Dialect() string { return s.cfg.Dialect.Name }

// DB returns the write handle, for engine-specific work such as tests that
// inspect rows directly.
func (s *Store) DB() *sql.DB { return s.cfg.Write }

// Migrate applies every pending migration and returns the versions applied.
func (s *Store) Migrate(ctx context.Context) ([]int64, error) {
	p, err := goose.NewProvider(s.cfg.Dialect.Goose, s.cfg.Write, s.cfg.Migrations, s.cfg.Dialect.MigrateOptions...)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	results, err := p.Up(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	versions := make([]int64, 0, len(results))
	for _, r := range results {
		versions = append(versions, r.Source.Version)
	}
	return versions, nil
}

// WithTx implements patchbay.Store.
func (s *Store) WithTx(ctx context.Context, fn func(patchbay.Store) error) error {
	if s.tx != nil {
		return fn(s)
	}
	return s.transact(ctx, false, func(t *Store) error { return fn(t) })
}

// run calls fn with a Store whose every call belongs to tx, then commits
// tx, or rolls it back when fn fails or panics.
func (s *Store) run(tx *sql.Tx, fn func(*Store) error) error {
	txs := *s
	txs.r, txs.w, txs.tx = tx, tx, tx
	defer func() {
		if v := recover(); v != nil {
			_ = tx.Rollback()
			panic(v)
		}
	}()
	if err := fn(&txs); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// inTx is WithTx for methods of this package that need the concrete store.
func (s *Store) inTx(ctx context.Context, fn func(*Store) error) error {
	return s.WithTx(ctx, func(tx patchbay.Store) error {
		t, ok := tx.(*Store)
		if !ok {
			return fmt.Errorf("sqlstore: transaction of type %T", tx)
		}
		return fn(t)
	})
}

// Ping implements patchbay.Store.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.cfg.Write.PingContext(ctx); err != nil {
		return &patchbay.Error{Code: patchbay.EUNAVAILABLE, Message: "Database unavailable.", Err: err}
	}
	var one int
	if err := s.cfg.Read.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
		return &patchbay.Error{Code: patchbay.EUNAVAILABLE, Message: "Database unavailable.", Err: err}
	}
	return nil
}

// Close implements patchbay.Store.
func (s *Store) Close() error {
	err := s.cfg.Write.Close()
	if s.cfg.Read != s.cfg.Write {
		err = errors.Join(err, s.cfg.Read.Close())
	}
	if s.cfg.OnClose != nil {
		s.cfg.OnClose()
	}
	return err
}

// scanner is what *sql.Row and *sql.Rows have in common.
type scanner interface{ Scan(dest ...any) error }

// notFound turns sql.ErrNoRows into ENOTFOUND with the given message.
func notFound(err error, format string, args ...any) error {
	if errors.Is(err, sql.ErrNoRows) {
		return patchbay.Errorf(patchbay.ENOTFOUND, format, args...)
	}
	return err
}

// conflict turns a unique violation into ECONFLICT with the given message.
func (s *Store) conflict(err error, format string, args ...any) error {
	if err != nil && s.cfg.Dialect.IsUniqueViolation(err) {
		return &patchbay.Error{Code: patchbay.ECONFLICT, Message: fmt.Sprintf(format, args...), Err: err}
	}
	return err
}

// mustAffect returns ENOTFOUND when an update or delete touched no row.
func mustAffect(res sql.Result, err error, format string, args ...any) error {
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return patchbay.Errorf(patchbay.ENOTFOUND, format, args...)
	}
	return nil
}

// query builds a statement with numbered arguments: q.arg(v) appends v and
// returns its placeholder.
type query struct {
	sql   strings.Builder
	where []string
	args  []any
	// positional makes bind use anonymous "?" placeholders (see
	// Dialect.Positional); arg always numbers them.
	positional bool
}

func (q *query) arg(v any) string {
	q.args = append(q.args, v)
	return "$" + strconv.Itoa(len(q.args))
}

// argList appends each of vs as an argument of q and returns their
// placeholders for an IN list: "$1, $2, …".
func argList[T any](q *query, vs []T) string {
	ph := make([]string, len(vs))
	for i, v := range vs {
		ph[i] = q.arg(v)
	}
	return strings.Join(ph, ", ")
}

// bind appends v and returns its placeholder for statements with many
// parameters: "?" where the dialect binds those faster, else "$n" cast to
// pgType when one is given (a VALUES list gives PostgreSQL no column to
// infer the type from; SQLite keeps values as they are, and a CAST would
// change them).
func (q *query) bind(v any, pgType string) string {
	q.args = append(q.args, v)
	if q.positional {
		return "?"
	}
	return q.numbered(pgType)
}

// numbered returns the placeholder of the last argument by its number.
func (q *query) numbered(pgType string) string {
	n := strconv.Itoa(len(q.args))
	switch {
	case q.positional:
		return "?" + n
	case pgType != "":
		return "$" + n + "::" + pgType
	}
	return "$" + n
}

// values writes rows as the rows of a VALUES list, "(…), (…)", with column
// j cast to pgTypes[j] on PostgreSQL when pgTypes is given. A column whose
// value is the same in every row is bound once and named by number in each
// row: a batch of deliveries shares its org, status, lease and times, and
// binding each value is most of what a multi-row statement costs the
// SQLite driver (see BenchmarkQueue). Which columns are shared is part of
// the statement's text, so batches of one shape reuse a prepared statement.
//
// SQLite numbers a "?" one past the highest number before it, and finds
// the name of a numbered parameter by a walk of every numbered one (so
// numbering all of them is quadratic). So the shared values and the first
// row are numbered, and later rows use "?", which then count on from the
// first row's last number, as their arguments do.
func (q *query) values(rows [][]any, pgTypes []string) {
	typ := func(j int) string {
		if pgTypes == nil {
			return ""
		}
		return pgTypes[j]
	}
	shared := make([]string, len(rows[0])) // a shared column's placeholder
	if len(rows) > 1 {
		for j := range shared {
			if sameInColumn(rows, j) {
				q.args = append(q.args, rows[0][j])
				shared[j] = q.numbered(typ(j))
			}
		}
	}
	for i, row := range rows {
		if i > 0 {
			q.sql.WriteString(", ")
		}
		q.sql.WriteByte('(')
		for j, v := range row {
			if j > 0 {
				q.sql.WriteString(", ")
			}
			switch {
			case shared[j] != "":
				q.sql.WriteString(shared[j])
			case i == 0:
				q.args = append(q.args, v)
				q.sql.WriteString(q.numbered(typ(j)))
			default:
				q.sql.WriteString(q.bind(v, typ(j)))
			}
		}
		q.sql.WriteByte(')')
	}
}

// sameInColumn reports whether column j holds the same value in every row:
// equal strings, integers or booleans, every value nil, or the same instant
// in the same location. Other types are never taken for the same.
func sameInColumn(rows [][]any, j int) bool {
	first := rows[0][j]
	for _, row := range rows[1:] {
		v := row[j]
		switch a := first.(type) {
		case nil:
			if v != nil {
				return false
			}
		case string, int, int64, bool:
			if v != first {
				return false
			}
		case time.Time:
			b, ok := v.(time.Time)
			if !ok || !a.Equal(b) || a.Location() != b.Location() {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// and adds a condition to the WHERE clause.
func (q *query) and(cond string) { q.where = append(q.where, cond) }

// createdPage bounds a list to rows created in [since, until) (either may
// be nil) and returns its paging clause: newest first, or oldest first.
func (q *query) createdPage(since, until *time.Time, p patchbay.Page, oldest bool) (string, error) {
	if since != nil {
		q.and("created_at >= " + q.arg(utc(since)))
	}
	if until != nil {
		q.and("created_at < " + q.arg(utc(until)))
	}
	if oldest {
		return q.pageAscending(p, "created_at")
	}
	return q.page(p, "created_at")
}

// page adds the cursor condition for a list ordered by (timeCol, id)
// descending and returns the ORDER BY and LIMIT clause. It asks for one row
// more than the page holds, so nextCursor can tell whether a page follows.
func (q *query) page(p patchbay.Page, timeCol string) (string, error) {
	c, err := p.DecodeCursor()
	if err != nil {
		return "", err
	}
	if c != nil {
		q.and(fmt.Sprintf("(%s, id) < (%s, %s)", timeCol, q.arg(c.At), q.arg(c.ID)))
	}
	return fmt.Sprintf(" ORDER BY %s DESC, id DESC LIMIT %d", timeCol, p.Size()+1), nil
}

// pageAscending is page for a list ordered by (timeCol, id) ascending.
func (q *query) pageAscending(p patchbay.Page, timeCol string) (string, error) {
	c, err := p.DecodeCursor()
	if err != nil {
		return "", err
	}
	if c != nil {
		q.and(fmt.Sprintf("(%s, id) > (%s, %s)", timeCol, q.arg(c.At), q.arg(c.ID)))
	}
	return fmt.Sprintf(" ORDER BY %s, id LIMIT %d", timeCol, p.Size()+1), nil
}

// String returns the statement with its WHERE clause and tail.
func (q *query) String(tail string) string {
	s := q.sql.String()
	if len(q.where) > 0 {
		s += " WHERE " + strings.Join(q.where, " AND ")
	}
	return s + tail
}

// nextCursor trims the extra row page asked for and returns the cursor of
// the following page, or "" when this is the last.
func nextCursor[T any](rows []T, p patchbay.Page, key func(T) (time.Time, string)) ([]T, string) {
	if len(rows) <= p.Size() {
		return rows, ""
	}
	rows = rows[:p.Size()]
	at, id := key(rows[len(rows)-1])
	return rows, patchbay.EncodeCursor(at, id)
}

// collect scans every row with scan.
func collect[T any](rows *sql.Rows, err error, scan func(*sql.Rows) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// utc normalises a time for storage: SQLite compares times as text, which is
// only ordered when every stored time is in UTC.
func utc(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC().Truncate(time.Microsecond)
}

// anyTime scans a time that an aggregate (MAX, COALESCE) returns: SQLite
// loses the column's type there and hands back what is stored, an integer
// of microseconds since 1970 (SQLite's migration 14).
type anyTime struct{ t *time.Time }

// Scan implements sql.Scanner.
func (a anyTime) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*a.t = time.Time{}
	case time.Time:
		*a.t = x.UTC()
	case int64:
		*a.t = time.UnixMicro(x).UTC()
	default:
		return fmt.Errorf("cannot scan %T as a time", v)
	}
	return nil
}

// timePtr converts a scanned nullable time to UTC. Scanned times that cannot
// be null get .UTC() where they are scanned: pgx returns times in the local
// zone.
func timePtr(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	v := t.Time.UTC()
	return &v
}
