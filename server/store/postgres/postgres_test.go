package postgres

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/internal/pgtest"
	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/server/store/storetest"
)

// One throwaway cluster for the package; every test gets databases of its own in it.
func TestPostgres(t *testing.T) {
	srv := pgtest.StartT(t)
	t.Run("suite", func(t *testing.T) {
		var (
			mu  sync.Mutex
			dbs = map[string]string{} // suite database name → DSN
		)
		storetest.Run(t, func(t *testing.T, o storetest.Options) store.Store {
			mu.Lock()
			dsn, ok := dbs[o.Database]
			if !ok {
				var err error
				dsn, err = srv.CreateDatabase(ctxT(t), o.Database)
				require.NoError(t, err)
				dbs[o.Database] = dsn
			}
			mu.Unlock()
			return open(t, dsn, Options{Retention: o.Retention})
		})
	})
	t.Run("MigrationsApplyOnceAcrossNodes", func(t *testing.T) { testMigrationsApplyOnce(t, srv.NewDatabase(t)) })
	t.Run("OpenRefusesADatabaseFromANewerVersion", func(t *testing.T) { testNewerVersion(t, srv.NewDatabase(t)) })
	t.Run("OpenReportsAnUnreachableDatabase", testUnreachable)
	t.Run("RemovedContentIsInNoTable", func(t *testing.T) { testRemovedContentInNoTable(t, srv.NewDatabase(t)) })
	t.Run("RedactionCanUseTheEventsByMessageIndex", func(t *testing.T) { testRedactionIndex(t, srv.NewDatabase(t)) })
	t.Run("RedactionCanUseTheEventsByConversationIndexes", func(t *testing.T) { testConversationRedactionIndexes(t, srv.NewDatabase(t)) })
	t.Run("UpgradeFromEveryVersion", func(t *testing.T) { testUpgradeFromEveryVersion(t, srv) })
	t.Run("WritesRetryAfterADeadlock", func(t *testing.T) { testDeadlockRetry(t, srv.NewDatabase(t)) })
	t.Run("ARestoredDumpGetsNewEpochsByTheDocumentedRule", func(t *testing.T) { testRestoreEpochRule(t, srv) })
	// Last: it takes the server down for a moment.
	t.Run("AnOutageIsReportedAsUnavailable", func(t *testing.T) { testOutage(t, srv) })
}

func testOutage(t *testing.T, srv *pgtest.Server) {
	ctx := ctxT(t)
	s := open(t, srv.NewDatabase(t), Options{})
	_, err := s.EnsureUser(ctx, "alice")
	require.NoError(t, err)
	_, err = s.CreateConversation(ctx, store.NewConversation{CreatedBy: "alice"})
	require.NoError(t, err)

	srv.Halt()
	ops := map[string]func() error{
		"read (pool)":       func() error { _, err := s.User(ctx, "alice"); return err },
		"read (query rows)": func() error { _, _, err := s.ConversationsOf(ctx, "alice", "", 10); return err },
		"write": func() error {
			_, err := s.CreateConversation(ctx, store.NewConversation{CreatedBy: "alice"})
			return err
		},
		"ping": func() error { return s.Ping(ctx) },
	}
	for name, op := range ops {
		err := op()
		assert.ErrorIs(t, err, store.ErrUnavailable, "%s while the database is down: %v", name, err)
	}
	require.NoError(t, srv.Resume())
	for name, op := range ops {
		assert.NoError(t, op(), "%s after the database came back", name)
	}
	// Not every failure is an outage.
	_, err = s.Conversation(ctx, "CHnone")
	assert.ErrorIs(t, err, store.ErrNotFound)
	assert.NotErrorIs(t, err, store.ErrUnavailable)
}

func open(t *testing.T, dsn string, opts Options) *Store {
	t.Helper()
	s, err := Open(ctxT(t), dsn, opts)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func testMigrationsApplyOnce(t *testing.T, dsn string) {
	// Nodes starting together: each migrates under the advisory lock, one after another.
	stores := make([]*Store, 4)
	var wg sync.WaitGroup
	for i := range stores {
		wg.Go(func() {
			s, err := Open(ctxT(t), dsn, Options{})
			if assert.NoError(t, err) {
				stores[i] = s
				t.Cleanup(func() { s.Close() })
			}
		})
	}
	wg.Wait()
	for _, s := range stores {
		require.NotNil(t, s)
		names, err := s.AppliedMigrations(ctxT(t))
		require.NoError(t, err)
		assert.Len(t, names, len(migrations))
		assert.Equal(t, "0001_base", names[0])
		assert.IsIncreasing(t, names)
	}
}

func testNewerVersion(t *testing.T, dsn string) {
	s := open(t, dsn, Options{})
	_, err := s.pool.Exec(ctxT(t), `INSERT INTO schema_migrations (name, applied) VALUES ('9999_from_the_future', 0)`)
	require.NoError(t, err)
	require.NoError(t, s.Close())
	_, err = Open(ctxT(t), dsn, Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `migration "9999_from_the_future"`)
	assert.Contains(t, err.Error(), "newer version")
}

func testUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := Open(ctx, "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2", Options{})
	require.Error(t, err)
	_, err = Open(ctx, "postgres://%zz", Options{})
	require.Error(t, err)
}

func testDeadlockRetry(t *testing.T, dsn string) {
	ctx := ctxT(t)
	s := open(t, dsn, Options{})
	for _, id := range []string{"a", "b"} {
		_, err := s.EnsureUser(ctx, id)
		require.NoError(t, err)
	}
	// Two writes lock two rows in opposite orders; PostgreSQL aborts one (after its
	// deadlock_timeout, a second), and write runs that one again.
	var (
		attempts atomic.Int32
		both     sync.WaitGroup
	)
	both.Add(2)
	lockBoth := func(first, second string) error {
		return s.write(ctx, func(tx pgx.Tx) error {
			bump := func(id string) error {
				_, err := tx.Exec(ctx, `UPDATE users SET friendly_name = friendly_name WHERE identity = $1`, id)
				return err
			}
			err := bump(first)
			if attempts.Add(1) <= 2 {
				both.Done()
				both.Wait() // each holds its first row
			}
			if err != nil {
				return err
			}
			return bump(second)
		})
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	wg.Go(func() { errs[0] = lockBoth("a", "b") })
	wg.Go(func() { errs[1] = lockBoth("b", "a") })
	wg.Wait()
	assert.NoError(t, errs[0])
	assert.NoError(t, errs[1])
	// At least one ran again. A loaded machine can make PostgreSQL pick a victim in both
	// orders before either commits, so both may run twice: that is still a correct retry.
	assert.GreaterOrEqual(t, attempts.Load(), int32(3), "the deadlock's victim ran again")
	assert.True(t, retryable(&pgconn.PgError{Code: codeDeadlockDetected}))
	assert.True(t, retryable(fmt.Errorf("wrapped: %w", &pgconn.PgError{Code: codeSerializationFailure})))
	assert.False(t, retryable(&pgconn.PgError{Code: codeUniqueViolation}))
}
