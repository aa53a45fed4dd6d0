package server_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/server"
	"github.com/convo-sdk/convo/server/servertest"
	"github.com/convo-sdk/convo/wire"
)

func i64(v int64) *int64 { return &v }

// settle reads and discards the next n events, so a test continues from a known position.
func settle(t *testing.T, c *servertest.Client, n int) {
	t.Helper()
	_, err := c.Events(ctxT(t), n)
	require.NoError(t, err)
}

func TestConversationUpdatePerRecipient(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t)
	alice := env.Connect(ctx, "alice")
	bob := env.Connect(ctx, "bob")
	carol := env.Connect(ctx, "carol")
	conv := room(t, ctx, alice, "bob")
	settle(t, alice, 3)
	settle(t, bob, 2)
	var sent wire.Message
	require.NoError(t, alice.Call(ctx, wire.OpMessageSend, wire.SendMessageArgs{ConversationSid: conv.Sid, Body: str("hi")}, &sent))
	settle(t, alice, 1)
	settle(t, bob, 1)
	// Alice mutes and reads: her view differs from bob's.
	require.NoError(t, alice.Call(ctx, wire.OpConversationNotify, wire.NotificationLevelArgs{ConversationSid: conv.Sid, Level: wire.NotificationMuted}, nil))
	require.NoError(t, alice.Call(ctx, wire.OpConversationRead, wire.ReadArgs{ConversationSid: conv.Sid, Mode: wire.ReadAll}, nil))
	settle(t, alice, 3) // conversationUpdated(notificationLevel), conversationUpdated(lastRead), participantUpdated
	settle(t, bob, 1)   // participantUpdated only

	// Non-participants may not update.
	assert.Equal(t, wire.CodeForbidden, code(t, carol.Call(ctx, wire.OpConversationUpdate, wire.UpdateConversationArgs{ConversationSid: conv.Sid, FriendlyName: str("x")}, nil)))

	// Only the creator may change the unique name.
	assert.Equal(t, wire.CodeForbidden, code(t, bob.Call(ctx, wire.OpConversationUpdate, wire.UpdateConversationArgs{ConversationSid: conv.Sid, UniqueName: str("uniq")}, nil)))
	require.NoError(t, alice.Call(ctx, wire.OpConversationUpdate, wire.UpdateConversationArgs{ConversationSid: conv.Sid, UniqueName: str("uniq")}, nil))
	settle(t, alice, 1)
	settle(t, bob, 1)

	var got wire.Conversation
	require.NoError(t, bob.Call(ctx, wire.OpConversationUpdate, wire.UpdateConversationArgs{ConversationSid: conv.Sid,
		FriendlyName: str("New"), Attributes: wire.RawJSON(`{"a":1}`)}, &got))
	assert.Equal(t, "New", got.FriendlyName)
	assert.Equal(t, "uniq", got.UniqueName)
	assert.True(t, got.Joined)
	assert.Equal(t, wire.NotificationDefault, got.NotificationLevel)
	assert.Nil(t, got.LastReadMessageIndex)

	fa, err := alice.WaitEvent(ctx, wire.EventConversationUpdated)
	require.NoError(t, err)
	ea := decode[wire.ConversationUpdatedEvent](t, fa)
	assert.Equal(t, []string{wire.ReasonFriendlyName, wire.ReasonAttributes, wire.ReasonDateUpdated}, ea.UpdateReasons)
	assert.Equal(t, "New", ea.Conversation.FriendlyName)
	assert.True(t, ea.Conversation.Joined)
	assert.Equal(t, wire.NotificationMuted, ea.Conversation.NotificationLevel)
	require.NotNil(t, ea.Conversation.LastReadMessageIndex)
	assert.EqualValues(t, sent.Index, *ea.Conversation.LastReadMessageIndex)

	fb, err := bob.WaitEvent(ctx, wire.EventConversationUpdated)
	require.NoError(t, err)
	eb := decode[wire.ConversationUpdatedEvent](t, fb)
	assert.Equal(t, ea.UpdateReasons, eb.UpdateReasons)
	assert.True(t, eb.Conversation.Joined)
	assert.Equal(t, wire.NotificationDefault, eb.Conversation.NotificationLevel)
	assert.Nil(t, eb.Conversation.LastReadMessageIndex)

	// Only what changed is reported; nothing changed, no event.
	require.NoError(t, alice.Call(ctx, wire.OpConversationUpdate, wire.UpdateConversationArgs{ConversationSid: conv.Sid, FriendlyName: str("New"), Attributes: wire.RawJSON(`{"a":2}`)}, nil))
	fa, err = alice.WaitEvent(ctx, wire.EventConversationUpdated)
	require.NoError(t, err)
	assert.Equal(t, []string{wire.ReasonAttributes, wire.ReasonDateUpdated}, decode[wire.ConversationUpdatedEvent](t, fa).UpdateReasons)

	// Unique name conflict and limits.
	var other wire.Conversation
	require.NoError(t, carol.Call(ctx, wire.OpConversationCreate, wire.CreateConversationArgs{UniqueName: "taken"}, &other))
	assert.Equal(t, wire.CodeConflict, code(t, alice.Call(ctx, wire.OpConversationUpdate, wire.UpdateConversationArgs{ConversationSid: conv.Sid, UniqueName: str("taken")}, nil)))
	assert.Equal(t, wire.CodeTooLarge, code(t, alice.Call(ctx, wire.OpConversationUpdate, wire.UpdateConversationArgs{ConversationSid: conv.Sid, FriendlyName: str(string(make([]rune, 257)))}, nil)))
	big := wire.RawJSON(`{"x":"` + string(repeat('a', wire.MaxConversationAttrsBytes)) + `"}`)
	assert.Equal(t, wire.CodeTooLarge, code(t, alice.Call(ctx, wire.OpConversationUpdate, wire.UpdateConversationArgs{ConversationSid: conv.Sid, Attributes: big}, nil)))

	// get, peek and list carry the caller's own fields.
	require.NoError(t, alice.Call(ctx, wire.OpConversationGet, wire.GetConversationArgs{Sid: conv.Sid}, &got))
	assert.Equal(t, wire.NotificationMuted, got.NotificationLevel)
	require.NotNil(t, got.LastReadMessageIndex)
	var page wire.ConversationPage
	require.NoError(t, alice.Call(ctx, wire.OpConversationList, wire.ListArgs{}, &page))
	require.Len(t, page.Items, 1)
	assert.Equal(t, wire.NotificationMuted, page.Items[0].NotificationLevel)
	require.NotNil(t, page.Items[0].LastReadMessageIndex)
	var bobPage wire.ConversationPage
	require.NoError(t, bob.Call(ctx, wire.OpConversationList, wire.ListArgs{}, &bobPage))
	page = bobPage
	assert.Equal(t, wire.NotificationDefault, page.Items[0].NotificationLevel)
	assert.Nil(t, page.Items[0].LastReadMessageIndex)
	got = wire.Conversation{}
	require.NoError(t, carol.Call(ctx, wire.OpConversationPeek, wire.GetConversationArgs{Sid: conv.Sid}, &got))
	assert.False(t, got.Joined)
	assert.Empty(t, got.NotificationLevel)
}

