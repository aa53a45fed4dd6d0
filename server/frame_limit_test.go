package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
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

// sendRaw writes b as one text message in the background: the server stops reading an
// oversized one, so the write finishes only as the server discards the rest while it closes.
func sendRaw(ctx context.Context, ws *websocket.Conn, b []byte) <-chan error {
	done := make(chan error, 1)
	go func() { done <- ws.Write(ctx, websocket.MessageText, b) }()
	return done
}

// paddedFrame is a frame of exactly n bytes: typ's frame with a string field padded out.
func paddedFrame(t *testing.T, typ string, n int) []byte {
	head := `{"type":"` + typ + `","id":1,"op":"conversation.list","data":{"token":"`
	tail := `"}}`
	b := []byte(head + strings.Repeat("a", n-len(head)-len(tail)) + tail)
	require.Len(t, b, n)
	return b
}

// A frame over wire.MaxFrameBytes, before or after the hello, gets a bye 41300 that says
// so, then the close (4413): the client learns why, as with every other refusal.
func TestOversizedClientFrameGetsBye(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t)
	checkBye := func(t *testing.T, ws *websocket.Conn, sent <-chan error) {
		t.Helper()
		_, b, err := ws.Read(ctx)
		require.NoError(t, err, "a bye, not a bare close")
		f, err := wire.Decode(b)
		require.NoError(t, err)
		require.Equal(t, wire.TypeBye, f.Type)
		require.NotNil(t, f.Error)
		assert.Equal(t, wire.CodeTooLarge, f.Error.Code)
		assert.Contains(t, f.Error.Message, "at most 262144 bytes")
		_, _, err = ws.Read(ctx)
		assert.Equal(t, websocket.StatusCode(4413), websocket.CloseStatus(err), "%v", err)
		select {
		case <-sent: // written, or cut by the close: either way over
		case <-ctx.Done():
			t.Fatal("the oversized write never ended")
		}
	}

	t.Run("10 MiB hello", func(t *testing.T) {
		ws, err := servertest.DialRaw(ctx, env.URL)
		require.NoError(t, err)
		defer ws.CloseNow()
		checkBye(t, ws, sendRaw(ctx, ws, paddedFrame(t, wire.TypeHello, 10<<20)))
	})
	t.Run("hello one byte over", func(t *testing.T) {
		ws, err := servertest.DialRaw(ctx, env.URL)
		require.NoError(t, err)
		defer ws.CloseNow()
		checkBye(t, ws, sendRaw(ctx, ws, paddedFrame(t, wire.TypeHello, wire.MaxFrameBytes+1)))
	})
	t.Run("request after login", func(t *testing.T) {
		c := env.Connect(ctx, "alice")
		defer c.Close()
		// A frame of exactly the limit is read and answered; the connection stays.
		require.NoError(t, <-sendRaw(ctx, c.WS, paddedFrame(t, wire.TypeRequest, wire.MaxFrameBytes)))
		f, err := c.ReadFrame(ctx)
		require.NoError(t, err)
		assert.Equal(t, wire.TypeReply, f.Type)
		assert.Equal(t, uint64(1), f.ID)
		require.NoError(t, c.Call(ctx, wire.OpConversationList, wire.ListArgs{}, nil))
		checkBye(t, c.WS, sendRaw(ctx, c.WS, paddedFrame(t, wire.TypeRequest, 1<<20)))
	})
}
