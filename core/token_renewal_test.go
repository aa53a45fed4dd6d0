//go:build !js

package core_test

import (
	"context"
	"testing"
	"time"

	"github.com/convo-sdk/convo/core"
	"github.com/convo-sdk/convo/server/auth"
	"github.com/convo-sdk/convo/server/servertest"
	"github.com/convo-sdk/convo/wire"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTokenWarningsAndRenewal(t *testing.T) {
	env := servertest.Start(t)
	ctx := testCtx(t)
	short, err := auth.Mint(env.Key, "alice", 3*time.Second, env.URL)
	require.NoError(t, err)
	c := core.New(short, &core.Options{DeferStart: true, Logf: t.Logf, BackoffMin: 20 * time.Millisecond, BackoffMax: 100 * time.Millisecond})
	t.Cleanup(func() { c.Shutdown(context.Background()) })
	var events recorder
	events.watch(c, core.EventTokenAboutToExpire, core.EventTokenExpired, core.EventConnectionStateChanged)
	c.Start()
	require.NoError(t, c.WaitInitialized(ctx))

	// A 3 s token is warned at half its life, before it expires.
	about := events.waitFor(t, core.EventTokenAboutToExpire, 1)[0].args[0].(time.Duration)
	assert.Greater(t, about, time.Duration(0))
	events.waitFor(t, core.EventTokenExpired, 1)
	waitFor(t, "denied", func() bool { return c.ConnectionState() == core.StateDenied })

	// A new token brings it back.
	require.NoError(t, c.UpdateToken(ctx, env.Token("alice", time.Hour)))
	waitFor(t, "connected again", func() bool { return c.ConnectionState() == core.StateConnected })
	assert.Equal(t, wire.CodeTokenIdentity, wire.CodeOf(c.UpdateToken(ctx, env.Token("mallory", time.Hour))))

	// On a live connection the swap keeps the connection.
	states := len(events.named(core.EventConnectionStateChanged))
	require.NoError(t, c.UpdateToken(ctx, env.Token("alice", 2*time.Hour)))
	_, err = c.CreateConversation(ctx, core.CreateConversationOptions{})
	require.NoError(t, err)
	assert.Len(t, events.named(core.EventConnectionStateChanged), states, "no reconnect")
}
