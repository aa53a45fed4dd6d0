//go:build !js

package core_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/convo-sdk/convo/core"
	"github.com/convo-sdk/convo/server/servertest"
	"github.com/convo-sdk/convo/wire"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// admin calls the server's admin REST API as an app backend would.
func admin(t *testing.T, env *servertest.Env, method, path string, body, out any) {
	t.Helper()
	var r bytes.Buffer
	if body != nil {
		require.NoError(t, json.NewEncoder(&r).Encode(body))
	}
	req, err := http.NewRequest(method, env.HTTPURL+"/v1/admin"+path, &r)
	require.NoError(t, err)
	req.SetBasicAuth(env.Key.ID, env.Key.Secret)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Less(t, res.StatusCode, 300, "%s %s: HTTP %d", method, path, res.StatusCode)
	if out != nil {
		require.NoError(t, json.NewDecoder(res.Body).Decode(out))
	}
}

func TestNonChatRecipientsReceiptsAndChannelMetadata(t *testing.T) {
	env := servertest.Start(t)
	ctx := testCtx(t)
	alice := newClient(t, env, "alice", nil)
	conv, err := alice.CreateConversation(ctx, core.CreateConversationOptions{FriendlyName: "support"})
	require.NoError(t, err)
	require.NoError(t, conv.Join(ctx))
	require.NoError(t, conv.AddNonChatParticipant(ctx, "support@example.com", "customer@example.net", nil, nil))
	parts, err := conv.GetParticipants(ctx)
	require.NoError(t, err)
	var email *core.Participant
	for _, p := range parts {
		if p.Type() == wire.ParticipantEmail {
			email = p
		}
	}
	require.NotNil(t, email, "the email participant")
	assert.Equal(t, "customer@example.net", email.Address())

	var updates recorder
	updates.watch(alice, core.EventMessageUpdated)
	index, err := conv.SendMessage(ctx, "we are on it", nil)
	require.NoError(t, err)
	page, err := conv.GetMessages(ctx, 1, &index, wire.Backwards)
	require.NoError(t, err)
	msg := page.Items[0]
	recipients, err := msg.GetMessageRecipients(ctx)
	require.NoError(t, err)
	require.Len(t, recipients, 1)
	assert.Equal(t, "customer@example.net", recipients[0].Address)

	// The app's backend reports delivery: the aggregate and the detail follow.
	admin(t, env, "PUT", fmt.Sprintf("/conversations/%s/messages/%s/receipts/%s", conv.Sid(), msg.Sid(), email.Sid()),
		map[string]any{"status": wire.DeliveryDelivered, "channelMessageSid": "provider-42"}, nil)
	upd := updates.waitFor(t, core.EventMessageUpdated, 1)[0].args[0].(core.MessageUpdate)
	assert.Same(t, msg, upd.Message)
	assert.Contains(t, upd.UpdateReasons, wire.ReasonDeliveryReceipt)
	require.NotNil(t, msg.AggregatedDeliveryReceipt())
	assert.Equal(t, wire.AmountAll, msg.AggregatedDeliveryReceipt().Delivered)
	receipts, err := msg.GetDetailedDeliveryReceipts(ctx)
	require.NoError(t, err)
	require.Len(t, receipts, 1)
	assert.Equal(t, "provider-42", receipts[0].ChannelMessageSid)

	// An inbound message recorded by the backend carries its channel metadata.
	var inbound wire.Message
	admin(t, env, "POST", "/conversations/"+conv.Sid()+"/messages", map[string]any{
		"author": "customer@example.net", "body": "thanks",
		"channelMetadata": map[string]any{"type": "email", "data": map[string]any{"id": "<m1@example.net>"}},
	}, &inbound)
	page, err = conv.GetMessages(ctx, 1, nil, "")
	require.NoError(t, err)
	meta, err := page.Items[0].GetChannelMetadata(ctx)
	require.NoError(t, err)
	require.NotNil(t, meta)
	assert.Equal(t, "email", meta.Type)
	assert.JSONEq(t, `{"id":"<m1@example.net>"}`, string(meta.Data))
	none, err := msg.GetChannelMetadata(ctx)
	require.NoError(t, err)
	assert.Nil(t, none)
}

func TestContentTemplatesFillMessageContentData(t *testing.T) {
	env := servertest.Start(t)
	ctx := testCtx(t)
	var tmpl wire.ContentTemplate
	admin(t, env, "POST", "/content", map[string]any{
		"friendlyName": "greeting",
		"variables":    []map[string]string{{"name": "1", "value": "there"}},
		"variants":     map[string]any{"twilio/text": map[string]any{"body": "Hello {{1}}!"}},
	}, &tmpl)
	alice := newClient(t, env, "alice", nil)
	templates, err := alice.GetContentTemplates(ctx)
	require.NoError(t, err)
	require.Len(t, templates, 1)
	assert.Equal(t, "greeting", templates[0].FriendlyName)

	conv, err := alice.CreateConversation(ctx, core.CreateConversationOptions{})
	require.NoError(t, err)
	require.NoError(t, conv.Join(ctx))
	_, err = conv.PrepareMessage().SetContentTemplate(tmpl.Sid, []wire.ContentVariable{{Name: "1", Value: "Ann"}}).BuildAndSend(ctx, nil)
	require.NoError(t, err)
	page, err := conv.GetMessages(ctx, 1, nil, "")
	require.NoError(t, err)
	data, err := page.Items[0].GetContentData(ctx)
	require.NoError(t, err)
	assert.JSONEq(t, `{"twilio/text":{"body":"Hello Ann!"}}`, string(data))
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

func TestSubscribedConversationsComeFiftyAPage(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Configure: nil})
	ctx := testCtx(t)
	alice := newClient(t, env, "alice", nil)
	for range 51 {
		conv, err := alice.CreateConversation(ctx, core.CreateConversationOptions{})
		require.NoError(t, err)
		require.NoError(t, conv.Join(ctx))
	}
	page, err := alice.GetSubscribedConversations(ctx)
	require.NoError(t, err)
	assert.Len(t, page.Items, 50)
	require.True(t, page.HasNextPage)
	next, err := page.NextPage(ctx)
	require.NoError(t, err)
	assert.Len(t, next.Items, 1)
	assert.False(t, next.HasNextPage)
}

func TestHandlePushNotificationEmitsIt(t *testing.T) {
	env := servertest.Start(t)
	ctx := testCtx(t)
	alice := newClient(t, env, "alice", nil)
	got := make(chan core.PushNotification, 1)
	alice.Once(core.EventPushNotification, func(args ...any) { got <- args[0].(core.PushNotification) })
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
