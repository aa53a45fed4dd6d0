package storetest

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/wire"
)

var _ = register(
	test{"ConversationBasics", testConversationBasics},
	test{"ConversationsOfPaging", testConversationsOfPaging},
	test{"AllConversationsPaging", testAllConversationsPaging},
	test{"UpdateConversation", testUpdateConversation},
	test{"DeleteConversation", testDeleteConversation},
	test{"ConversationView", testConversationView},
)

func testConversationBasics(t *testing.T, h *harness) {
	ctx, s := h.begin()
	c, err := s.CreateConversation(ctx, store.NewConversation{UniqueName: "general", FriendlyName: "General", CreatedBy: "alice",
		Attributes: wire.RawJSON(`{"a":1}`)})
	require.NoError(t, err)
	assert.Regexp(t, `^CH[0-9a-f]{32}$`, c.Sid)
	assert.JSONEq(t, `{"a":1}`, string(c.Attributes))
	assert.Equal(t, "General", c.FriendlyName)
	assert.Equal(t, "alice", c.CreatedBy)
	assert.Nil(t, c.LastMessage)
	assert.Nil(t, c.State, "active since creation")
	assert.False(t, c.Joined)

	_, err = s.CreateConversation(ctx, store.NewConversation{UniqueName: "general", CreatedBy: "bob"})
	assert.ErrorIs(t, err, store.ErrConflict)

	got, err := s.ConversationByUniqueName(ctx, "general")
	require.NoError(t, err)
	assert.Equal(t, c.Sid, got.Sid)
	_, err = s.ConversationByUniqueName(ctx, "nope")
	assert.ErrorIs(t, err, store.ErrNotFound)
	_, err = s.Conversation(ctx, "CHnope")
	assert.ErrorIs(t, err, store.ErrNotFound)
	plain, err := s.CreateConversation(ctx, store.NewConversation{CreatedBy: "bob"})
	require.NoError(t, err)
	assert.JSONEq(t, `{}`, string(plain.Attributes))

	p, ds, err := s.AddParticipant(ctx, store.NewParticipant{ConversationSid: c.Sid, Identity: "alice"})
	require.NoError(t, err)
	assert.Regexp(t, `^MB[0-9a-f]{32}$`, p.Sid)
	assert.Equal(t, "chat", p.Type)
	assert.Equal(t, "alice", p.Identity)
	require.Len(t, ds, 2)
	assert.Equal(t, wire.EventConversationJoined, ds[0].Event)
	assert.Equal(t, wire.EventParticipantJoined, ds[1].Event)
	assert.Equal(t, []uint64{1, 2}, []uint64{ds[0].Offset, ds[1].Offset})
	var joined wire.ConversationEvent
	require.NoError(t, json.Unmarshal(ds[0].Payload, &joined))
	assert.True(t, joined.Conversation.Joined)
	assert.Equal(t, wire.NotificationDefault, joined.Conversation.NotificationLevel)
	assert.False(t, ds[0].At.IsZero(), "commit time for the fan-out latency metric")

	// bob joins: alice hears of it too, in the same order for both.
	_, ds, err = s.AddParticipant(ctx, store.NewParticipant{ConversationSid: c.Sid, Identity: "bob"})
	require.NoError(t, err)
	assert.Equal(t, []string{wire.EventConversationJoined, wire.EventParticipantJoined, wire.EventParticipantJoined}, events(ds))
	assert.Equal(t, []string{"bob", "alice", "bob"}, recipients(ds))
	assert.Equal(t, []uint64{1, 3, 2}, []uint64{ds[0].Offset, ds[1].Offset, ds[2].Offset})

	_, _, err = s.AddParticipant(ctx, store.NewParticipant{ConversationSid: c.Sid, Identity: "alice"})
	assert.ErrorIs(t, err, store.ErrConflict)
	_, _, err = s.AddParticipant(ctx, store.NewParticipant{ConversationSid: c.Sid, Identity: "carol", Max: 2})
	assert.ErrorIs(t, err, store.ErrTooManyParticipants)
	_, _, err = s.AddParticipant(ctx, store.NewParticipant{ConversationSid: "CHnope", Identity: "carol"})
	assert.ErrorIs(t, err, store.ErrNotFound)

	got1, err := s.Participant(ctx, c.Sid, "alice")
	require.NoError(t, err)
	assert.Equal(t, p.Sid, got1.Sid)
	_, err = s.Participant(ctx, c.Sid, "carol")
	assert.ErrorIs(t, err, store.ErrNotFound)
	ps, err := s.Participants(ctx, c.Sid)
	require.NoError(t, err)
	require.Len(t, ps, 2)
	assert.Equal(t, []string{"alice", "bob"}, []string{ps[0].Identity, ps[1].Identity}, "in the order they joined")
	ps, err = s.Participants(ctx, plain.Sid)
	require.NoError(t, err)
	assert.NotNil(t, ps)
	assert.Empty(t, ps)
}

