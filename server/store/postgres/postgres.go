// Package postgres implements store.Store on PostgreSQL (github.com/jackc/pgx/v5), for
// running several server nodes on one database. Its behaviour is the sqlite store's, method
// by method (both pass storetest); what differs is how it stays correct with many writers:
//
//   - Every write is one READ COMMITTED transaction, retried whole on a serialization
//     failure or deadlock. Writes about a conversation lock its row first; events then lock
//     their recipients' stream rows in identity order, and a stream's next offset is taken
//     from its locked row, so offsets are dense, gap-free and committed in order.
//   - Idempotency keys are a unique index: of two concurrent sends with one key, the second
//     fails on it, rolls back and returns the first message.
//   - The webhook dispatcher's log positions are assigned after commit (webhooks.go), so a
//     reader never skips a transaction that committed late; due deliveries are claimed with
//     SKIP LOCKED; lifecycle timers are advanced one conversation per transaction.
//   - Migrations run under an advisory lock, so nodes starting together apply them once.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/convo-sdk/convo/server/store"
)

// Options tune a Store. The zero value is usable.
type Options struct {
	// Retention is how many events each user's stream keeps; 0 means DefaultRetention.
	Retention int
	// MaxConns is the connection pool's size; 0 keeps the DSN's pool_max_conns, else
	// DefaultMaxConns.
	MaxConns int
	// PruneInterval is how often unreferenced event payloads are deleted; 0 means one
	// minute.
	PruneInterval time.Duration
	Logger        *slog.Logger
}

// DefaultRetention is the number of events kept per user stream by default.
const DefaultRetention = 10000

// DefaultMaxConns is the pool size when neither Options nor the DSN set one: enough
// connections that transactions waiting for their commit to reach the disk do not hold up
// the others.
const DefaultMaxConns = 32

// Store is the PostgreSQL store. It is safe for concurrent use, and several Stores (in
// several processes) may share one database.
type Store struct {
	pool      db
	retention int64
	log       *slog.Logger

	stop      chan struct{}
	pruneDone chan struct{}
	closeOnce sync.Once
}

var _ store.Store = (*Store)(nil)

// Open connects to the database named by dsn (a postgres:// URL, pgxpool options such as
// pool_max_conns allowed) and brings its schema up to date.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	if opts.Retention <= 0 {
		opts.Retention = DefaultRetention
	}
	if opts.PruneInterval <= 0 {
		opts.PruneInterval = time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	switch {
	case opts.MaxConns > 0:
		cfg.MaxConns = int32(opts.MaxConns)
	case !hasPoolSize(dsn):
		cfg.MaxConns = DefaultMaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: migrate: %w", err)
	}
	s := &Store{pool: db{pool}, retention: int64(opts.Retention), log: opts.Logger,
		stop: make(chan struct{}), pruneDone: make(chan struct{})}
	go s.pruneLoop(opts.PruneInterval)
	return s, nil
}

// Close stops the pruner and closes the pool after in-flight queries finish.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.stop)
		<-s.pruneDone
		s.pool.Close()
	})
	return nil
}

// Ping runs a query on a pooled connection, so a health check notices a database that is
// down or refuses this store.
func (s *Store) Ping(ctx context.Context) error {
	var n int
	return s.pool.QueryRow(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&n)
}

func (s *Store) pruneLoop(every time.Duration) {
	defer close(s.pruneDone)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), every)
			if _, err := s.PruneEvents(ctx); err != nil && !errors.Is(err, context.Canceled) {
				s.log.Warn("pruning event payloads failed", "err", err)
			}
			cancel()
		}
	}
}
