//go:build !js

package core_test

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/convo-sdk/convo/core"
	"github.com/convo-sdk/convo/server/auth"
	"github.com/convo-sdk/convo/server/servertest"
	"github.com/convo-sdk/convo/wire"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestClientConnectsAndInitialises(t *testing.T) {
	env := servertest.Start(t)
	var states events
	c := core.New(env.Token("alice", time.Hour), &core.Options{DeferStart: true, Logf: t.Logf})
	c.OnConnectionStateChanged(func(s core.ConnectionState) { states.add(string(s)) })
	initialised := make(chan struct{})
	core.EventInitialized.Listen(c, func() { close(initialised) }, core.AddOptions{Once: true})
	assert.Equal(t, core.StateUnknown, c.ConnectionState())
	c.Start()
	select {
	case <-initialised:
	case <-time.After(10 * time.Second):
		t.Fatal("no initialized event")
	}
	assert.Equal(t, core.StateConnected, c.ConnectionState())
	assert.Equal(t, "alice", c.User().Identity())
	require.NoError(t, c.Shutdown(testCtx(t)))
	assert.Equal(t, []string{"connecting", "connected", "disconnecting", "disconnected"}, states.snapshot())
	// Replay still tells a late listener that the client was initialised.
	replayed := false
	core.EventInitialized.Listen(c, func() { replayed = true }, core.AddOptions{Replay: true})
	assert.True(t, replayed)
}

func TestStartUpInitialisesThenAnnouncesEachConversationAddedThenJoined(t *testing.T) {
	env := servertest.Start(t)
	ctx := testCtx(t)
	alice := newClient(t, env, "alice", nil)
	for _, name := range []string{"one", "two"} {
		conv, err := alice.CreateConversation(ctx, core.CreateConversationOptions{FriendlyName: name})
		require.NoError(t, err)
		require.NoError(t, conv.Join(ctx))
		require.NoError(t, conv.Add(ctx, "bob", nil)) // bob is offline
	}

	bob := core.New(env.Token("bob", time.Hour), &core.Options{DeferStart: true, Logf: t.Logf})
	t.Cleanup(func() { _ = bob.Shutdown(context.Background()) })
	var seen recorder
	var own recorder
	own.watch(bob, core.EventUserUpdated, core.EventUserSubscribed, core.EventInitialized)
	seen.watch(bob, core.EventConversationAdded, core.EventConversationJoined, core.EventInitialized)
	bob.Start()
	require.NoError(t, bob.WaitInitialized(ctx))
	seen.waitFor(t, core.EventConversationJoined, 2)
	assert.Equal(t, core.EventInitialized.Name(), seen.names()[0], "initialized first, then the conversations")
	assert.Equal(t, []string{core.EventUserUpdated.Name(), core.EventUserSubscribed.Name(), core.EventInitialized.Name()}, own.names(),
		"the own user's record, then initialized")
	upd := own.named(core.EventUserUpdated)[0].args[0].(core.UserUpdate)
	assert.Equal(t, []string{wire.ReasonReachabilityOnline}, upd.UpdateReasons)
	assert.Same(t, bob.User(), upd.User)
	var got []string
	for _, r := range seen.got {
		if r.name == core.EventInitialized.Name() {
			continue
		}
		got = append(got, r.name+" "+r.args[0].(*core.Conversation).FriendlyName())
	}
	assert.ElementsMatch(t, []string{"conversationAdded one", "conversationJoined one", "conversationAdded two", "conversationJoined two"}, got)
	for i := 0; i+1 < len(got); i += 2 {
		assert.Equal(t, strings.Replace(got[i], "Added", "Joined", 1), got[i+1], "each conversation: added, then joined")
	}
}

func TestDeniedTokenFailsInitAndCalls(t *testing.T) {
	env := servertest.Start(t)
	expired, err := auth.MintAt(env.Key, "alice", time.Now().Add(-2*time.Hour), time.Hour, env.URL)
	require.NoError(t, err)
	var failure core.InitFailure
	c := core.New(expired, &core.Options{DeferStart: true, Logf: t.Logf})
	failed := make(chan struct{})
	core.EventInitFailed.Listen(c, func(f core.InitFailure) { failure = f; close(failed) }, core.AddOptions{Once: true})
	c.Start()
	select {
	case <-failed:
	case <-time.After(10 * time.Second):
		t.Fatal("no initFailed")
	}
	assert.True(t, failure.Terminal)
	assert.Equal(t, wire.CodeTokenExpired, wire.CodeOf(failure.Err))
	assert.Equal(t, core.StateDenied, c.ConnectionState())
	_, err = c.GetSubscribedConversations(testCtx(t))
	assert.Equal(t, core.CodeClientInitFailed, wire.CodeOf(err))
	require.NoError(t, c.Shutdown(testCtx(t)))
}

func TestShutdownLeaksNoGoroutine(t *testing.T) {
	env := servertest.Start(t)
	ctx := testCtx(t)
	// Let the server's and the runtime's goroutines settle before counting.
	time.Sleep(50 * time.Millisecond)
	before := runtime.NumGoroutine()
	c := core.New(env.Token("alice", time.Hour), &core.Options{Logf: t.Logf})
	require.NoError(t, c.WaitInitialized(ctx))
	conv, err := c.CreateConversation(ctx, core.CreateConversationOptions{})
	require.NoError(t, err)
	require.NoError(t, conv.Join(ctx))
	_, err = conv.SendMessage(ctx, "hi", nil)
	require.NoError(t, err)
	require.NoError(t, c.Shutdown(ctx))
	require.NoError(t, c.Shutdown(ctx), "a second shutdown is harmless")
	waitFor(t, "goroutines to return to their count before the client", func() bool {
		return runtime.NumGoroutine() <= before
	})
	_, err = conv.SendMessage(ctx, "after", nil)
	assert.Equal(t, core.CodeClientShutdown, wire.CodeOf(err))
}

func TestErrorsCarryWireCodes(t *testing.T) {
	env := servertest.Start(t)
	ctx := testCtx(t)
	alice, bob := newClient(t, env, "alice", nil), newClient(t, env, "bob", nil)
	conv, err := alice.CreateConversation(ctx, core.CreateConversationOptions{FriendlyName: "private"})
	require.NoError(t, err)
	require.NoError(t, conv.Join(ctx))

	// A conversation bob is not in is peeked, as the vendor's getConversationBySid falls back
	// to; he cannot write to it.
	peeked, err := bob.GetConversationBySid(ctx, conv.Sid())
	require.NoError(t, err)
	assert.Equal(t, core.StatusNotParticipating, peeked.Status())
	_, err = peeked.SendMessage(ctx, "not a member", nil)
	assert.Equal(t, wire.CodeForbidden, wire.CodeOf(err), err)
	_, err = alice.GetConversationBySid(ctx, "CH00000000000000000000000000000000")
	assert.Equal(t, wire.CodeNotFound, wire.CodeOf(err), err)
	_, err = conv.SendMessage(ctx, strings.Repeat("x", wire.MaxMessageBodyBytes+1), nil)
	assert.Equal(t, wire.CodeTooLarge, wire.CodeOf(err), err)
	_, err = conv.GetMessages(ctx, 1000, nil, "")
	assert.Equal(t, core.CodeClientArgument, wire.CodeOf(err), err)
}

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
