package server_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/server"
	"github.com/convo-sdk/convo/server/servertest"
	"github.com/convo-sdk/convo/wire"
)

func TestRateLimits(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t, servertest.Options{Configure: func(c *server.Config) {
		c.RequestRate, c.RequestBurst = 1, 5
	}})
	c := env.Connect(ctx, "alice")
	start := time.Now()
	var limited error
	allowed := 0
	for limited == nil && allowed < 50 {
		if err := c.Call(ctx, wire.OpConversationList, wire.ListArgs{}, nil); err != nil {
			limited = err
		} else {
			allowed++
		}
	}
	assert.Equal(t, wire.CodeRateLimited, code(t, limited))
	// The burst of 5, and one a second refilled meanwhile (however slow the calls were).
	assert.LessOrEqual(t, float64(allowed), 5+time.Since(start).Seconds())
	assert.Contains(t, limited.Error(), "retry")
	time.Sleep(1100 * time.Millisecond)
	require.NoError(t, c.Call(ctx, wire.OpConversationList, wire.ListArgs{}, nil), "the connection stays up and recovers")
}

func TestConversationWriteLimit(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t, servertest.Options{Configure: func(c *server.Config) { c.ConversationWriteRate = 5 }})
	alice := env.Connect(ctx, "alice")
	bob := env.Connect(ctx, "bob")
	start := time.Now()
	conv := room(t, ctx, alice, "bob") // participant.add takes one
	var limited error
	sent := 0
	for i := 0; limited == nil && i < 100; i++ {
		c := alice
		if i%2 == 1 {
			c = bob // the budget is the conversation's, shared by its users
		}
		if err := c.Call(ctx, wire.OpMessageSend, wire.SendMessageArgs{ConversationSid: conv.Sid, Body: str("x")}, nil); err != nil {
			limited = err
		} else {
			sent++
		}
	}
	assert.Equal(t, wire.CodeRateLimited, code(t, limited))
	// The burst of 5, and five a second refilled meanwhile (however slow the calls were).
	assert.LessOrEqual(t, float64(sent), 5+5*time.Since(start).Seconds())
	// Other conversations and reads are not affected.
	other := room(t, ctx, bob)
	require.NoError(t, bob.Call(ctx, wire.OpMessageSend, wire.SendMessageArgs{ConversationSid: other.Sid, Body: str("y")}, nil))
	require.NoError(t, alice.Call(ctx, wire.OpMessageList, wire.ListMessagesArgs{ConversationSid: conv.Sid}, nil))
	time.Sleep(300 * time.Millisecond)
	require.NoError(t, alice.Call(ctx, wire.OpMessageSend, wire.SendMessageArgs{ConversationSid: conv.Sid, Body: str("later")}, nil))
}

func TestConnectionsPerIdentityCap(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t, servertest.Options{Configure: func(c *server.Config) { c.MaxConnsPerIdentity = 2 }})
	a1 := env.Connect(ctx, "alice")
	env.Connect(ctx, "alice")
	_, err := servertest.Dial(ctx, env.URL, env.Token("alice", time.Hour), nil)
	assert.Equal(t, wire.CodeTooManySessions, code(t, err))
	env.Connect(ctx, "bob") // others are not affected
	a1.Close()
	require.Eventually(t, func() bool {
		c, err := servertest.Dial(ctx, env.URL, env.Token("alice", time.Hour), nil)
		if err == nil {
			c.Close()
		}
		return err == nil
	}, 15*time.Second, 20*time.Millisecond, "a freed slot can be used")
}

// Uploads are limited per identity: over the budget they get 42900 (HTTP 429); another
// identity is not affected.
func TestMediaUploadRateLimit(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t, servertest.Options{Configure: func(c *server.Config) {
		c.MediaUploadsPerMinute, c.MediaUploadBurst = 1, 3
	}})
	for i := range 3 {
		_, err := env.Upload(ctx, "alice", "f", "", "", []byte("x"))
		require.NoError(t, err, "upload %d", i)
	}
	_, err := env.Upload(ctx, "alice", "f", "", "", []byte("x"))
	assert.Equal(t, wire.CodeRateLimited, code(t, err))
	_, err = env.Upload(ctx, "bob", "f", "", "", []byte("x"))
	require.NoError(t, err)
}
