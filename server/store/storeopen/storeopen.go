// Package storeopen opens the store a configuration names: PostgreSQL for a postgres:// or
// postgresql:// URL (several server nodes on one database), else SQLite at a file path (the
// embedded default).
package storeopen

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/server/store/postgres"
	"github.com/convo-sdk/convo/server/store/sqlite"
)

// Options are what both stores take.
type Options struct {
	// Retention is how many events each user's stream keeps; 0 means the store's default.
	Retention int
	Logger    *slog.Logger
}

// ErrSpec: the spec names no store this program can open.
var ErrSpec = errors.New("storeopen: unusable store")

// Open opens the store spec names and brings its schema up to date.
func Open(ctx context.Context, spec string, o Options) (store.Store, error) {
	scheme, rest, isURL := strings.Cut(spec, "://")
	switch scheme = strings.ToLower(scheme); {
	case strings.TrimSpace(spec) == "":
		return nil, fmt.Errorf("%w: empty; give an SQLite file path or a postgres:// URL", ErrSpec)
	case isURL && (scheme == "postgres" || scheme == "postgresql"):
		// Schemes are case-insensitive; pgx reads lower case only.
		return postgres.Open(ctx, scheme+"://"+rest, postgres.Options{Retention: o.Retention, Logger: o.Logger})
	case isURL:
		return nil, fmt.Errorf("%w: scheme %q; give an SQLite file path or a postgres:// URL", ErrSpec, scheme)
	case strings.Contains(spec, "dbname=") || strings.Contains(spec, "host="):
		// A libpq key=value string would otherwise become an oddly named SQLite file.
		return nil, fmt.Errorf("%w: a PostgreSQL key=value string; give a postgres:// URL instead", ErrSpec)
	}
	return sqlite.Open(spec, sqlite.Options{Retention: o.Retention, Logger: o.Logger})
}