func testConversationsOfPaging(t *testing.T, h *harness) {
	ctx, s := h.begin()
	var want []string
	for range 5 {
		want = append(want, setup(t, s, "alice").Sid)
	}
	setup(t, s, "bob")
	_, _, err := s.SetNotificationLevel(ctx, want[1], "alice", wire.NotificationMuted)
	require.NoError(t, err)
	var got []string
	after := ""
	pages := 0
	for {
		items, next, err := s.ConversationsOf(ctx, "alice", after, 2)
		require.NoError(t, err)
		pages++
		for _, c := range items {
			got = append(got, c.Sid)
			assert.True(t, c.Joined)
		}
		if next == "" {
			break
		}
		after = next
	}
	assert.Equal(t, want, got)
	assert.Equal(t, 3, pages)
	items, _, err := s.ConversationsOf(ctx, "alice", "", 5)
	require.NoError(t, err)
	require.Len(t, items, 5)
	assert.Equal(t, wire.NotificationMuted, items[1].NotificationLevel, "each with alice's own settings")
	assert.Equal(t, wire.NotificationDefault, items[0].NotificationLevel)
	items, next, err := s.ConversationsOf(ctx, "nobody", "", 5)
	require.NoError(t, err)
	assert.Empty(t, items)
	assert.Empty(t, next)
	_, _, err = s.ConversationsOf(ctx, "alice", "garbage", 2)
	assert.ErrorIs(t, err, store.ErrBadCursor)
}

func testAllConversationsPaging(t *testing.T, h *harness) {
	ctx, s := h.begin()
	var want []string
	for range 5 {
		c, err := s.CreateConversation(ctx, store.NewConversation{CreatedBy: "x"})
		require.NoError(t, err)
		want = append(want, c.Sid)
	}
	var got []string
	after := ""
	for {
		items, next, err := s.AllConversations(ctx, after, 3)
		require.NoError(t, err)
		for _, c := range items {
			got = append(got, c.Sid)
			assert.False(t, c.Joined)
		}
		if next == "" {
			break
		}
		after = next
	}
	assert.Equal(t, want, got, "oldest first")
	_, _, err := s.AllConversations(ctx, "-1", 3)
	assert.ErrorIs(t, err, store.ErrBadCursor)
}

func testUpdateConversation(t *testing.T, h *harness) {
	ctx, s, c := h.room("alice", "bob", "carol")
	_, err := s.CreateConversation(ctx, store.NewConversation{UniqueName: "taken", CreatedBy: "x"})
	require.NoError(t, err)
	_, _, err = s.SetNotificationLevel(ctx, c.Sid, "alice", wire.NotificationMuted)
	require.NoError(t, err)

	got, ds, err := s.UpdateConversation(ctx, store.ConversationUpdate{Sid: c.Sid, FriendlyName: ptr("renamed"),
		UniqueName: ptr("mine"), Attributes: wire.RawJSON(`{"x":1}`)})
	require.NoError(t, err)
	assert.Equal(t, "renamed", got.FriendlyName)
	assert.Equal(t, "mine", got.UniqueName)
	assert.JSONEq(t, `{"x":1}`, string(got.Attributes))
	require.Len(t, ds, 3)
	assert.Equal(t, []string{"alice", "bob", "carol"}, recipients(ds))
	var alice, bob wire.ConversationUpdatedEvent
	require.NoError(t, json.Unmarshal(ds[0].Payload, &alice))
	require.NoError(t, json.Unmarshal(ds[1].Payload, &bob))
	assert.Equal(t, []string{wire.ReasonFriendlyName, wire.ReasonUniqueName, wire.ReasonAttributes, wire.ReasonDateUpdated}, alice.UpdateReasons)
	assert.Equal(t, wire.NotificationMuted, alice.Conversation.NotificationLevel, "each recipient sees its own settings")
	assert.Equal(t, wire.NotificationDefault, bob.Conversation.NotificationLevel)
	assert.True(t, bob.Conversation.Joined)
	assert.Equal(t, string(ds[1].Payload), string(ds[2].Payload))

	byName, err := s.ConversationByUniqueName(ctx, "mine")
	require.NoError(t, err)
	assert.Equal(t, c.Sid, byName.Sid)

	// Equal values change nothing and say nothing.
	_, ds, err = s.UpdateConversation(ctx, store.ConversationUpdate{Sid: c.Sid, FriendlyName: ptr("renamed"), Attributes: wire.RawJSON(`{ "x" : 1 }`)})
	require.NoError(t, err)
	assert.Empty(t, ds)

	_, _, err = s.UpdateConversation(ctx, store.ConversationUpdate{Sid: c.Sid, UniqueName: ptr("taken")})
	assert.ErrorIs(t, err, store.ErrConflict)
	_, _, err = s.UpdateConversation(ctx, store.ConversationUpdate{Sid: "CHnope", FriendlyName: ptr("x")})
	assert.ErrorIs(t, err, store.ErrNotFound)

	// "" clears the unique name, so another conversation may take it.
	got, ds, err = s.UpdateConversation(ctx, store.ConversationUpdate{Sid: c.Sid, UniqueName: ptr("")})
	require.NoError(t, err)
	assert.Empty(t, got.UniqueName)
	require.Len(t, ds, 3)
	require.NoError(t, json.Unmarshal(ds[0].Payload, &alice))
	assert.Equal(t, []string{wire.ReasonUniqueName, wire.ReasonDateUpdated}, alice.UpdateReasons)
	_, err = s.CreateConversation(ctx, store.NewConversation{UniqueName: "mine", CreatedBy: "y"})
	require.NoError(t, err)
}

