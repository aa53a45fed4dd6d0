package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/server/store"
)

// A store may commit concurrent writes together (SQLite's group commit): a write that fails
// half way must be undone alone, and neither fail nor leak into the writes beside it.
var _ = register(test{"FailingWritesAmongConcurrentOnes", testFailingWritesAmongConcurrentOnes})

func testFailingWritesAmongConcurrentOnes(t *testing.T, h *harness) {
	ctx, s := h.begin()
	senders := make([]string, 16)
	for i := range senders {
		senders[i] = fmt.Sprintf("f%02d", i)
	}
	c := setup(t, s, senders...)
	before := map[string]int{}
	for _, id := range senders {
		before[id] = len(requireDenseStream(t, s, id))
	}
	const each = 8
	var (
		mu   sync.Mutex
		sids []string
		idx  []int64
	)
	parallel(len(senders), func(i int) {
		for n := range each {
			nm := store.NewMessage{ConversationSid: c.Sid, Author: senders[i], Body: ptr(fmt.Sprint(n))}
			if (i+n)%2 == 1 {
				// Fails after the message row is written: the media does not exist.
				nm.MediaSids = []string{fmt.Sprintf("ME%030d", i*each+n)}
				_, _, ds, err := s.SendMessage(ctx, nm)
				assert.ErrorIs(t, err, store.ErrMediaUnusable)
				assert.Empty(t, ds, "no deliveries for a failed write")
				continue
			}
			m, created, ds, err := s.SendMessage(ctx, nm)
			if !assert.NoError(t, err) {
				return
			}
			assert.True(t, created)
			assert.Len(t, messageSids(t, ds), len(senders), "each member gets the message")
			mu.Lock()
			sids, idx = append(sids, m.Sid), append(idx, m.Index)
			mu.Unlock()
		}
	})
	require.Len(t, sids, len(senders)*each/2)
	slices.Sort(idx)
	for i, v := range idx {
		require.EqualValues(t, i, v, "failed writes took no index")
	}
	page, err := s.Messages(ctx, store.MessageQuery{ConversationSid: c.Sid, PageSize: 1000})
	require.NoError(t, err)
	var stored []string
	for _, m := range page.Items {
		stored = append(stored, m.Sid)
	}
	assert.ElementsMatch(t, sids, stored, "exactly the acknowledged messages are stored")
	for _, id := range senders {
		stream := requireDenseStream(t, s, id)
		assert.ElementsMatch(t, sids, messageSids(t, stream[before[id]:]), "%s's stream holds exactly the acknowledged messages", id)
	}
}
