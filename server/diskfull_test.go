package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/server/servertest"
	"github.com/convo-sdk/convo/wire"
)

// diskFullBody is a message body of about 30 KiB that starts with its idempotency key, so a
// full disk is reached in few sends and every stored message names its send.
func diskFullBody(key string) *string {
	return str(key + " " + strings.Repeat("x", 30<<10))
}

// allMessages reads a conversation's whole history through message.list.
func allMessages(t *testing.T, ctx context.Context, c *servertest.Client, conv string) []wire.Message {
	t.Helper()
	var all []wire.Message
	var anchor int64
	for {
		var page wire.MessagePage
		require.NoError(t, c.Call(ctx, wire.OpMessageList, wire.ListMessagesArgs{
			ConversationSid: conv, PageSize: wire.MaxPageSize, Anchor: &anchor, Direction: wire.Forward}, &page))
		all = append(all, page.Items...)
		if !page.HasNext || len(page.Items) == 0 {
			return all
		}
		anchor = page.Items[len(page.Items)-1].Index + 1
	}
}

// The SQLite store's disk fills up under a running server: sends are refused with 50301
// and nothing else, reads go on, every acknowledged message stays, and once space is freed
// the same server takes the refused send (same idempotency key) and new ones, storing each
// once.
func TestDiskFull(t *testing.T) {
	ctx := ctxT(t)
	dir := servertest.SmallVolume(t, 16<<20)
	opts := unlimited
	opts.Dir = dir
	env := servertest.Start(t, opts)
	alice := env.Connect(ctx, "alice")
	conv := room(t, ctx, alice, "bob")

	acked := map[string]wire.Message{} // by idempotency key
	n := 0
	send := func(key string) (wire.Message, error) {
		var m wire.Message
		err := alice.Call(ctx, wire.OpMessageSend, wire.SendMessageArgs{
			ConversationSid: conv.Sid, Body: diskFullBody(key), IdempotencyKey: key}, &m)
		return m, err
	}
	next := func() string { n++; return fmt.Sprintf("k%04d", n) }
	for range 5 {
		key := next()
		m, err := send(key)
		require.NoError(t, err)
		acked[key] = m
	}

	free := servertest.Fill(t, dir)
	// The store's files have disk blocks reserved ahead of their growth (sqlite/space.go):
	// sends go on until those are used up too.
	var refused string
	for {
		require.Less(t, n, 3000, "3000 sends of 30 KiB never found the 16 MiB volume full")
		key := next()
		m, err := send(key)
		if err == nil {
			acked[key] = m
			continue
		}
		var we *wire.Error
		require.ErrorAs(t, err, &we)
		require.Equal(t, wire.CodeStorageFull, we.Code, "a send on a full disk: %v", err)
		assert.Contains(t, we.Message, "storage full, retry later")
		assert.True(t, we.Code.IsRetryable())
		refused = key
		break
	}
	t.Logf("%d sends acknowledged before the disk was full", len(acked))

	// Other writes are refused the same way once they find no room; a small one may
	// still fit in the space a refused write left allocated, so each is tried until it is.
	admin := env.Admin(t)
	for i := 1; ; i++ {
		require.Less(t, i, 100, "admin sends never found the disk full")
		key := fmt.Sprintf("a%04d", i)
		st, _, b := admin.Raw("POST", "/conversations/"+conv.Sid+"/messages", map[string]any{"author": "alice", "body": *diskFullBody(key)})
		if st == http.StatusCreated {
			var m wire.Message
			require.NoError(t, json.Unmarshal(b, &m))
			acked[key] = m
			continue
		}
		require.Equal(t, http.StatusServiceUnavailable, st, "an admin send on a full disk: %s", b)
		var e wire.Error
		require.NoError(t, json.Unmarshal(b, &e), string(b))
		require.Equal(t, wire.CodeStorageFull, e.Code, "an admin send on a full disk: %s", b)
		break
	}
	for i := 1; ; i++ {
		require.Less(t, i, 100, "uploads never found the disk full")
		_, err := env.Upload(ctx, "alice", "a.txt", "", "text/plain", []byte(strings.Repeat("m", 64<<10)))
		if err == nil {
			continue
		}
		require.Equal(t, wire.CodeStorageFull, code(t, err), "a media upload on a full disk: %v", err)
		break
	}

	// Reads keep working, and hold every acknowledged message.
	var convs wire.ConversationPage
	require.NoError(t, alice.Call(ctx, wire.OpConversationList, wire.ListArgs{}, &convs))
	require.Len(t, convs.Items, 1)
	assert.Equal(t, conv.Sid, convs.Items[0].Sid)
	checkHistory := func(want map[string]wire.Message) {
		t.Helper()
		got := allMessages(t, ctx, alice, conv.Sid)
		require.Len(t, got, len(want), "the history holds each acknowledged send once, and nothing else")
		for i, m := range got {
			require.Equal(t, int64(i), m.Index, "indexes are dense")
			key, _, _ := strings.Cut(*m.Body, " ")
			w, ok := want[key]
			require.True(t, ok, "message %d (%s) was never acknowledged", i, key)
			assert.Equal(t, w.Sid, m.Sid, key)
			assert.Equal(t, w.Index, m.Index, key)
		}
	}
	checkHistory(acked)
	// A reconnecting client resumes and reads its events.
	bob := env.Connect(ctx, "bob")
	var bobs wire.ConversationPage
	require.NoError(t, bob.Call(ctx, wire.OpConversationList, wire.ListArgs{}, &bobs))
	require.Len(t, bobs.Items, 1)

	// Space returns: the same server takes writes again, at once.
	free()
	m, err := send(refused)
	require.NoError(t, err, "the refused send once space is back")
	acked[refused] = m
	for range 3 {
		key := next()
		m, err := send(key)
		require.NoError(t, err)
		acked[key] = m
	}
	// Sends retried with keys stored before the disk filled return the stored message.
	for _, key := range []string{"k0001", refused} {
		again, err := send(key)
		require.NoError(t, err)
		assert.Equal(t, acked[key].Sid, again.Sid, "resending %s", key)
	}
	checkHistory(acked)
	env.Admin(t).Do("POST", "/conversations/"+conv.Sid+"/messages",
		map[string]any{"author": "alice", "body": "admin k9999 works again"}, nil)
	_, err = env.Upload(ctx, "alice", "a.txt", "", "text/plain", []byte("small"))
	require.NoError(t, err, "a media upload once space is back")
}