func repeat(b byte, n int) []byte {
	out := make([]byte, n)
	for i := range out {
		out[i] = b
	}
	return out
}

func TestConversationDelete(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t)
	alice := env.Connect(ctx, "alice")
	bob := env.Connect(ctx, "bob")
	conv := room(t, ctx, alice, "bob")
	settle(t, alice, 3)
	settle(t, bob, 2)
	require.NoError(t, alice.Call(ctx, wire.OpMessageSend, wire.SendMessageArgs{ConversationSid: conv.Sid, Body: str("x")}, nil))
	settle(t, alice, 1)
	settle(t, bob, 1)

	assert.Equal(t, wire.CodeForbidden, code(t, bob.Call(ctx, wire.OpConversationDelete, wire.ConversationRef{ConversationSid: conv.Sid}, nil)), "participants who did not create it may not delete")
	require.NoError(t, alice.Call(ctx, wire.OpConversationDelete, wire.ConversationRef{ConversationSid: conv.Sid}, nil))
	for _, c := range []*servertest.Client{alice, bob} {
		f, err := c.NextEvent(ctx)
		require.NoError(t, err)
		assert.Equal(t, wire.EventConversationRemoved, f.Event)
		assert.Equal(t, conv.Sid, decode[wire.ConversationRefEvent](t, f).ConversationSid)
		assert.Equal(t, wire.CodeNotFound, code(t, c.Call(ctx, wire.OpConversationGet, wire.GetConversationArgs{Sid: conv.Sid}, nil)))
		assert.Equal(t, wire.CodeNotFound, code(t, c.Call(ctx, wire.OpMessageList, wire.ListMessagesArgs{ConversationSid: conv.Sid}, nil)))
	}
	assert.Equal(t, wire.CodeNotFound, code(t, alice.Call(ctx, wire.OpConversationDelete, wire.ConversationRef{ConversationSid: conv.Sid}, nil)))
}

