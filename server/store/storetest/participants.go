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
	test{"RemovedParticipantsStayOutUntilLifted", testBans},
	test{"NonChatParticipants", testNonChatParticipants},
	test{"UpdateParticipant", testUpdateParticipant},
	test{"NotificationLevel", testNotificationLevel},
	test{"ReadHorizonAndCounts", testReadHorizon},
)

func testBans(t *testing.T, h *harness) {
	ctx, s, c := h.room("alice", "bob", "carol")
	bob, err := s.Participant(ctx, c.Sid, "bob")
	require.NoError(t, err)

	removed, ds, err := s.RemoveParticipant(ctx, c.Sid, bob.Sid, true)
	require.NoError(t, err)
	assert.Equal(t, bob.Sid, removed.Sid)
	assert.Equal(t, []string{wire.EventConversationLeft, wire.EventParticipantLeft, wire.EventParticipantLeft, wire.EventParticipantLeft}, events(ds))
	assert.Equal(t, []string{"bob", "alice", "bob", "carol"}, recipients(ds), "the removed one hears of it too")
	_, _, err = s.RemoveParticipant(ctx, c.Sid, bob.Sid, true)
	assert.ErrorIs(t, err, store.ErrNotFound)

	_, _, err = s.AddParticipant(ctx, store.NewParticipant{ConversationSid: c.Sid, Identity: "bob"})
	assert.ErrorIs(t, err, store.ErrRemoved, "a removed identity cannot come back on its own")
	_, _, err = s.AddParticipant(ctx, store.NewParticipant{ConversationSid: c.Sid, Identity: "bob", LiftBan: true})
	require.NoError(t, err, "the creator or the admin API may bring it back")
	bob, err = s.Participant(ctx, c.Sid, "bob")
	require.NoError(t, err)
	_, _, err = s.RemoveParticipant(ctx, c.Sid, bob.Sid, false)
	require.NoError(t, err)
	_, _, err = s.AddParticipant(ctx, store.NewParticipant{ConversationSid: c.Sid, Identity: "bob"})
	require.NoError(t, err, "the ban ended with the add; leaving on one's own bans nothing")

	// A ban is per conversation.
	other := setup(t, s, "alice")
	carol, err := s.Participant(ctx, c.Sid, "carol")
	require.NoError(t, err)
	_, _, err = s.RemoveParticipant(ctx, c.Sid, carol.Sid, true)
	require.NoError(t, err)
	_, _, err = s.AddParticipant(ctx, store.NewParticipant{ConversationSid: other.Sid, Identity: "carol"})
	require.NoError(t, err)
}

func testNonChatParticipants(t *testing.T, h *harness) {
	ctx, s, c := h.room("alice")
	p, ds, err := s.AddParticipant(ctx, store.NewParticipant{ConversationSid: c.Sid, Type: wire.ParticipantSMS,
		Address: "+15550001", ProxyAddress: "+15550002", Bindings: wire.RawJSON(`{"sms":{"address":"+15550001"}}`),
		Attributes: wire.RawJSON(`{"k":"v"}`)})
	require.NoError(t, err)
	assert.Equal(t, wire.ParticipantSMS, p.Type)
	assert.Empty(t, p.Identity, "no identity: an address")
	assert.Equal(t, "+15550001", p.Address)
	assert.Equal(t, "+15550002", p.ProxyAddress)
	assert.JSONEq(t, `{"sms":{"address":"+15550001"}}`, string(p.Bindings))
	assert.JSONEq(t, `{"k":"v"}`, string(p.Attributes))
	assert.Equal(t, []string{wire.EventParticipantJoined}, events(ds), "no conversationJoined: it has no stream")
	assert.Equal(t, []string{"alice"}, recipients(ds))

	_, _, err = s.AddParticipant(ctx, store.NewParticipant{ConversationSid: c.Sid, Type: wire.ParticipantSMS, Address: "+15550001", ProxyAddress: "+15550002"})
	assert.ErrorIs(t, err, store.ErrConflict)
	email, _, err := s.AddParticipant(ctx, store.NewParticipant{ConversationSid: c.Sid, Type: wire.ParticipantEmail, Address: "a@example.com"})
	require.NoError(t, err)
	_, _, err = s.AddParticipant(ctx, store.NewParticipant{ConversationSid: c.Sid, Type: wire.ParticipantWhatsApp, Address: "+1", ProxyAddress: "+2", Max: 3})
	assert.ErrorIs(t, err, store.ErrTooManyParticipants)
	_, _, err = s.AddParticipant(ctx, store.NewParticipant{ConversationSid: "CHnope", Type: wire.ParticipantSMS, Address: "+1", ProxyAddress: "+2"})
	assert.ErrorIs(t, err, store.ErrNotFound)

	got, err := s.ParticipantBySid(ctx, c.Sid, p.Sid)
	require.NoError(t, err)
	assert.Equal(t, p, got)
	_, err = s.ParticipantBySid(ctx, c.Sid, "MBnope")
	assert.ErrorIs(t, err, store.ErrNotFound)
	ps, err := s.Participants(ctx, c.Sid)
	require.NoError(t, err)
	assert.Len(t, ps, 3)

	// Removing it tells the chat members; it has no stream to get conversationLeft.
	_, ds, err = s.RemoveParticipant(ctx, c.Sid, email.Sid, true)
	require.NoError(t, err)
	assert.Equal(t, []string{wire.EventParticipantLeft}, events(ds))
	assert.Equal(t, []string{"alice"}, recipients(ds))
}

