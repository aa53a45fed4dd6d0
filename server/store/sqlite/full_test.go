package sqlite_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/server/servertest"
	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/server/store/sqlite"
)

// Writes on a full disk fail with store.ErrFull, alone and in group commits, and nothing of
// them is stored; reads go on; once space is freed the same store takes the failed writes
// (same idempotency keys) and stores each once.
func TestWritesResumeAfterAFullDisk(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := servertest.SmallVolume(t, 8<<20)
	s, err := sqlite.Open(filepath.Join(dir, "s.db"), sqlite.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() }) // before the volume is unmounted
	conv, err := s.CreateConversation(ctx, store.NewConversation{FriendlyName: "room", CreatedBy: "alice"})
	require.NoError(t, err)
	_, _, err = s.AddParticipant(ctx, store.NewParticipant{ConversationSid: conv.Sid, Identity: "alice"})
	require.NoError(t, err)

	var mu sync.Mutex
	stored := map[string]int64{} // idempotency key → index
	send := func(key string) error {
		body := key + " " + strings.Repeat("x", 30<<10)
		m, _, _, err := s.SendMessage(ctx, store.NewMessage{ConversationSid: conv.Sid, Author: "alice", Body: &body, IdempotencyKey: key})
		if err == nil {
			mu.Lock()
			stored[key] = m.Index
			mu.Unlock()
		}
		return err
	}
	require.NoError(t, send("before"))
	free := servertest.Fill(t, dir)

	// Eight writers at once, so failures come inside group commits as well as alone; each
	// sends until the disk refuses it.
	var wg sync.WaitGroup
	refused := make([]string, 8)
	errs := make([]error, 8)
	for w := range 8 {
		wg.Go(func() {
			for i := range 1000 {
				key := fmt.Sprintf("w%d-%d", w, i)
				if err := send(key); err != nil {
					refused[w], errs[w] = key, err
					return
				}
			}
		})
	}
	wg.Wait()
	for w, err := range errs {
		require.ErrorIs(t, err, store.ErrFull, "writer %d", w)
	}

	// Reads work, and see what was acknowledged and nothing else.
	count := func() int {
		page, err := s.Messages(ctx, store.MessageQuery{ConversationSid: conv.Sid, PageSize: 1000, Forward: true})
		require.NoError(t, err)
		for i, m := range page.Items {
			require.Equal(t, int64(i), m.Index, "dense indexes")
			key, _, _ := strings.Cut(*m.Body, " ")
			index, ok := stored[key]
			require.True(t, ok, "message %d (%s) was never acknowledged", i, key)
			assert.Equal(t, index, m.Index, key)
		}
		return len(page.Items)
	}
	require.Equal(t, len(stored), count())

	free()
	for _, key := range refused {
		require.NoError(t, send(key), "the refused send %s once space is back", key)
	}
	require.NoError(t, send("after"))
	before := len(stored)
	require.NoError(t, send("before"), "a retry of a stored send")
	assert.Equal(t, before, len(stored))
	assert.Equal(t, len(stored), count(), "each send stored once")
}