func TestConversationLeave(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t)
	alice := env.Connect(ctx, "alice")
	bob := env.Connect(ctx, "bob")
	carol := env.Connect(ctx, "carol")
	conv := room(t, ctx, alice, "bob")
	settle(t, alice, 3)
	settle(t, bob, 2)
	assert.Equal(t, wire.CodeForbidden, code(t, carol.Call(ctx, wire.OpConversationLeave, wire.ConversationRef{ConversationSid: conv.Sid}, nil)))
	require.NoError(t, bob.Call(ctx, wire.OpConversationLeave, wire.ConversationRef{ConversationSid: conv.Sid}, nil))
	evs, err := bob.Events(ctx, 2)
	require.NoError(t, err)
	assert.Equal(t, wire.EventConversationLeft, evs[0].Event)
	assert.Equal(t, conv.Sid, decode[wire.ConversationRefEvent](t, evs[0]).ConversationSid)
	assert.Equal(t, wire.EventParticipantLeft, evs[1].Event)
	assert.Equal(t, "bob", decode[wire.ParticipantEvent](t, evs[1]).Participant.Identity)
	f, err := alice.NextEvent(ctx)
	require.NoError(t, err)
	assert.Equal(t, wire.EventParticipantLeft, f.Event)
	assert.Equal(t, "bob", decode[wire.ParticipantEvent](t, f).Participant.Identity)
	assert.Equal(t, wire.CodeForbidden, code(t, bob.Call(ctx, wire.OpMessageList, wire.ListMessagesArgs{ConversationSid: conv.Sid}, nil)))
}

func TestNotificationLevel(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t)
	alice := env.Connect(ctx, "alice")
	bob := env.Connect(ctx, "bob")
	carol := env.Connect(ctx, "carol")
	conv := room(t, ctx, alice, "bob")
	settle(t, alice, 3)
	settle(t, bob, 2)
	assert.Equal(t, wire.CodeBadRequest, code(t, alice.Call(ctx, wire.OpConversationNotify, wire.NotificationLevelArgs{ConversationSid: conv.Sid, Level: "loud"}, nil)))
	assert.Equal(t, wire.CodeForbidden, code(t, carol.Call(ctx, wire.OpConversationNotify, wire.NotificationLevelArgs{ConversationSid: conv.Sid, Level: wire.NotificationMuted}, nil)))
	var got wire.Conversation
	require.NoError(t, bob.Call(ctx, wire.OpConversationNotify, wire.NotificationLevelArgs{ConversationSid: conv.Sid, Level: wire.NotificationMuted}, &got))
	assert.Equal(t, wire.NotificationMuted, got.NotificationLevel)
	f, err := bob.NextEvent(ctx)
	require.NoError(t, err)
	e := decode[wire.ConversationUpdatedEvent](t, f)
	assert.Equal(t, wire.EventConversationUpdated, f.Event)
	assert.Equal(t, []string{wire.ReasonNotificationLevel}, e.UpdateReasons)
	assert.Equal(t, wire.NotificationMuted, e.Conversation.NotificationLevel)
	assert.True(t, e.Conversation.Joined)
	// Alice hears nothing: her next event is the one she causes now.
	require.NoError(t, alice.Call(ctx, wire.OpMessageSend, wire.SendMessageArgs{ConversationSid: conv.Sid, Body: str("x")}, nil))
	f, err = alice.NextEvent(ctx)
	require.NoError(t, err)
	assert.Equal(t, wire.EventMessageAdded, f.Event)
}

