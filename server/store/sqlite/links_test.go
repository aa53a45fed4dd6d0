package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/server/store"
)

// Stream links wait in pending_links before they move into user_events (links.go). A stream
// reads the same wherever its links are.

func countRows(t *testing.T, s *Store, table string) int {
	var n int
	require.NoError(t, s.r.QueryRowContext(ctxT(t), `SELECT COUNT(*) FROM `+table).Scan(&n))
	return n
}

func moveAll(t *testing.T, s *Store) {
	require.NoError(t, s.write(ctxT(t), func(ctx context.Context, tx *sql.Tx) error { return s.moveAllLinks(ctx, tx) }))
}

func sendN(t *testing.T, s *Store, conv, author string, n int) {
	for range n {
		body := "hello"
		_, _, _, err := s.SendMessage(ctxT(t), store.NewMessage{ConversationSid: conv, Author: author, Body: &body})
		require.NoError(t, err)
	}
}

func offsets(ds []store.Delivery) []uint64 {
	out := make([]uint64, len(ds))
	for i, d := range ds {
		out[i] = d.Offset
	}
	return out
}

func TestStreamsReadTheSameBeforeAndAfterLinksMove(t *testing.T) {
	ctx := ctxT(t)
	s := open(t, filepath.Join(t.TempDir(), "c.db"), Options{Retention: 4, moveEvery: -1})
	conv := setup(t, s, "alice", "bob")
	sendN(t, s, conv, "alice", 5)
	require.Zero(t, countRows(t, s, "user_events"), "nothing moved yet")
	require.NotZero(t, countRows(t, s, "pending_links"))

	head, err := s.StreamHead(ctx, "bob")
	require.NoError(t, err)
	pending, err := s.ReadStream(ctx, "bob", 0, 100)
	require.NoError(t, err)
	assert.EqualValues(t, head.Last-3, head.Oldest, "retention holds before the move deletes anything")
	assert.Equal(t, []uint64{head.Last - 3, head.Last - 2, head.Last - 1, head.Last}, offsets(pending))

	moveAll(t, s)
	assert.Zero(t, countRows(t, s, "pending_links"))
	var bobs int
	require.NoError(t, s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM user_events WHERE identity = 'bob'`).Scan(&bobs))
	assert.Equal(t, 4, bobs, "the move applied retention")
	head2, err := s.StreamHead(ctx, "bob")
	require.NoError(t, err)
	assert.Equal(t, head, head2)
	moved, err := s.ReadStream(ctx, "bob", 0, 100)
	require.NoError(t, err)
	assert.Equal(t, pending, moved)

	// Half moved, half pending: one dense run, and the limit counts both.
	sendN(t, s, conv, "alice", 2)
	both, err := s.ReadStream(ctx, "bob", head.Last-2, 100)
	require.NoError(t, err)
	assert.Equal(t, []uint64{head.Last - 1, head.Last, head.Last + 1, head.Last + 2}, offsets(both))
	cut, err := s.ReadStream(ctx, "bob", head.Last-2, 3)
	require.NoError(t, err)
	assert.Equal(t, []uint64{head.Last - 1, head.Last, head.Last + 1}, offsets(cut))
	for _, d := range both {
		assert.Contains(t, string(d.Payload), "hello")
	}
}

func TestPendingLinksSurviveARestartAndMoveLater(t *testing.T) {
	ctx := ctxT(t)
	path := filepath.Join(t.TempDir(), "c.db")
	s := open(t, path, Options{moveEvery: -1})
	conv := setup(t, s, "alice", "bob")
	sendN(t, s, conv, "alice", 3)
	before, err := s.ReadStream(ctx, "bob", 0, 100)
	require.NoError(t, err)
	require.NoError(t, s.Close()) // as a crash would: the links are still pending

	s = open(t, path, Options{moveEvery: time.Millisecond})
	after, err := s.ReadStream(ctx, "bob", 0, 100)
	require.NoError(t, err)
	assert.Equal(t, before, after)
	require.Eventually(t, func() bool { return countRows(t, s, "pending_links") == 0 }, 10*time.Second, 5*time.Millisecond)
	moved, err := s.ReadStream(ctx, "bob", 0, 100)
	require.NoError(t, err)
	assert.Equal(t, before, moved)
}

func TestPruningKeepsThePayloadsOfPendingLinks(t *testing.T) {
	ctx := ctxT(t)
	s := open(t, filepath.Join(t.TempDir(), "c.db"), Options{Retention: 1, moveEvery: -1})
	conv := setup(t, s, "alice", "bob")
	sendN(t, s, conv, "alice", 3)
	// PruneEvents moves every link first (and prunes the streams down to their last event),
	// then deletes what nothing links any more.
	n, err := s.PruneEvents(ctx)
	require.NoError(t, err)
	assert.NotZero(t, n)
	ds, err := s.ReadStream(ctx, "bob", 0, 100)
	require.NoError(t, err)
	require.Len(t, ds, 1)
	assert.Contains(t, string(ds[0].Payload), "hello")
}