func testUpdateParticipant(t *testing.T, h *harness) {
	ctx, s, c := h.room("alice", "bob")
	bob, err := s.Participant(ctx, c.Sid, "bob")
	require.NoError(t, err)

	p, ds, err := s.UpdateParticipant(ctx, c.Sid, bob.Sid, wire.RawJSON(`{"role":"x"}`))
	require.NoError(t, err)
	assert.JSONEq(t, `{"role":"x"}`, string(p.Attributes))
	assert.Equal(t, []string{"alice", "bob"}, recipients(ds))
	var ev wire.ParticipantUpdatedEvent
	require.NoError(t, json.Unmarshal(ds[0].Payload, &ev))
	assert.Equal(t, []string{wire.ReasonAttributes, wire.ReasonDateUpdated}, ev.UpdateReasons)
	assert.Equal(t, bob.Sid, ev.Participant.Sid)

	_, ds, err = s.UpdateParticipant(ctx, c.Sid, bob.Sid, wire.RawJSON(`{ "role": "x" }`))
	require.NoError(t, err)
	assert.Empty(t, ds, "same value: no event")
	_, _, err = s.UpdateParticipant(ctx, c.Sid, "MBnope", wire.RawJSON(`{}`))
	assert.ErrorIs(t, err, store.ErrNotFound)
	got, err := s.ParticipantBySid(ctx, c.Sid, bob.Sid)
	require.NoError(t, err)
	assert.JSONEq(t, `{"role":"x"}`, string(got.Attributes))
}

func testNotificationLevel(t *testing.T, h *harness) {
	ctx, s, c := h.room("alice", "bob", "carol")
	got, ds, err := s.SetNotificationLevel(ctx, c.Sid, "bob", wire.NotificationMuted)
	require.NoError(t, err)
	assert.Equal(t, wire.NotificationMuted, got.NotificationLevel)
	assert.True(t, got.Joined)
	require.Len(t, ds, 1, "only bob hears of it")
	assert.Equal(t, "bob", ds[0].Identity)
	var ev wire.ConversationUpdatedEvent
	require.NoError(t, json.Unmarshal(ds[0].Payload, &ev))
	assert.Equal(t, []string{wire.ReasonNotificationLevel}, ev.UpdateReasons)

	_, ds, err = s.SetNotificationLevel(ctx, c.Sid, "bob", wire.NotificationMuted)
	require.NoError(t, err)
	assert.Empty(t, ds)
	_, _, err = s.SetNotificationLevel(ctx, c.Sid, "mallory", wire.NotificationMuted)
	assert.ErrorIs(t, err, store.ErrNotFound)
	_, _, err = s.AddParticipant(ctx, store.NewParticipant{ConversationSid: c.Sid, Type: wire.ParticipantSMS, Address: "+1", ProxyAddress: "+2"})
	require.NoError(t, err)

	muted, err := s.MutedIdentities(ctx, c.Sid)
	require.NoError(t, err)
	assert.Equal(t, []string{"bob"}, muted)
}