func TestReadHorizon(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t)
	alice := env.Connect(ctx, "alice")
	bob := env.Connect(ctx, "bob")
	carol := env.Connect(ctx, "carol")
	conv := room(t, ctx, alice, "bob")
	for i := range 5 {
		require.NoError(t, alice.Call(ctx, wire.OpMessageSend, wire.SendMessageArgs{ConversationSid: conv.Sid, Body: str(string(rune('a' + i)))}, nil))
	}
	settle(t, alice, 3+5)
	settle(t, bob, 2+5)

	var counts wire.Counts
	require.NoError(t, bob.Call(ctx, wire.OpConversationCounts, wire.ConversationRef{ConversationSid: conv.Sid}, &counts))
	assert.Equal(t, wire.Counts{Messages: 5, Participants: 2}, counts, "unread is null while the horizon is unset")
	assert.Equal(t, wire.CodeForbidden, code(t, carol.Call(ctx, wire.OpConversationCounts, wire.ConversationRef{ConversationSid: conv.Sid}, nil)))
	assert.Equal(t, wire.CodeForbidden, code(t, carol.Call(ctx, wire.OpConversationRead, wire.ReadArgs{ConversationSid: conv.Sid, Mode: wire.ReadAll}, nil)))
	assert.Equal(t, wire.CodeBadRequest, code(t, bob.Call(ctx, wire.OpConversationRead, wire.ReadArgs{ConversationSid: conv.Sid, Mode: "most"}, nil)))
	assert.Equal(t, wire.CodeBadRequest, code(t, bob.Call(ctx, wire.OpConversationRead, wire.ReadArgs{ConversationSid: conv.Sid, Mode: wire.ReadAdvance}, nil)))

	var res wire.ReadResult
	require.NoError(t, bob.Call(ctx, wire.OpConversationRead, wire.ReadArgs{ConversationSid: conv.Sid, Mode: wire.ReadSet, Index: i64(2)}, &res))
	assert.Equal(t, wire.ReadResult{LastReadMessageIndex: i64(2), UnreadCount: i64(2)}, res)
	evs, err := bob.Events(ctx, 2)
	require.NoError(t, err)
	assert.Equal(t, wire.EventConversationUpdated, evs[0].Event)
	cu := decode[wire.ConversationUpdatedEvent](t, evs[0])
	assert.Equal(t, []string{wire.ReasonLastReadMessageIndex}, cu.UpdateReasons)
	assert.Equal(t, i64(2), cu.Conversation.LastReadMessageIndex)
	assert.Equal(t, wire.EventParticipantUpdated, evs[1].Event)
	pu := decode[wire.ParticipantUpdatedEvent](t, evs[1])
	assert.Equal(t, []string{wire.ReasonLastReadMessageIndex, wire.ReasonLastReadTimestamp}, pu.UpdateReasons)
	assert.Equal(t, "bob", pu.Participant.Identity)
	assert.Equal(t, i64(2), pu.Participant.LastReadMessageIndex)
	require.NotNil(t, pu.Participant.LastReadTimestamp)
	assert.WithinDuration(t, time.Now(), *pu.Participant.LastReadTimestamp, 5*time.Second)
	// Alice sees bob's participantUpdated, not his conversationUpdated.
	f, err := alice.NextEvent(ctx)
	require.NoError(t, err)
	assert.Equal(t, wire.EventParticipantUpdated, f.Event)
	assert.Equal(t, "bob", decode[wire.ParticipantUpdatedEvent](t, f).Participant.Identity)

	// Advance never moves back, and an unchanged horizon emits nothing.
	require.NoError(t, bob.Call(ctx, wire.OpConversationRead, wire.ReadArgs{ConversationSid: conv.Sid, Mode: wire.ReadAdvance, Index: i64(1)}, &res))
	assert.Equal(t, wire.ReadResult{LastReadMessageIndex: i64(2), UnreadCount: i64(2)}, res)
	require.NoError(t, bob.Call(ctx, wire.OpConversationRead, wire.ReadArgs{ConversationSid: conv.Sid, Mode: wire.ReadAdvance, Index: i64(3)}, &res))
	assert.Equal(t, wire.ReadResult{LastReadMessageIndex: i64(3), UnreadCount: i64(1)}, res)
	f, err = bob.NextEvent(ctx)
	require.NoError(t, err)
	assert.Equal(t, i64(3), decode[wire.ConversationUpdatedEvent](t, f).Conversation.LastReadMessageIndex, "the first event after the no-op is the advance to 3")
	settle(t, bob, 1)
	require.NoError(t, bob.Call(ctx, wire.OpConversationRead, wire.ReadArgs{ConversationSid: conv.Sid, Mode: wire.ReadAll}, &res))
	assert.Equal(t, wire.ReadResult{LastReadMessageIndex: i64(4), UnreadCount: i64(0)}, res)
	require.NoError(t, bob.Call(ctx, wire.OpConversationCounts, wire.ConversationRef{ConversationSid: conv.Sid}, &counts))
	assert.Equal(t, i64(0), counts.Unread)
	require.NoError(t, bob.Call(ctx, wire.OpConversationRead, wire.ReadArgs{ConversationSid: conv.Sid, Mode: wire.ReadNone}, &res))
	assert.Equal(t, wire.ReadResult{}, res)
	require.NoError(t, bob.Call(ctx, wire.OpConversationRead, wire.ReadArgs{ConversationSid: conv.Sid, Mode: wire.ReadSet, Index: i64(0)}, &res))
	assert.Equal(t, wire.ReadResult{LastReadMessageIndex: i64(0), UnreadCount: i64(4)}, res)
	require.NoError(t, bob.Call(ctx, wire.OpConversationRead, wire.ReadArgs{ConversationSid: conv.Sid, Mode: wire.ReadSet}, &res))
	assert.Equal(t, wire.ReadResult{}, res, "set without an index clears the horizon")
	require.NoError(t, bob.Call(ctx, wire.OpConversationCounts, wire.ConversationRef{ConversationSid: conv.Sid}, &counts))
	assert.Nil(t, counts.Unread)
}

