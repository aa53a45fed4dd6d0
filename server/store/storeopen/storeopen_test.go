package storeopen

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/internal/pgtest"
	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/server/store/postgres"
	"github.com/convo-sdk/convo/server/store/sqlite"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// roundTrip checks the store works and keeps what it is given.
func roundTrip(t *testing.T, s store.Store) {
	t.Helper()
	ctx := ctxT(t)
	require.NoError(t, s.Ping(ctx))
	c, err := s.CreateConversation(ctx, store.NewConversation{UniqueName: "x", CreatedBy: "alice"})
	require.NoError(t, err)
	got, err := s.ConversationByUniqueName(ctx, "x")
	require.NoError(t, err)
	assert.Equal(t, c.Sid, got.Sid)
}

func TestPathOpensSQLite(t *testing.T) {
	s, err := Open(ctxT(t), filepath.Join(t.TempDir(), "convo.db"), Options{Retention: 5})
	require.NoError(t, err)
	defer s.Close()
	assert.IsType(t, &sqlite.Store{}, s)
	roundTrip(t, s)
}

func TestURLOpensPostgres(t *testing.T) {
	srv := pgtest.StartT(t)
	for _, scheme := range []string{"postgres", "postgresql", "POSTGRES"} {
		dsn := srv.NewDatabase(t)
		s, err := Open(ctxT(t), scheme+strings.TrimPrefix(dsn, "postgres"), Options{})
		require.NoError(t, err, scheme)
		assert.IsType(t, &postgres.Store{}, s)
		roundTrip(t, s)
		require.NoError(t, s.Close())
	}
}

func TestUnusableSpecs(t *testing.T) {
	for _, spec := range []string{"", "  ", "mysql://u@h/db", "redis://localhost", "host=localhost dbname=convo"} {
		_, err := Open(ctxT(t), spec, Options{})
		assert.ErrorIs(t, err, ErrSpec, "%q", spec)
	}
	_, err := Open(ctxT(t), filepath.Join(t.TempDir(), "missing", "dir", "convo.db"), Options{})
	assert.Error(t, err, "a folder that does not exist")
	_, err = Open(ctxT(t), "postgres://u:secret@127.0.0.1:1/db?sslmode=disable&connect_timeout=2", Options{})
	require.Error(t, err, "nothing listens there")
	assert.NotContains(t, err.Error(), "secret", "passwords stay out of errors")
}
