package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMigrationsApplyOnce(t *testing.T) {
	ctx := ctxT(t)
	path := filepath.Join(t.TempDir(), "c.db")
	for range 3 {
		s := open(t, path, Options{})
		names, err := s.AppliedMigrations(ctx)
		require.NoError(t, err)
		assert.Len(t, names, len(migrations))
		assert.Equal(t, "0001_base", names[0])
		assert.IsIncreasing(t, names)
		require.NoError(t, s.Close())
	}
}

func TestOpenRefusesADatabaseFromANewerVersion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "convo.db")
	s := open(t, path, Options{})
	_, err := s.w.Exec(`INSERT INTO schema_migrations (name, applied) VALUES ('9999_from_the_future', 0)`)
	require.NoError(t, err)
	require.NoError(t, s.Close())
	_, err = Open(path, Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `migration "9999_from_the_future"`)
	assert.Contains(t, err.Error(), "newer version")
}
