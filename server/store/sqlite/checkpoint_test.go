package sqlite

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// walRestarts reads the WAL's checkpoint sequence number, which SQLite bumps each time the
// WAL starts over from its beginning.
func walRestarts(t *testing.T, path string) uint32 {
	t.Helper()
	f, err := os.Open(path + "-wal")
	require.NoError(t, err)
	defer f.Close()
	var hdr [16]byte
	_, err = f.ReadAt(hdr[:], 0)
	require.NoError(t, err)
	return binary.BigEndian.Uint32(hdr[12:])
}

// Under steady writes a checkpoint beside the writer never copies the whole WAL: commits
// land while it runs, so no write begins with all of it copied and the WAL never starts
// over. The committer finishes such a checkpoint between two batches, and the next write
// starts the WAL over.
func TestTheCommitterFinishesACheckpointAndTheWALStartsOver(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.db")
	s := open(t, path, Options{moveEvery: -1, checkpointEvery: -1})
	conv := setup(t, s, "alice", "bob")
	sendN(t, s, conv, "alice", 3)
	seq := walRestarts(t, path)

	// checkpointLoop's checkpoint, while commits land: a reader's older snapshot stands in
	// for them, keeping the checkpoint from copying the newest frames.
	rtx, err := s.r.Begin()
	require.NoError(t, err)
	var n int
	require.NoError(t, rtx.QueryRow(`SELECT COUNT(*) FROM messages`).Scan(&n))
	sendN(t, s, conv, "alice", 1)
	_, err = s.cp.Exec(`PRAGMA wal_checkpoint(PASSIVE)`)
	require.NoError(t, err)
	require.NoError(t, rtx.Rollback())
	sendN(t, s, conv, "alice", 1)
	require.Equal(t, seq, walRestarts(t, path), "not all of the WAL was copied: it cannot start over")

	s.finishCkpt <- struct{}{}    // as checkpointLoop asks when the WAL is long
	sendN(t, s, conv, "alice", 1) // the committer finishes the checkpoint after this batch
	sendN(t, s, conv, "alice", 1) // and this write starts the WAL over
	require.Greater(t, walRestarts(t, path), seq)
}
