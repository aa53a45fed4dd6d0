package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// migration is one named schema change.
type migration struct{ name, sql string }

var migrations []migration

// register adds a migration; it is called from package-level variable initialisers.
func register(name, sql string) struct{} {
	migrations = append(migrations, migration{name, sql})
	return struct{}{}
}

// migrateLock is the advisory lock key nodes take to migrate one at a time ("convo" +
// "migr" in ASCII).
const migrateLock int64 = 0x636f6e766f6d6967

// orderedMigrations returns the migrations in name order, the order they are applied in.
func orderedMigrations() []migration {
	ordered := slices.Clone(migrations)
	slices.SortFunc(ordered, func(a, b migration) int { return strings.Compare(a.name, b.name) })
	return ordered
}

// migrate brings the schema up to date: every migration the database lacks.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	ordered := orderedMigrations()
	return migrateTo(ctx, pool, ordered[len(ordered)-1].name)
}

// migrateTo applies the migrations the database lacks, in name order, up to and including
// last, in one transaction that holds an advisory lock: a node starting while another
// migrates waits, then finds the work done. The upgrade tests use it to build a database
// as an earlier version left it.
func migrateTo(ctx context.Context, pool *pgxpool.Pool, last string) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrateLock); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied BIGINT NOT NULL)`); err != nil {
			return err
		}
		rows, _ := tx.Query(ctx, `SELECT name FROM schema_migrations`)
		names, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		known := map[string]bool{}
		for _, m := range migrations {
			known[m.name] = true
		}
		applied := map[string]bool{}
		for _, name := range names {
			if !known[name] {
				return fmt.Errorf("the database has migration %q that this program does not know: it was written by a newer version", name)
			}
			applied[name] = true
		}
		if !known[last] {
			return fmt.Errorf("no migration %q", last)
		}
		for _, m := range orderedMigrations() {
			if m.name > last {
				break
			}
			if applied[m.name] {
				continue
			}
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return fmt.Errorf("migration %s: %w", m.name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (name, applied) VALUES ($1, $2)`, m.name, time.Now().UnixMilli()); err != nil {
				return err
			}
		}
		return nil
	})
}

// AppliedMigrations returns the names of the applied migrations in name order.
func (s *Store) AppliedMigrations(ctx context.Context) ([]string, error) {
	rows, _ := s.pool.Query(ctx, `SELECT name FROM schema_migrations ORDER BY name`)
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// hasPoolSize reports whether the DSN (URL or key=value form) sets the pool size itself.
func hasPoolSize(dsn string) bool { return strings.Contains(dsn, "pool_max_conns") }
