package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/server"
	"github.com/convo-sdk/convo/server/servertest"
	"github.com/convo-sdk/convo/wire"
)

// A peer that stops reading without closing (a frozen process, a dead network path) never
// answers the server's ping: the server cuts it, and its slot under MaxConnsPerIdentity
// comes free. A peer that reads keeps its connection across many pings.
func TestKeepAliveCutsStalledPeer(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t, servertest.Options{Configure: func(c *server.Config) {
		c.MaxConnsPerIdentity = 1
		c.PingInterval = 100 * time.Millisecond
		c.PongTimeout = 200 * time.Millisecond
	}})
	stalled := env.Connect(ctx, "alice") // a real TCP connection that is never read again
	_, err := servertest.Dial(ctx, env.URL, env.Token("alice", time.Hour), nil)
	require.Equal(t, wire.CodeTooManySessions, code(t, err), "the stalled connection holds the only slot")

	live := env.Connect(ctx, "bob")
	conv := room(t, ctx, live)
	start := time.Now()
	var again *servertest.Client
	require.Eventually(t, func() bool {
		// bob reads (his calls answer the pings) the whole time.
		if err := live.Call(ctx, wire.OpConversationGet, wire.GetConversationArgs{Sid: conv.Sid}, nil); err != nil {
			t.Errorf("the reading peer: %v", err)
			return true
		}
		again, err = servertest.Dial(ctx, env.URL, env.Token("alice", time.Hour), nil)
		return err == nil
	}, 10*time.Second, 50*time.Millisecond, "the stalled connection is cut and its slot freed")
	require.NotNil(t, again)
	defer again.Close()
	assert.GreaterOrEqual(t, time.Since(start), 100*time.Millisecond, "not before a ping went unanswered")

	// The stalled socket is closed on the server's side: reading it now ends in an error.
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	for {
		if _, err := stalled.ReadFrame(rctx); err != nil {
			require.NoError(t, rctx.Err(), "the server closed the stalled socket")
			break
		}
	}

	// Several ping rounds later the reading peer is still connected (its calls read the
	// pings and answer them).
	for end := time.Now().Add(500 * time.Millisecond); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		require.NoError(t, live.Call(ctx, wire.OpConversationGet, wire.GetConversationArgs{Sid: conv.Sid}, nil))
	}
}

// A peer that stops reading while events keep coming fills the socket's buffers; the write
// that then blocks ends after WriteTimeout and the server cuts the connection, freeing its
// slot. (Pings are off: only the write timeout can cut it.)
func TestWriteTimeoutCutsAPeerThatStopsReading(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t, servertest.Options{Configure: func(c *server.Config) {
		c.RequestRate, c.ConversationWriteRate = -1, -1
		c.MaxConnsPerIdentity = 1
		c.PingInterval = -1
		c.WriteTimeout = 300 * time.Millisecond
	}})
	bob := env.Connect(ctx, "bob")
	conv := room(t, ctx, bob, "alice")
	stalled := env.Connect(ctx, "alice") // never read again
	defer stalled.Close()

	body := strings.Repeat("x", wire.MaxMessageBodyBytes-1024)
	var freed *servertest.Client
	for i := 0; freed == nil; i++ {
		require.Less(t, i, 2000, "alice's connection was never cut")
		var m wire.Message
		require.NoError(t, bob.Call(ctx, wire.OpMessageSend, wire.SendMessageArgs{ConversationSid: conv.Sid, Body: &body}, &m))
		bob.PendingEvents() // read, then dropped
		if i%20 == 19 {
			// Cut: the slot is free for a new connection.
			if c, err := servertest.Dial(ctx, env.URL, env.Token("alice", time.Hour), nil); err == nil {
				freed = c
			} else {
				require.Equal(t, wire.CodeTooManySessions, code(t, err))
			}
		}
	}
	defer freed.Close()
	// bob, who reads, was never cut by his many writes sharing one timer.
	require.NoError(t, bob.Call(ctx, wire.OpConversationGet, wire.GetConversationArgs{Sid: conv.Sid}, nil))
}
