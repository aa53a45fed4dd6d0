package sqlite

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/server/store"
)

// copyFile copies a backup, so that each Open below starts from the file Backup wrote.
func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	require.NoError(t, err)
	defer in.Close()
	out, err := os.Create(to)
	require.NoError(t, err)
	_, err = io.Copy(out, in)
	require.NoError(t, err)
	require.NoError(t, out.Close())
}

func TestARestoredBackupHasTheSnapshotAndNewEpochsOnce(t *testing.T) {
	ctx := ctxT(t)
	dir := t.TempDir()
	live := filepath.Join(dir, "live.db")
	s := open(t, live, Options{})
	conv := setup(t, s, "alice", "bob")
	send := func(body string) string {
		m, _, _, err := s.SendMessage(ctx, store.NewMessage{ConversationSid: conv, Author: "alice", Body: &body})
		require.NoError(t, err)
		return m.Sid
	}
	var before []string // acknowledged before the backup started
	for i := range 50 {
		before = append(before, send("before "+strconv.Itoa(i)))
	}
	head, err := s.StreamHead(ctx, "bob")
	require.NoError(t, err)

	// Writes go on while the backup runs; each is in the copy or not, never half.
	wctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; wctx.Err() == nil; i++ {
			body := "during " + strconv.Itoa(i)
			_, _, _, err := s.SendMessage(wctx, store.NewMessage{ConversationSid: conv, Author: "bob", Body: &body})
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("a write during the backup failed: %v", err)
				return
			}
		}
	}()
	backup := filepath.Join(dir, "backup.db")
	require.NoError(t, s.Backup(ctx, backup))
	stop()
	wg.Wait()
	after := send("after the backup")
	liveHead, err := s.StreamHead(ctx, "bob")
	require.NoError(t, err)

	_, err = os.Stat(backup + "-wal")
	assert.ErrorIs(t, err, os.ErrNotExist, "the backup is one file")
	assert.Error(t, s.Backup(ctx, backup), "a backup never overwrites a file")
	_, err = os.Stat(backup)
	require.NoError(t, err, "a refused backup leaves the file that was there")

	gone, cancelled := context.WithCancel(ctx)
	cancelled()
	abandoned := filepath.Join(dir, "abandoned.db")
	assert.Error(t, s.Backup(gone, abandoned))
	_, err = os.Stat(abandoned)
	assert.ErrorIs(t, err, os.ErrNotExist, "a failed backup leaves no file")

	restored := filepath.Join(dir, "restored.db")
	copyFile(t, backup, restored)
	r := open(t, restored, Options{})
	for _, sid := range before {
		_, err := r.Message(ctx, conv, sid)
		assert.NoError(t, err, "message %s, acknowledged before the backup, is in it", sid)
	}
	_, err = r.Message(ctx, conv, after)
	assert.ErrorIs(t, err, store.ErrNotFound, "the message sent after the backup is not in it")
	rh, err := r.StreamHead(ctx, "bob")
	require.NoError(t, err)
	assert.NotEqual(t, head.Epoch, rh.Epoch, "a restored stream has a new epoch")
	assert.GreaterOrEqual(t, rh.Last, head.Last)
	assert.Less(t, rh.Last, liveHead.Last)
	// Messages and streams come from one snapshot: bob's stream has one messageAdded per
	// message in the copy, no more, no less.
	page, err := r.Messages(ctx, store.MessageQuery{ConversationSid: conv, PageSize: 1})
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	inCopy := uint64(page.Items[0].Index + 1)
	assert.Equal(t, head.Last+inCopy-uint64(len(before)), rh.Last, "bob's stream matches the messages in the copy")
	var check string
	require.NoError(t, r.r.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&check))
	assert.Equal(t, "ok", check)
	assert.False(t, rh.CanResume(liveHead.Epoch, liveHead.Last), "a client ahead of the backup resynchronises")
	assert.False(t, rh.CanResume(head.Epoch, head.Last), "so does one from before it: the epoch is new")
	ah, err := r.StreamHead(ctx, "alice")
	require.NoError(t, err)
	assert.NotEqual(t, head.Epoch, ah.Epoch, "every stream has a new epoch")

	// Only the first Open of the restored file changes the epochs.
	require.NoError(t, r.Close())
	r = open(t, restored, Options{})
	again, err := r.StreamHead(ctx, "bob")
	require.NoError(t, err)
	assert.Equal(t, rh.Epoch, again.Epoch, "a restart of the restored database keeps its epochs")
	assert.True(t, again.CanResume(rh.Epoch, rh.Last))

	// Nor does a restart of the live database, which never held a mark.
	require.NoError(t, s.Close())
	s = open(t, live, Options{})
	lh, err := s.StreamHead(ctx, "bob")
	require.NoError(t, err)
	assert.Equal(t, liveHead.Epoch, lh.Epoch, "a restart keeps the epochs")
	assert.True(t, lh.CanResume(liveHead.Epoch, liveHead.Last))
}
