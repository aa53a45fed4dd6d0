package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"

	sqlite "modernc.org/sqlite"
)

// SQLite spends much of a short statement's time parsing it; the modernc driver parses every
// query database/sql hands it, and the store's queries are a fixed set of strings. This
// driver keeps each connection's prepared statements by query text and reuses them.

func init() { sql.Register(cachedDriverName, &cachingDriver{}) }

const cachedDriverName = "sqlite-stmtcache"

// maxCachedStmts bounds the statements one connection keeps; queries built with a variable
// number of placeholders beyond that are prepared and finalised as before.
const maxCachedStmts = 256

type cachingDriver struct{ sqlite.Driver }

func (d *cachingDriver) Open(name string) (driver.Conn, error) {
	c, err := d.Driver.Open(name)
	if err != nil {
		return nil, err
	}
	return &cachedConn{c: c, stmts: map[string]*cachedStmt{}}, nil
}

// cachedConn hides the driver's ExecerContext and QueryerContext, so database/sql prepares
// every query through PrepareContext, which answers from the cache. database/sql uses a
// connection from one goroutine at a time, so the map needs no lock.
type cachedConn struct {
	c     driver.Conn
	stmts map[string]*cachedStmt
}

type cachedStmt struct {
	s    driver.Stmt
	busy bool // handed out and not closed yet (rows still open, say)
}

func (c *cachedConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *cachedConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	if cs := c.stmts[query]; cs != nil && !cs.busy {
		cs.busy = true
		return &stmtHandle{cs}, nil
	}
	s, err := c.c.(driver.ConnPrepareContext).PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if _, taken := c.stmts[query]; taken || len(c.stmts) >= maxCachedStmts {
		return s, nil // in use already (nested), or the cache is full: not kept
	}
	cs := &cachedStmt{s: s, busy: true}
	c.stmts[query] = cs
	return &stmtHandle{cs}, nil
}

func (c *cachedConn) Close() error {
	var errs []error
	for _, cs := range c.stmts {
		errs = append(errs, cs.s.Close())
	}
	c.stmts = nil
	return errors.Join(append(errs, c.c.Close())...)
}

func (c *cachedConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *cachedConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.c.(driver.ConnBeginTx).BeginTx(ctx, opts)
}

func (c *cachedConn) Ping(ctx context.Context) error { return c.c.(driver.Pinger).Ping(ctx) }

func (c *cachedConn) ResetSession(ctx context.Context) error {
	return c.c.(driver.SessionResetter).ResetSession(ctx)
}

func (c *cachedConn) IsValid() bool { return c.c.(driver.Validator).IsValid() }

// stmtHandle is a cached statement lent to database/sql until it closes it.
type stmtHandle struct{ cs *cachedStmt }

func (h *stmtHandle) Close() error {
	h.cs.busy = false
	return nil
}

func (h *stmtHandle) NumInput() int { return h.cs.s.NumInput() }

// Exec and Query complete driver.Stmt; database/sql calls the Context forms.
func (h *stmtHandle) Exec(args []driver.Value) (driver.Result, error) {
	return h.ExecContext(context.Background(), namedValues(args))
}

func (h *stmtHandle) Query(args []driver.Value) (driver.Rows, error) {
	return h.QueryContext(context.Background(), namedValues(args))
}

func namedValues(args []driver.Value) []driver.NamedValue {
	nv := make([]driver.NamedValue, len(args))
	for i, v := range args {
		nv[i] = driver.NamedValue{Ordinal: i + 1, Value: v}
	}
	return nv
}

func (h *stmtHandle) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	return h.cs.s.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (h *stmtHandle) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	return h.cs.s.(driver.StmtQueryContext).QueryContext(ctx, args)
}
