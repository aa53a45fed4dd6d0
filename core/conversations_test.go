//go:build !js

package core_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/convo-sdk/convo/core"
	"github.com/convo-sdk/convo/server/servertest"
	"github.com/convo-sdk/convo/wire"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConversationUpdatesReachOtherParticipants(t *testing.T) {
	env := servertest.Start(t)
	ctx := testCtx(t)
	alice, bob := newClient(t, env, "alice", nil), newClient(t, env, "bob", nil)
	a, b := chatRoom(t, alice, bob)
	var onBob, onConv recorder
	onBob.watch(bob, core.EventConversationUpdated)
	onConv.watch(b, core.ConversationEventUpdated)

	name := "renamed"
	require.NoError(t, a.Update(ctx, core.UpdateConversationOptions{FriendlyName: &name, Attributes: wire.RawJSON(`{"topic":"go"}`)}))
	ev := onBob.waitFor(t, core.EventConversationUpdated, 1)[0].args[0].(core.ConversationUpdate)
	assert.Same(t, b, ev.Conversation)
	assert.Subset(t, ev.UpdateReasons, []string{wire.ReasonFriendlyName, wire.ReasonAttributes})
	assert.Equal(t, "renamed", b.FriendlyName())
	assert.JSONEq(t, `{"topic":"go"}`, string(b.AttributesJSON()))
	onConv.waitFor(t, core.ConversationEventUpdated, 1)

	require.NoError(t, b.SetUserNotificationLevel(ctx, wire.NotificationMuted))
	assert.Equal(t, wire.NotificationMuted, b.NotificationLevel())
	assert.Equal(t, wire.NotificationDefault, a.NotificationLevel(), "the level is per user")
	assert.Equal(t, core.CodeClientArgument, wire.CodeOf(b.SetUserNotificationLevel(ctx, "loud")))
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

func TestLeaveRemoveAndDelete(t *testing.T) {
	env := servertest.Start(t)
	ctx := testCtx(t)
	alice, bob := newClient(t, env, "alice", nil), newClient(t, env, "bob", nil)
	a, b := chatRoom(t, alice, bob)
	_, err := a.SendMessage(ctx, "before leaving", nil)
	require.NoError(t, err)
	_, err = b.GetParticipants(ctx)
	require.NoError(t, err)
	waitFor(t, "bob to hold the message", func() bool {
		p, err := b.GetMessages(ctx, 0, nil, "")
		return err == nil && len(p.Items) == 1
	})
	var onAlice, onBob recorder
	onAlice.watch(alice, core.EventParticipantLeft, core.EventParticipantJoined)
	onBob.watch(bob, core.EventConversationLeft, core.EventConversationRemoved, core.EventConversationJoined,
		core.EventConversationAdded, core.EventConversationUpdated, core.EventParticipantLeft)

	require.NoError(t, b.Leave(ctx))
	onBob.waitFor(t, core.EventConversationRemoved, 1)
	assert.Equal(t, []string{core.EventConversationLeft.Name(), core.EventConversationRemoved.Name()}, onBob.names(),
		"leaving: left, then removed; no conversationUpdated, no participantLeft for oneself")
	assert.Equal(t, core.StatusNotParticipating, b.Status())
	left := onAlice.waitFor(t, core.EventParticipantLeft, 1)[0].args[0].(*core.Participant)
	assert.Equal(t, "bob", left.Identity())
	// Reads answer from what bob held; the server is not asked.
	held, err := b.GetParticipants(ctx)
	require.NoError(t, err)
	assert.Len(t, held, 2)
	page, err := b.GetMessages(ctx, 0, nil, "")
	require.NoError(t, err)
	assert.Equal(t, []string{"before leaving"}, bodies(page.Items))
	_, err = b.SendMessage(ctx, "after leaving", nil)
	assert.Equal(t, wire.CodeForbidden, wire.CodeOf(err))
	_, err = b.SetReadHorizon(ctx, core.ReadAll, nil)
	assert.Equal(t, wire.CodeForbidden, wire.CodeOf(err), "the read horizon of a left conversation does not move")
	require.NoError(t, b.Leave(ctx), "leaving again does nothing")

	require.NoError(t, a.Add(ctx, "bob", nil))
	joined := onBob.waitFor(t, core.EventConversationJoined, 1)[0].args[0].(*core.Conversation)
	assert.NotSame(t, b, joined, "a conversation joined again is a new object, as with the vendor")
	assert.Equal(t, core.StatusJoined, joined.Status())
	b = joined
	assert.Equal(t, wire.CodeForbidden, wire.CodeOf(b.Delete(ctx)), "only the creator deletes")
	require.NoError(t, a.RemoveParticipant(ctx, "bob"))
	onBob.waitFor(t, core.EventConversationRemoved, 2)
	assert.Len(t, onBob.named(core.EventConversationLeft), 2)

	require.NoError(t, a.Add(ctx, "bob", nil))
	b = onBob.waitFor(t, core.EventConversationJoined, 2)[1].args[0].(*core.Conversation)
	require.NoError(t, a.Delete(ctx))
	removed := onBob.waitFor(t, core.EventConversationRemoved, 3)[2].args[0].(*core.Conversation)
	assert.Same(t, b, removed)
	assert.Len(t, onBob.named(core.EventConversationLeft), 3, "a deleted conversation is left first")
	assert.Empty(t, onBob.named(core.EventConversationUpdated))
	assert.Empty(t, onBob.named(core.EventParticipantLeft))
	_, err = bob.GetConversationBySid(ctx, a.Sid())
	assert.Equal(t, wire.CodeNotFound, wire.CodeOf(err))
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
