//go:build !js

package core_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/convo-sdk/convo/core"
	"github.com/convo-sdk/convo/server/servertest"
	"github.com/convo-sdk/convo/wire"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestUsersReachabilityAndUpdates(t *testing.T) {
	env := servertest.Start(t)
	ctx := testCtx(t)
	alice, bob := newClient(t, env, "alice", nil), newClient(t, env, "bob", nil)
	var onBob recorder
	onBob.watch(bob, core.EventUserUpdated, core.EventUserSubscribed, core.EventUserUnsubscribed)

	u, err := bob.GetUser(ctx, "alice")
	require.NoError(t, err)
	assert.True(t, u.IsOnline())
	assert.True(t, u.IsSubscribed())
	again, err := bob.GetUser(ctx, "alice")
	require.NoError(t, err)
	assert.Same(t, u, again)
	onBob.waitFor(t, core.EventUserSubscribed, 1)

	require.NoError(t, alice.User().UpdateFriendlyName(ctx, "Alice A."))
	upd := onBob.waitFor(t, core.EventUserUpdated, 1)[0].args[0].(core.UserUpdate)
	assert.Same(t, u, upd.User)
	assert.Contains(t, upd.UpdateReasons, wire.ReasonFriendlyName)
	assert.Equal(t, "Alice A.", u.FriendlyName())
	assert.Equal(t, wire.CodeForbidden, wire.CodeOf(u.UpdateFriendlyName(ctx, "not mine")))

	require.NoError(t, alice.Shutdown(ctx))
	waitFor(t, "alice offline", func() bool { return !u.IsOnline() })

	subs, err := bob.GetSubscribedUsers(ctx)
	require.NoError(t, err)
	assert.Equal(t, []*core.User{u}, subs)
	require.NoError(t, u.Unsubscribe(ctx))
	onBob.waitFor(t, core.EventUserUnsubscribed, 1)
	assert.False(t, u.IsSubscribed())
}

func TestSubscribingMoreThanAHundredUsersEvictsTheOldest(t *testing.T) {
	env := servertest.Start(t)
	ctx := testCtx(t)
	for i := range core.MaxSubscribedUsers + 1 {
		admin(t, env, "PATCH", fmt.Sprintf("/users/user%03d", i), map[string]any{"friendlyName": fmt.Sprint("User ", i)}, nil)
	}
	alice := newClient(t, env, "alice", nil)
	var seen recorder
	seen.watch(alice, core.EventUserUnsubscribed)
	var first *core.User
	for i := range core.MaxSubscribedUsers + 1 {
		u, err := alice.GetUser(ctx, fmt.Sprintf("user%03d", i))
		require.NoError(t, err)
		if i == 0 {
			first = u
		}
	}
	evicted := seen.waitFor(t, core.EventUserUnsubscribed, 1)[0].args[0].(*core.User)
	assert.Same(t, first, evicted)
	assert.False(t, first.IsSubscribed())
	subs, err := alice.GetSubscribedUsers(ctx)
	require.NoError(t, err)
	assert.Len(t, subs, core.MaxSubscribedUsers)
	assert.Equal(t, "user001", subs[0].Identity())
}

func TestPushRegistrationMakesTheUserNotifiable(t *testing.T) {
	env := servertest.Start(t)
	ctx := testCtx(t)
	alice := newClient(t, env, "alice", nil)
	assert.False(t, alice.User().IsNotifiable())
	require.NoError(t, alice.SetPushRegistrationID(ctx, wire.PushFCM, "device-token-1"))
	waitFor(t, "notifiable", func() bool { return alice.User().IsNotifiable() })
	require.NoError(t, alice.UnsetPushRegistrationID(ctx, wire.PushFCM))
	waitFor(t, "not notifiable", func() bool { return !alice.User().IsNotifiable() })
	assert.Equal(t, core.CodeClientArgument, wire.CodeOf(alice.SetPushRegistrationID(ctx, "pigeon", "x")))
}

func TestHandlePushNotificationEmitsIt(t *testing.T) {
	env := servertest.Start(t)
	ctx := testCtx(t)
	alice := newClient(t, env, "alice", nil)
	got := make(chan core.PushNotification, 1)
	core.EventPushNotification.Listen(alice, func(n core.PushNotification) { got <- n }, core.AddOptions{Once: true})
	index := int64(3)
	payload, _ := json.Marshal(wire.PushPayload{Type: wire.PushNewMessage, Title: "room", Body: "bob: hi",
		Data: wire.PushData{ConversationSid: "CH1", MessageIndex: &index}})
	require.NoError(t, alice.HandlePushNotification(ctx, payload))
	select {
	case n := <-got:
		assert.Equal(t, wire.PushNewMessage, n.Type)
		assert.Equal(t, "bob: hi", n.Body)
		assert.EqualValues(t, 3, *n.Data.MessageIndex)
	case <-time.After(5 * time.Second):
		t.Fatal("no pushNotification event")
	}
	assert.Equal(t, core.CodeClientArgument, wire.CodeOf(alice.HandlePushNotification(ctx, wire.RawJSON(`{"x":1}`))))
}