func testDeleteConversation(t *testing.T, h *harness) {
	ctx, s, c := h.room("alice", "bob")
	other := setup(t, s, "alice")
	require.NoError(t, s.CreateMedia(ctx, store.MediaRecord{Media: wire.Media{Sid: "ME1", Category: wire.MediaCategoryMedia, ContentType: "image/png", Size: 3}, Owner: "alice"}))
	m, _, _, err := s.SendMessage(ctx, store.NewMessage{ConversationSid: c.Sid, Author: "alice", Body: ptr("pic"), MediaSids: []string{"ME1"}})
	require.NoError(t, err)
	send(t, s, other.Sid, "alice", "stays")
	sms, _, err := s.AddParticipant(ctx, store.NewParticipant{ConversationSid: c.Sid, Type: wire.ParticipantSMS, Address: "+1", ProxyAddress: "+2"})
	require.NoError(t, err)
	_, _, err = s.UpsertReceipt(ctx, store.ReceiptUpsert{ConversationSid: c.Sid, MessageSid: m.Sid, ParticipantSid: sms.Sid, Status: wire.DeliverySent})
	require.NoError(t, err)

	media, ds, err := s.DeleteConversation(ctx, c.Sid)
	require.NoError(t, err)
	assert.Equal(t, []string{"ME1"}, media, "the caller deletes the files")
	assert.Equal(t, []string{wire.EventConversationRemoved, wire.EventConversationRemoved}, events(ds))
	assert.Equal(t, []string{"alice", "bob"}, recipients(ds))
	assert.JSONEq(t, `{"conversationSid":"`+c.Sid+`"}`, string(ds[0].Payload))

	_, err = s.Conversation(ctx, c.Sid)
	assert.ErrorIs(t, err, store.ErrNotFound)
	_, err = s.Message(ctx, c.Sid, m.Sid)
	assert.ErrorIs(t, err, store.ErrNotFound)
	_, err = s.Media(ctx, "ME1")
	assert.ErrorIs(t, err, store.ErrNotFound)
	_, err = s.Participant(ctx, c.Sid, "bob")
	assert.ErrorIs(t, err, store.ErrNotFound)
	items, _, err := s.ConversationsOf(ctx, "alice", "", 10)
	require.NoError(t, err)
	require.Len(t, items, 1)
	assert.Equal(t, other.Sid, items[0].Sid)
	page, err := s.Messages(ctx, store.MessageQuery{ConversationSid: other.Sid})
	require.NoError(t, err)
	assert.Len(t, page.Items, 1)
	_, _, err = s.DeleteConversation(ctx, c.Sid)
	assert.ErrorIs(t, err, store.ErrNotFound)
}

func testConversationView(t *testing.T, h *harness) {
	ctx, s, c := h.room("alice", "bob")
	send(t, s, c.Sid, "alice", "hi")
	_, _, err := s.SetReadHorizon(ctx, c.Sid, "bob", wire.ReadAll, nil)
	require.NoError(t, err)
	_, _, err = s.SetNotificationLevel(ctx, c.Sid, "bob", wire.NotificationMuted)
	require.NoError(t, err)

	v, p, err := s.ConversationView(ctx, c.Sid, "bob")
	require.NoError(t, err)
	require.NotNil(t, p)
	assert.Equal(t, "bob", p.Identity)
	assert.True(t, v.Joined)
	assert.Equal(t, wire.NotificationMuted, v.NotificationLevel)
	require.NotNil(t, v.LastReadMessageIndex)
	assert.EqualValues(t, 0, *v.LastReadMessageIndex)
	require.NotNil(t, v.LastMessage)
	assert.EqualValues(t, 0, v.LastMessage.Index)

	v, p, err = s.ConversationView(ctx, c.Sid, "mallory")
	require.NoError(t, err)
	assert.Nil(t, p)
	assert.False(t, v.Joined)
	assert.Nil(t, v.LastReadMessageIndex)
	_, _, err = s.ConversationView(ctx, "CHnope", "bob")
	assert.ErrorIs(t, err, store.ErrNotFound)
}
