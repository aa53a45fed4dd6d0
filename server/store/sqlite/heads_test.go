package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/wire"
)

// The writer hands stream offsets out from memory (heads.go). Whatever happens to the
// writes and processes around it, every stream stays one dense run: no offset twice, none
// skipped.

// requireDense checks that identity's stream reads 1..n and its head agrees.
func requireDense(t *testing.T, s *Store, identity string, n int) {
	t.Helper()
	ds, err := s.ReadStream(ctxT(t), identity, 0, 1000)
	require.NoError(t, err)
	want := make([]uint64, n)
	for i := range want {
		want[i] = uint64(i + 1)
	}
	require.Equal(t, want, offsets(ds))
	h, err := s.StreamHead(ctxT(t), identity)
	require.NoError(t, err)
	require.EqualValues(t, n, h.Last)
}

func streamLen(t *testing.T, s *Store, identity string) int {
	h, err := s.StreamHead(ctxT(t), identity)
	require.NoError(t, err)
	return int(h.Last)
}

func TestStreamHeadsContinueAcrossRestartsAndMoves(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.db")
	s := open(t, path, Options{moveEvery: -1})
	conv := setup(t, s, "alice", "bob")
	sendN(t, s, conv, "alice", 3)
	n := streamLen(t, s, "bob")
	require.NoError(t, s.Close()) // the links are still pending, the floors behind them

	s = open(t, path, Options{moveEvery: -1})
	sendN(t, s, conv, "alice", 2)
	requireDense(t, s, "bob", n+2)
	moveAll(t, s)
	var floor uint64
	require.NoError(t, s.r.QueryRow(`SELECT next_offset FROM streams WHERE identity = 'bob'`).Scan(&floor))
	assert.EqualValues(t, n+3, floor, "a move raises the floor past the links it moves")
	require.NoError(t, s.Close())

	s = open(t, path, Options{moveEvery: -1})
	sendN(t, s, conv, "alice", 1)
	requireDense(t, s, "bob", n+3)
}

// appendTo is a write that appends an event to the streams of identities, then fails with
// fail (when not nil).
func appendTo(s *Store, fail error, identities ...string) func(ctx context.Context, tx *sql.Tx) error {
	return func(ctx context.Context, tx *sql.Tx) error {
		if _, err := s.appendEvent(ctx, tx, wire.EventConversationUpdated, map[string]string{"x": "y"}, identities); err != nil {
			return err
		}
		return fail
	}
}

func TestAFailedWriteGivesItsOffsetsBack(t *testing.T) {
	ctx := ctxT(t)
	s := open(t, filepath.Join(t.TempDir(), "c.db"), Options{moveEvery: -1})
	conv := setup(t, s, "alice", "bob")
	n := streamLen(t, s, "bob")
	no := errors.New("no")

	// Alone in its transaction: rolled back whole.
	require.ErrorIs(t, s.write(ctx, appendTo(s, no, "bob", "carol")), no)
	sendN(t, s, conv, "alice", 1)
	requireDense(t, s, "bob", n+1)

	// In a batch: rolled back to its savepoint, between two writes that commit. The
	// committer is idle (nothing else writes), so the batch runs here.
	batch := []*writeReq{
		{ctx: ctx, fn: appendTo(s, nil, "bob"), done: make(chan error, 1)},
		{ctx: ctx, fn: appendTo(s, no, "bob", "carol"), done: make(chan error, 1)},
		{ctx: ctx, fn: appendTo(s, nil, "bob", "dave"), done: make(chan error, 1)},
	}
	s.commitBatch(batch)
	require.NoError(t, <-batch[0].done)
	require.ErrorIs(t, <-batch[1].done, no)
	require.NoError(t, <-batch[2].done)
	requireDense(t, s, "bob", n+3)
	requireDense(t, s, "dave", 1)
	_, err := s.StreamHead(ctx, "carol") // created now, by the read: the failed write left no stream
	require.NoError(t, err)
	requireDense(t, s, "carol", 0)

	// A batch that fails whole gives back every write's offsets, streams created included.
	batch = []*writeReq{
		{ctx: ctx, fn: appendTo(s, nil, "bob", "erin"), done: make(chan error, 1)},
		{ctx: ctx, fn: func(ctx context.Context, tx *sql.Tx) error {
			if err := appendTo(s, nil, "bob")(ctx, tx); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `RELEASE w`) // ends the savepoint: ROLLBACK TO then fails
			require.NoError(t, err)
			return no
		}, done: make(chan error, 1)},
	}
	s.commitBatch(batch)
	require.Error(t, <-batch[0].done)
	require.ErrorIs(t, <-batch[1].done, no)
	sendN(t, s, conv, "alice", 1)
	requireDense(t, s, "bob", n+4)
	require.NoError(t, s.write(ctx, appendTo(s, nil, "erin")))
	requireDense(t, s, "erin", 1)
}

// Two stores on one file (as two processes would be): each sees the offsets the other
// handed out.
func TestTwoWritersOnOneFileKeepStreamsDense(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.db")
	a := open(t, path, Options{moveEvery: -1})
	conv := setup(t, a, "alice", "bob")
	b := open(t, path, Options{})
	na, nb := streamLen(t, a, "alice"), streamLen(t, a, "bob")
	for i := range 10 {
		sendN(t, a, conv, "alice", 1+i%2)
		sendN(t, b, conv, "bob", 1)
		if i == 5 {
			moveAll(t, a)
		}
	}
	requireDense(t, a, "bob", nb+25)
	requireDense(t, b, "alice", na+25)
}

// Files whose streams rows are floors say so, so that a program that counted offsets in them
// refuses the file rather than hand offsets out twice (0009_stream_floors in schema.go).
func TestFilesWithStreamFloorsAreMarked(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "c.db"), Options{})
	names, err := s.AppliedMigrations(ctxT(t))
	require.NoError(t, err)
	assert.Contains(t, names, "0009_stream_floors")
}
