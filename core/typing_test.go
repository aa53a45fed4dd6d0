//go:build !js

package core_test

import (
	"testing"
	"time"

	"github.com/convo-sdk/convo/core"
	"github.com/convo-sdk/convo/server/servertest"
	"github.com/convo-sdk/convo/wire"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTypingStartsPerSignalAndEndsOnTheirMessage(t *testing.T) {
	env := servertest.Start(t)
	ctx := testCtx(t)
	alice, bob := newClient(t, env, "alice", nil), newClient(t, env, "bob", nil)
	a, _ := chatRoom(t, alice, bob)
	var onBob recorder
	onBob.watch(bob, core.EventTypingStarted, core.EventTypingEnded)

	require.NoError(t, a.Typing(ctx))
	p := onBob.waitFor(t, core.EventTypingStarted, 1)[0].args[0].(*core.Participant)
	assert.Equal(t, "alice", p.Identity())
	assert.True(t, p.IsTyping())
	require.NoError(t, a.Typing(ctx)) // throttled: no second signal within 5 s
	_, err := a.SendMessage(ctx, "done typing", nil)
	require.NoError(t, err)
	onBob.waitFor(t, core.EventTypingEnded, 1)
	assert.False(t, p.IsTyping())
	time.Sleep(200 * time.Millisecond)
	assert.Len(t, onBob.named(core.EventTypingStarted), 1, "the throttled call sent nothing")
	assert.Empty(t, bob.Emitter().Listeners("x"))
}

func TestTypingEndsAfterSilence(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out the 6 s typing timeout")
	}
	env := servertest.Start(t)
	ctx := testCtx(t)
	alice, bob := newClient(t, env, "alice", nil), newClient(t, env, "bob", nil)
	a, _ := chatRoom(t, alice, bob)
	var onBob recorder
	onBob.watch(bob, core.EventTypingStarted, core.EventTypingEnded)
	require.NoError(t, a.Typing(ctx))
	start := time.Now()
	onBob.waitFor(t, core.EventTypingStarted, 1)
	onBob.waitFor(t, core.EventTypingEnded, 1)
	assert.GreaterOrEqual(t, time.Since(start), wire.TypingTimeout-500*time.Millisecond)
}
