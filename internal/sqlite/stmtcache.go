package sqlite

import (
	"context"
	"database/sql/driver"
	"errors"
	"reflect"
)

// Statement cache.
//
// database/sql hands the driver the text of every Exec and Query, and
// modernc.org/sqlite parses and plans it anew each time; under delivery
// load that parsing took about a tenth of the CPU (patchbay bench
// delivery, profiled), most of it for the same multi-row statements over
// and over. pgx keeps prepared statements per connection by itself; this
// file gives SQLite connections the same: each connection keeps up to
// maxCachedStmts prepared statements by their text. No library does this
// for database/sql drivers, hence the few lines here.
//
// A database/sql connection is used by one goroutine at a time, so the
// cache needs no lock. A cached statement still being read (its rows
// open) is not reused: a second use of the same text meanwhile gets a
// statement of its own.

// maxCachedStmts bounds a connection's cache. Patchbay's statements are
// built from fixed text and a bounded number of rows, so a few hundred
// cover them; past the bound, statements are prepared and closed per use
// as before.
const maxCachedStmts = 512

// cachingConnector makes connections that cache their statements.
type cachingConnector struct{ driver.Connector }

// Connect implements driver.Connector.
func (c cachingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	dc, ok := conn.(driverConn)
	if !ok {
		_ = conn.Close()
		return nil, errors.New("sqlite: the driver's connections lack a method the statement cache needs")
	}
	return &cachingConn{conn: dc, stmts: map[string]*cachedStmt{}}, nil
}

// driverConn is what the cache needs of the driver's connections.
type driverConn interface {
	driver.Conn
	driver.ConnPrepareContext
	driver.ConnBeginTx
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// driverStmt is what the cache needs of the driver's statements.
type driverStmt interface {
	driver.Stmt
	driver.StmtExecContext
	driver.StmtQueryContext
}

// cachingConn is a modernc connection with a statement cache. Its methods
// other than ExecContext and QueryContext pass through.
type cachingConn struct {
	conn  driverConn
	stmts map[string]*cachedStmt
}

type cachedStmt struct {
	stmt driverStmt
	busy bool // its rows are open
}

var (
	_ driver.ExecerContext      = (*cachingConn)(nil)
	_ driver.QueryerContext     = (*cachingConn)(nil)
	_ driver.ConnBeginTx        = (*cachingConn)(nil)
	_ driver.ConnPrepareContext = (*cachingConn)(nil)
	_ driver.Pinger             = (*cachingConn)(nil)
	_ driver.SessionResetter    = (*cachingConn)(nil)
	_ driver.Validator          = (*cachingConn)(nil)
)

// stmt returns a prepared statement for query and what to call when the
// caller is done with it.
func (c *cachingConn) stmt(ctx context.Context, query string) (driverStmt, func(), error) {
	if cs := c.stmts[query]; cs != nil && !cs.busy {
		cs.busy = true
		return cs.stmt, func() { cs.busy = false }, nil
	}
	prepared, err := c.conn.PrepareContext(ctx, query)
	if err != nil {
		return nil, nil, err
	}
	st, ok := prepared.(driverStmt)
	if !ok {
		_ = prepared.Close()
		return nil, nil, errors.New("sqlite: the driver's statements lack a method the statement cache needs")
	}
	if _, taken := c.stmts[query]; taken || len(c.stmts) >= maxCachedStmts {
		return st, func() { _ = st.Close() }, nil
	}
	cs := &cachedStmt{stmt: st, busy: true}
	c.stmts[query] = cs
	return st, func() { cs.busy = false }, nil
}

// ExecContext implements driver.ExecerContext with a cached statement.
func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	st, done, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	defer done()
	return st.ExecContext(ctx, args)
}

// QueryContext implements driver.QueryerContext with a cached statement,
// held until its rows close.
func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	st, done, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(ctx, args)
	if err != nil {
		done()
		return nil, err
	}
	return &releasingRows{Rows: rows, done: done}, nil
}

// Close closes the cached statements, then the connection.
func (c *cachingConn) Close() error {
	for q, cs := range c.stmts {
		_ = cs.stmt.Close()
		delete(c.stmts, q)
	}
	return c.conn.Close()
}

// Prepare implements driver.Conn.
func (c *cachingConn) Prepare(query string) (driver.Stmt, error) { return c.conn.Prepare(query) }

// Begin implements driver.Conn.
//
//nolint:staticcheck // required by driver.Conn; database/sql calls BeginTx
func (c *cachingConn) Begin() (driver.Tx, error) { return c.conn.Begin() }

// PrepareContext implements driver.ConnPrepareContext.
func (c *cachingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.conn.PrepareContext(ctx, query)
}

// BeginTx implements driver.ConnBeginTx.
func (c *cachingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.conn.BeginTx(ctx, opts)
}

// Ping implements driver.Pinger.
func (c *cachingConn) Ping(ctx context.Context) error { return c.conn.Ping(ctx) }

// ResetSession implements driver.SessionResetter.
func (c *cachingConn) ResetSession(ctx context.Context) error {
	return c.conn.ResetSession(ctx)
}

// IsValid implements driver.Validator.
func (c *cachingConn) IsValid() bool { return c.conn.IsValid() }

// releasingRows gives its statement back to the cache when closed.
type releasingRows struct {
	driver.Rows
	done   func()
	closed bool
}

// Close implements driver.Rows.
func (r *releasingRows) Close() error {
	err := r.Rows.Close()
	if !r.closed {
		r.closed = true
		r.done()
	}
	return err
}

// ColumnTypeDatabaseTypeName passes the column's declared type through,
// for sql.Rows.ColumnTypes.
func (r *releasingRows) ColumnTypeDatabaseTypeName(i int) string {
	if t, ok := r.Rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return t.ColumnTypeDatabaseTypeName(i)
	}
	return ""
}

// ColumnTypeScanType passes the column's Go type through, for
// sql.Rows.ColumnTypes.
func (r *releasingRows) ColumnTypeScanType(i int) reflect.Type {
	if t, ok := r.Rows.(driver.RowsColumnTypeScanType); ok {
		return t.ColumnTypeScanType(i)
	}
	return reflect.TypeFor[any]()
}
