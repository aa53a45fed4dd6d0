//go:build !js

package core_test

import (
	"encoding/json"
	"testing"

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
	require.NoError(t, a.Update(ctx, core.UpdateConversationOptions{FriendlyName: &name, Attributes: json.RawMessage(`{"topic":"go"}`)}))
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