func testReadHorizon(t *testing.T, h *harness) {
	ctx, s, c := h.room("alice", "bob")
	counts, err := s.Counts(ctx, c.Sid, "bob")
	require.NoError(t, err)
	assert.Equal(t, wire.Counts{Messages: 0, Participants: 2}, counts)

	for i := range 5 {
		send(t, s, c.Sid, "alice", string(rune('a'+i)))
	}
	res, ds, err := s.SetReadHorizon(ctx, c.Sid, "bob", wire.ReadAdvance, ptr[int64](2))
	require.NoError(t, err)
	assert.EqualValues(t, 2, *res.LastReadMessageIndex)
	assert.EqualValues(t, 2, *res.UnreadCount)
	assert.Equal(t, []string{wire.EventConversationUpdated, wire.EventParticipantUpdated, wire.EventParticipantUpdated}, events(ds))
	assert.Equal(t, []string{"bob", "alice", "bob"}, recipients(ds))
	var pu wire.ParticipantUpdatedEvent
	require.NoError(t, json.Unmarshal(ds[1].Payload, &pu))
	assert.Equal(t, []string{wire.ReasonLastReadMessageIndex, wire.ReasonLastReadTimestamp}, pu.UpdateReasons)
	require.NotNil(t, pu.Participant.LastReadTimestamp)
	assert.EqualValues(t, 2, *pu.Participant.LastReadMessageIndex)
	var cu wire.ConversationUpdatedEvent
	require.NoError(t, json.Unmarshal(ds[0].Payload, &cu))
	assert.Equal(t, []string{wire.ReasonLastReadMessageIndex}, cu.UpdateReasons)
	assert.EqualValues(t, 2, *cu.Conversation.LastReadMessageIndex)

	res, ds, err = s.SetReadHorizon(ctx, c.Sid, "bob", wire.ReadAdvance, ptr[int64](1))
	require.NoError(t, err)
	assert.EqualValues(t, 2, *res.LastReadMessageIndex, "advance never moves back")
	assert.Empty(t, ds)
	res, _, err = s.SetReadHorizon(ctx, c.Sid, "bob", wire.ReadSet, ptr[int64](1))
	require.NoError(t, err)
	assert.EqualValues(t, 1, *res.LastReadMessageIndex)
	assert.EqualValues(t, 3, *res.UnreadCount)
	counts, err = s.Counts(ctx, c.Sid, "bob")
	require.NoError(t, err)
	assert.EqualValues(t, 5, counts.Messages)
	assert.EqualValues(t, 2, counts.Participants)
	assert.EqualValues(t, 3, *counts.Unread)
	res, _, err = s.SetReadHorizon(ctx, c.Sid, "bob", wire.ReadAll, nil)
	require.NoError(t, err)
	assert.EqualValues(t, 4, *res.LastReadMessageIndex)
	assert.EqualValues(t, 0, *res.UnreadCount)
	res, ds, err = s.SetReadHorizon(ctx, c.Sid, "bob", wire.ReadNone, nil)
	require.NoError(t, err)
	assert.Nil(t, res.LastReadMessageIndex)
	assert.Nil(t, res.UnreadCount)
	assert.Len(t, ds, 3)
	counts, err = s.Counts(ctx, c.Sid, "bob")
	require.NoError(t, err)
	assert.Nil(t, counts.Unread)

	_, _, err = s.SetReadHorizon(ctx, c.Sid, "mallory", wire.ReadAll, nil)
	assert.ErrorIs(t, err, store.ErrNotFound)
	_, err = s.Counts(ctx, c.Sid, "mallory")
	assert.ErrorIs(t, err, store.ErrNotFound)
	_, _, err = s.SetReadHorizon(ctx, c.Sid, "bob", "sideways", nil)
	assert.Error(t, err)
}
