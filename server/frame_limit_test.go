package server_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/core"
	"github.com/convo-sdk/convo/server/servertest"
	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/wire"
)

// A page of 30 messages of 32 KiB of "<" is listed by native clients: "<" is one byte on
// the wire (no HTML escaping), and the reply fits a server frame.
func TestLargePageOfAngleBrackets(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t, unlimited)
	alice := env.Connect(ctx, "alice")
	conv := room(t, ctx, alice)
	settle(t, alice, 2)
	body := strings.Repeat("<", wire.MaxMessageBodyBytes)
	for range 30 {
		require.NoError(t, alice.Call(ctx, wire.OpMessageSend, wire.SendMessageArgs{ConversationSid: conv.Sid, Body: &body}, nil))
	}
	settle(t, alice, 30)

	// The servertest client.
	var page wire.MessagePage
	require.NoError(t, alice.Call(ctx, wire.OpMessageList, wire.ListMessagesArgs{ConversationSid: conv.Sid}, &page))
	require.Len(t, page.Items, 30)
	for _, m := range page.Items {
		require.NotNil(t, m.Body)
		assert.Equal(t, body, *m.Body)
	}

	// The client engine, which reads frames up to wire.MaxServerFrameBytes.
	cl := core.New(env.Token("alice", time.Hour), &core.Options{BackoffMin: 20 * time.Millisecond, BackoffMax: 200 * time.Millisecond, Logf: t.Logf})
	t.Cleanup(func() { _ = cl.Shutdown(ctxT(t)) })
	require.NoError(t, cl.WaitInitialized(ctx))
	cv, err := cl.GetConversationBySid(ctx, conv.Sid)
	require.NoError(t, err)
	msgs, err := cv.GetMessages(ctx, 30, nil, wire.Backwards)
	require.NoError(t, err)
	require.Len(t, msgs.Items, 30)
	for _, m := range msgs.Items {
		assert.Equal(t, body, *m.Body())
	}

	// A full page of 100 fits too: about 3.2 MiB, where escaping "<" as \u003c would make it
	// about 19 MiB, over the limit.
	p, err := env.Store.Participant(ctx, conv.Sid, "alice")
	require.NoError(t, err)
	for range 70 {
		_, _, _, err := env.Store.SendMessage(ctx, store.NewMessage{ConversationSid: conv.Sid, Author: "alice", ParticipantSid: p.Sid, Body: &body})
		require.NoError(t, err)
	}
	page = wire.MessagePage{}
	require.NoError(t, alice.Call(ctx, wire.OpMessageList, wire.ListMessagesArgs{ConversationSid: conv.Sid, PageSize: 100}, &page))
	require.Len(t, page.Items, 100)
	assert.Equal(t, body, *page.Items[99].Body)
}

// A reply that would exceed wire.MaxServerFrameBytes is answered with 41300 instead; the
// connection stays usable. Control characters still take six bytes in JSON, so 100
// messages of 32 KiB of them make a page of about 19 MiB.
func TestOversizedReplyIsRefused(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t, unlimited)
	alice := env.Connect(ctx, "alice")
	conv := room(t, ctx, alice)
	p, err := env.Store.Participant(ctx, conv.Sid, "alice")
	require.NoError(t, err)
	body := strings.Repeat("\x01", wire.MaxMessageBodyBytes)
	for range 100 {
		_, _, _, err := env.Store.SendMessage(ctx, store.NewMessage{ConversationSid: conv.Sid, Author: "alice", ParticipantSid: p.Sid, Body: &body})
		require.NoError(t, err)
	}
	err = alice.Call(ctx, wire.OpMessageList, wire.ListMessagesArgs{ConversationSid: conv.Sid, PageSize: 100}, nil)
	assert.Equal(t, wire.CodeTooLarge, code(t, err))
	var page wire.MessagePage
	require.NoError(t, alice.Call(ctx, wire.OpMessageList, wire.ListMessagesArgs{ConversationSid: conv.Sid, PageSize: 10}, &page))
	assert.Len(t, page.Items, 10)
}
