package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/convo-sdk/convo/server/store"
)

// db is the pool with every error that means "the database cannot be reached" marked as
// store.ErrUnavailable (and "its disk is full" as store.ErrFull, full.go), so the server
// can tell clients to retry instead of reporting an internal error. Transactions are marked where they end (write, read, pipeline).
type db struct{ *pgxpool.Pool }

func (d db) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	rows, err := d.Pool.Query(ctx, sql, args...)
	if err != nil {
		return rows, unavailable(err)
	}
	return markedRows{rows}, nil
}

func (d db) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return markedRow{d.Pool.QueryRow(ctx, sql, args...)}
}

func (d db) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	tag, err := d.Pool.Exec(ctx, sql, args...)
	return tag, unavailable(err)
}

func (d db) Acquire(ctx context.Context) (*pgxpool.Conn, error) {
	c, err := d.Pool.Acquire(ctx)
	return c, unavailable(err)
}

// markedRows reports a connection lost while reading rows (errors surface in Err).
type markedRows struct{ pgx.Rows }

func (r markedRows) Err() error { return unavailable(r.Rows.Err()) }

type markedRow struct{ pgx.Row }

func (r markedRow) Scan(dest ...any) error { return unavailable(r.Row.Scan(dest...)) }

// unavailable wraps err in store.ErrUnavailable when it says the database is out of reach:
// no connection could be made, the server is shutting down or starting up, the connection
// broke, or the database did not answer in time; a full disk is marked store.ErrFull.
// Other errors pass through untouched.
func unavailable(err error) error {
	if diskFull(err) && !errors.Is(err, store.ErrFull) {
		return fmt.Errorf("%w: %w", store.ErrFull, err)
	}
	if err == nil || errors.Is(err, store.ErrUnavailable) || !unreachable(err) {
		return err
	}
	return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
}

func unreachable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// Class 08: connection exceptions; 57P01-57P03: admin shutdown, crash shutdown,
		// cannot connect now (starting up or recovering).
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03"
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || pgconn.Timeout(err) || errors.As(err, &ne) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}
