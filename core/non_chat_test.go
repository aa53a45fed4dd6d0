//go:build !js

package core_test

import (
	"fmt"
	"testing"

	"github.com/convo-sdk/convo/core"
	"github.com/convo-sdk/convo/server/servertest"
	"github.com/convo-sdk/convo/wire"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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
	page, err := conv.GetMessages(ctx, 1, &index, core.Backwards)
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
