//go:build linux

package sqlite

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/server/store"
)

// space is a file's size and the bytes allocated to it. It reads the reserver's own
// descriptors: closing another one would drop SQLite's locks (see spaceReserver).
func space(t *testing.T, f *os.File) (size, allocated int64) {
	t.Helper()
	size, allocated, _, err := fileSpace(f)
	require.NoError(t, err)
	return size, allocated
}

// The database file and its WAL are kept allocated ahead of their sizes, and the database
// file again once it has grown into its reservation; the sizes SQLite sees never change.
func TestDiskSpaceIsReservedAheadOfTheFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	s := open(t, path, Options{moveEvery: -1, checkpointEvery: -1})
	if s.space.off {
		t.Skip("this filesystem cannot reserve space (fallocate)")
	}
	require.NotNil(t, s.space.wal, "the WAL exists once Open has migrated the schema")
	size, allocated := space(t, s.space.db)
	require.GreaterOrEqual(t, allocated, reserveTarget(size, 0), "the database file after Open")
	walSize, walAllocated := space(t, s.space.wal)
	require.GreaterOrEqual(t, walAllocated, reserveTarget(walSize, walRestartBytes), "the WAL after Open")

	// Grow the database file past its reservation: 3 MB of messages, checkpointed.
	conv := setup(t, s, "alice")
	body := strings.Repeat("x", 3000)
	for range 1000 {
		_, _, _, err := s.SendMessage(ctxT(t), store.NewMessage{ConversationSid: conv, Author: "alice", Body: &body})
		require.NoError(t, err)
	}
	_, err := s.cp.Exec(`PRAGMA wal_checkpoint(PASSIVE)`)
	require.NoError(t, err)
	grown, before := space(t, s.space.db)
	require.Greater(t, grown, reserveTarget(size, 0), "the test must outgrow the first reservation")
	require.Less(t, before, reserveTarget(grown, 0), "the reservation was used up")

	s.space.reserve() // as checkpointLoop does after each checkpoint
	after, allocated := space(t, s.space.db)
	require.Equal(t, grown, after, "reserving changed the database file's size")
	require.GreaterOrEqual(t, allocated, reserveTarget(grown, 0))
	walAfter, walAllocated := space(t, s.space.wal)
	require.GreaterOrEqual(t, walAllocated, reserveTarget(walAfter, walRestartBytes))
}

func TestReserveTarget(t *testing.T) {
	const mib = 1 << 20
	assert.Equal(t, int64(100+mib), reserveTarget(100, 0), "small files: the minimum ahead")
	assert.Equal(t, int64(30*mib), reserveTarget(20*mib, 0), "half the size ahead")
	assert.Equal(t, int64(1000*mib+64*mib), reserveTarget(1000*mib, 0), "at most 64 MiB ahead")
	assert.Equal(t, int64(walRestartBytes), reserveTarget(15*mib, walRestartBytes), "capped by the limit")
	assert.Equal(t, int64(40*mib), reserveTarget(40*mib, walRestartBytes), "never below the size")
}