func TestTypingSignal(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t)
	alice := env.Connect(ctx, "alice")
	bob := env.Connect(ctx, "bob")
	carol := env.Connect(ctx, "carol")
	conv := room(t, ctx, alice, "bob")
	settle(t, alice, 3)
	settle(t, bob, 2)
	assert.Equal(t, wire.CodeForbidden, code(t, carol.Call(ctx, wire.OpConversationTyping, wire.ConversationRef{ConversationSid: conv.Sid}, nil)))

	require.NoError(t, alice.Call(ctx, wire.OpConversationTyping, wire.ConversationRef{ConversationSid: conv.Sid}, nil))
	f, err := bob.NextSignal(ctx)
	require.NoError(t, err)
	assert.Equal(t, wire.SignalTyping, f.Event)
	assert.Zero(t, f.Offset, "signals have no offset")
	ts := decode[wire.TypingSignal](t, f)
	assert.Equal(t, conv.Sid, ts.ConversationSid)
	assert.Equal(t, "alice", ts.Identity)
	assert.Regexp(t, `^MB`, ts.ParticipantSid)

	// Throttled: succeeds, signals nothing.
	require.NoError(t, alice.Call(ctx, wire.OpConversationTyping, wire.ConversationRef{ConversationSid: conv.Sid}, nil))
	require.NoError(t, bob.Call(ctx, wire.OpConversationCounts, wire.ConversationRef{ConversationSid: conv.Sid}, nil))
	require.NoError(t, bob.Call(ctx, wire.OpConversationCounts, wire.ConversationRef{ConversationSid: conv.Sid}, nil))
	assert.Empty(t, bob.Signals)
	assert.Empty(t, alice.Signals, "the typist gets no signal")

	// Bob is throttled separately; alice gets his signal.
	require.NoError(t, bob.Call(ctx, wire.OpConversationTyping, wire.ConversationRef{ConversationSid: conv.Sid}, nil))
	f, err = alice.NextSignal(ctx)
	require.NoError(t, err)
	assert.Equal(t, "bob", decode[wire.TypingSignal](t, f).Identity)

	// Typing is never replayed: bob resumes after a gap and gets only the events.
	head := bob.Welcome
	offset := uint64(2)
	bob.Close()
	require.NoError(t, alice.Call(ctx, wire.OpMessageSend, wire.SendMessageArgs{ConversationSid: conv.Sid, Body: str("x")}, nil))
	b2, err := servertest.Dial(ctx, env.URL, env.Token("bob", time.Hour), &wire.Resume{Epoch: head.Epoch, Offset: offset})
	require.NoError(t, err)
	defer b2.Close()
	assert.True(t, b2.Welcome.Resumed)
	f, err = b2.NextEvent(ctx)
	require.NoError(t, err)
	assert.Equal(t, wire.EventMessageAdded, f.Event)
	require.NoError(t, b2.Call(ctx, wire.OpConversationCounts, wire.ConversationRef{ConversationSid: conv.Sid}, nil))
	assert.Empty(t, b2.Signals)
}

