//go:build !js

package core_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/convo-sdk/convo/core"
	"github.com/convo-sdk/convo/server/servertest"
	"github.com/convo-sdk/convo/wire"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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
	assert.Equal(t, core.CodeClientArgument, wire.CodeOf(alice.HandlePushNotification(ctx, json.RawMessage(`{"x":1}`))))
}
