package server_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/server/servertest"
	"github.com/convo-sdk/convo/wire"
)

// A request's own events reach its connection before its reply, so a client sees what the
// call committed when the call resolves. Read frame by frame: every message sent must have
// its messageAdded event ahead of its reply.
func TestEventsBeforeTheirReply(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t, unlimited)
	alice := env.Connect(ctx, "alice")
	conv := room(t, ctx, alice)
	for i := range 50 {
		f, err := wire.Request(uint64(1000+i), wire.OpMessageSend, &wire.SendMessageArgs{ConversationSid: conv.Sid, Body: str("hi")})
		require.NoError(t, err)
		require.NoError(t, alice.Send(ctx, f))
		sawEvent := false
		for {
			got, err := alice.ReadFrame(ctx)
			require.NoError(t, err)
			if got.Type == wire.TypeEvent && got.Event == wire.EventMessageAdded {
				sawEvent = true
			}
			if got.Type == wire.TypeReply && got.ID == uint64(1000+i) {
				require.Nil(t, got.Error)
				require.True(t, sawEvent, "send %d: reply before its messageAdded event", i)
				break
			}
		}
	}
}