// Only the creator (or the admin API) may change or clear a conversation's unique name;
// other participants still change the other fields.
func TestUniqueNameCreatorOnly(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t)
	adm := env.Admin(t)
	alice := env.Connect(ctx, "alice") // creator
	bob := env.Connect(ctx, "bob")
	var conv wire.Conversation
	require.NoError(t, alice.Call(ctx, wire.OpConversationCreate, wire.CreateConversationArgs{UniqueName: "support"}, &conv))
	require.NoError(t, alice.Call(ctx, wire.OpParticipantAdd, wire.AddParticipantArgs{ConversationSid: conv.Sid, Identity: "bob"}, nil))
	update := func(c *servertest.Client, args wire.UpdateConversationArgs, out *wire.Conversation) error {
		args.ConversationSid = conv.Sid
		return c.Call(ctx, wire.OpConversationUpdate, args, out)
	}
	assert.Equal(t, wire.CodeForbidden, code(t, update(bob, wire.UpdateConversationArgs{UniqueName: str("mine")}, nil)))
	assert.Equal(t, wire.CodeForbidden, code(t, update(bob, wire.UpdateConversationArgs{UniqueName: str("")}, nil)), "clearing")
	assert.Equal(t, wire.CodeForbidden, code(t, update(bob, wire.UpdateConversationArgs{FriendlyName: str("x"), UniqueName: str("mine")}, nil)), "nothing is applied")
	var got wire.Conversation
	require.NoError(t, update(bob, wire.UpdateConversationArgs{FriendlyName: str("Help")}, &got))
	assert.Equal(t, "Help", got.FriendlyName)
	assert.Equal(t, "support", got.UniqueName)

	require.NoError(t, update(alice, wire.UpdateConversationArgs{UniqueName: str("support-2")}, &got))
	assert.Equal(t, "support-2", got.UniqueName)
	var byAdmin wire.Conversation
	adm.Do("PATCH", "/conversations/"+conv.Sid, map[string]any{"uniqueName": "support-3"}, &byAdmin)
	assert.Equal(t, "support-3", byAdmin.UniqueName)
	got = wire.Conversation{}
	require.NoError(t, update(alice, wire.UpdateConversationArgs{UniqueName: str("")}, &got))
	assert.Equal(t, conv.Sid, got.Sid)
	assert.Empty(t, got.UniqueName)
}

func TestConversationStateTimers(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t, servertest.Options{Configure: func(c *server.Config) { c.StateInterval = 20 * time.Millisecond }})
	alice := env.Connect(ctx, "alice")
	bob := env.Connect(ctx, "bob")
	conv := room(t, ctx, alice, "bob")
	settle(t, alice, 3)
	settle(t, bob, 2)
	require.Nil(t, conv.State)

	require.NoError(t, env.Store.SetConversationTimers(ctx, conv.Sid, 100*time.Millisecond, time.Hour))
	for _, c := range []*servertest.Client{alice, bob} {
		f, err := c.NextEvent(ctx)
		require.NoError(t, err)
		e := decode[wire.ConversationUpdatedEvent](t, f)
		assert.Equal(t, []string{wire.ReasonState}, e.UpdateReasons)
		require.NotNil(t, e.Conversation.State)
		assert.Equal(t, wire.StateInactive, e.Conversation.State.Current)
		assert.True(t, e.Conversation.Joined)
	}
	// A message wakes it up. The inactivity timer is lengthened first: left at 100 ms it could
	// make the conversation inactive again before the closing below, however slow the test.
	require.NoError(t, env.Store.SetConversationTimers(ctx, conv.Sid, time.Hour, time.Hour))
	require.NoError(t, bob.Call(ctx, wire.OpMessageSend, wire.SendMessageArgs{ConversationSid: conv.Sid, Body: str("wake")}, nil))
	evs, err := alice.Events(ctx, 2)
	require.NoError(t, err)
	assert.Equal(t, wire.EventMessageAdded, evs[0].Event)
	e := decode[wire.ConversationUpdatedEvent](t, evs[1])
	assert.Equal(t, wire.StateActive, e.Conversation.State.Current)

	require.NoError(t, env.Store.SetConversationTimers(ctx, conv.Sid, 0, 50*time.Millisecond))
	f, err := alice.WaitEvent(ctx, wire.EventConversationUpdated)
	require.NoError(t, err)
	assert.Equal(t, wire.StateClosed, decode[wire.ConversationUpdatedEvent](t, f).Conversation.State.Current)
	err = alice.Call(ctx, wire.OpMessageSend, wire.SendMessageArgs{ConversationSid: conv.Sid, Body: str("late")}, nil)
	assert.Equal(t, wire.CodeForbidden, code(t, err))
	assert.Contains(t, err.Error(), "closed")
}
