package postgres

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/server/store/internal/storeutil"
)

// maxAttempts bounds how often a write is tried when PostgreSQL aborts it for a conflict
// with a concurrent one.
const maxAttempts = 10

// write runs fn in a READ COMMITTED transaction and commits it. A serialization failure
// or a deadlock (the other party went on) runs the whole of fn again, so fn must set its
// results afresh on every call.
func (s *Store) write(ctx context.Context, fn func(tx pgx.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := pgx.BeginFunc(ctx, s.pool, fn)
		if err == nil || !retryable(err) || attempt == maxAttempts || ctx.Err() != nil {
			return unavailable(err)
		}
		if err := pause(ctx, attempt); err != nil {
			return err
		}
	}
}

// pause waits a jittered time that grows with attempt, so the winner of a conflict
// finishes before the loser tries again.
func pause(ctx context.Context, attempt int) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Duration(rand.Int64N(int64(time.Millisecond) << min(attempt, 6)))):
		return nil
	}
}

// pipeline runs the statements build queues as one transaction in one round trip: BEGIN,
// the statements and COMMIT go out together. An error (from a statement or a callback)
// leaves the transaction to roll back. Like write, it runs again on a serialization
// failure or deadlock, calling build afresh.
func (s *Store) pipeline(ctx context.Context, build func(b *pgx.Batch)) error {
	for attempt := 1; ; attempt++ {
		err := s.pipelineOnce(ctx, build)
		if err == nil || !retryable(err) || attempt == maxAttempts || ctx.Err() != nil {
			return unavailable(err)
		}
		if err := pause(ctx, attempt); err != nil {
			return err
		}
	}
}

func (s *Store) pipelineOnce(ctx context.Context, build func(b *pgx.Batch)) error {
	c, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer c.Release() // a connection still in a transaction is closed, not reused
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	build(b)
	b.Queue("COMMIT")
	err = c.SendBatch(ctx, b).Close()
	if err != nil && c.Conn().PgConn().TxStatus() != 'I' && !c.Conn().IsClosed() {
		_, _ = c.Exec(ctx, "ROLLBACK")
	}
	return err
}

// read runs fn in a read-only REPEATABLE READ transaction: its statements see one snapshot.
func (s *Store) read(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return unavailable(pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, fn))
}

// PostgreSQL error codes this store acts on.
const (
	codeUniqueViolation      = "23505"
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
)

func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == codeSerializationFailure || pe.Code == codeDeadlockDetected)
}

// uniqueViolation reports whether err is a unique violation of the named constraint or
// index.
func uniqueViolation(err error, constraint string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == codeUniqueViolation && pe.ConstraintName == constraint
}

// notFound maps "no rows" to store.ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}

// querier is what the pool and a transaction have in common.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

type (
	scanner      = storeutil.Scanner
	extraScanner = storeutil.ExtraScanner
)

// scan reads rows into wire types, with pgx.ErrNoRows as store.ErrNotFound.
var scan = storeutil.Scans{NotFound: notFound}

// strings collects a one-column text query.
func queryStrings(ctx context.Context, q querier, sql string, args ...any) ([]string, error) {
	rows, _ := q.Query(ctx, sql, args...)
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// nullText is a text parameter that is NULL when empty.
func nullText(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// lockConversation locks a conversation's row for the rest of the transaction and returns
// its state. Every write about a conversation takes this lock first: it orders the writes
// of one conversation (membership, messages, read horizons) and, before any stream lock,
// keeps the lock order the same everywhere.
func lockConversation(ctx context.Context, tx pgx.Tx, sid string) (state string, err error) {
	err = tx.QueryRow(ctx, `SELECT state FROM conversations WHERE sid = $1 FOR NO KEY UPDATE`, sid).Scan(&state)
	return state, notFound(err)
}
