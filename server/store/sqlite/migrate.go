package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"
)

// migration is one named schema change.
type migration struct{ name, sql string }

var migrations []migration

// register adds a migration; it is called from package-level variable initialisers.
func register(name, sql string) struct{} {
	migrations = append(migrations, migration{name, sql})
	return struct{}{}
}

// orderedMigrations returns the migrations in name order, the order they are applied in.
func orderedMigrations() []migration {
	ordered := slices.Clone(migrations)
	slices.SortFunc(ordered, func(a, b migration) int { return strings.Compare(a.name, b.name) })
	return ordered
}

// migrate brings the schema up to date: every migration the database lacks.
func migrate(db *sql.DB) error {
	ordered := orderedMigrations()
	return migrateTo(db, ordered[len(ordered)-1].name)
}

// migrateTo applies the migrations the database lacks, in name order, up to and including
// last, in one transaction. The upgrade tests use it to build a database as an earlier
// version left it.
func migrateTo(db *sql.DB, last string) error {
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied BIGINT NOT NULL)`); err != nil {
		return err
	}
	applied := map[string]bool{}
	rows, err := tx.Query(`SELECT name FROM schema_migrations`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return err
		}
		applied[name] = true
	}
	rows.Close()
	known := map[string]bool{}
	for _, m := range migrations {
		known[m.name] = true
	}
	for name := range applied {
		if !known[name] {
			return fmt.Errorf("the database has migration %q that this program does not know: it was written by a newer version", name)
		}
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
		if _, err := tx.Exec(m.sql); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		if _, err := tx.Exec(`INSERT INTO schema_migrations (name, applied) VALUES (?, ?)`, m.name, time.Now().UnixMilli()); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// AppliedMigrations returns the names of the applied migrations in name order.
func (s *Store) AppliedMigrations(ctx context.Context) ([]string, error) {
	return queryStrings(ctx, s.r, `SELECT name FROM schema_migrations ORDER BY name`)
}
