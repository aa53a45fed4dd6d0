package storetest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/wire"
)

var _ = register(
	test{"LifecycleTimers", testLifecycleTimers},
	test{"SetConversationState", testSetConversationState},
)

// stateOf reads the state a conversationUpdated delivery reports.
func stateOf(t *testing.T, d store.Delivery) string {
	t.Helper()
	require.Equal(t, wire.EventConversationUpdated, d.Event)
	var ev wire.ConversationUpdatedEvent
	require.NoError(t, json.Unmarshal(d.Payload, &ev))
	require.Equal(t, []string{wire.ReasonState}, ev.UpdateReasons)
	require.NotNil(t, ev.Conversation.State)
	return ev.Conversation.State.Current
}

func testLifecycleTimers(t *testing.T, h *harness) {
	ctx, s, c := h.room("alice", "bob")
	idle := setup(t, s, "carol")
	require.NoError(t, s.SetConversationTimers(ctx, c.Sid, time.Hour, 3*time.Hour))
	require.ErrorIs(t, s.SetConversationTimers(ctx, "CHnope", time.Hour, 0), store.ErrNotFound)
	start := time.Now()

	ds, err := s.AdvanceConversationStates(ctx, start.Add(30*time.Minute))
	require.NoError(t, err)
	assert.Empty(t, ds, "not yet")
	ds, err = s.AdvanceConversationStates(ctx, start.Add(time.Hour+time.Minute))
	require.NoError(t, err)
	require.Len(t, ds, 2)
	assert.Equal(t, []string{"alice", "bob"}, recipients(ds))
	assert.Equal(t, wire.StateInactive, stateOf(t, ds[0]))
	ds, err = s.AdvanceConversationStates(ctx, start.Add(time.Hour+2*time.Minute))
	require.NoError(t, err)
	assert.Empty(t, ds, "each change happens once")
	conv, err := s.Conversation(ctx, c.Sid)
	require.NoError(t, err)
	require.NotNil(t, conv.State)
	assert.Equal(t, wire.StateInactive, conv.State.Current)
	other, err := s.Conversation(ctx, idle.Sid)
	require.NoError(t, err)
	assert.Nil(t, other.State, "no timers, no change")

	// A message wakes an inactive conversation and restarts its timers.
	m, created, ds, err := s.SendMessage(ctx, store.NewMessage{ConversationSid: c.Sid, Author: "alice", Body: ptr("wake")})
	require.NoError(t, err)
	require.True(t, created)
	assert.Equal(t, []string{wire.EventMessageAdded, wire.EventMessageAdded, wire.EventConversationUpdated, wire.EventConversationUpdated}, events(ds))
	assert.Equal(t, wire.StateActive, stateOf(t, ds[2]))
	woke := time.Now()
	ds, err = s.AdvanceConversationStates(ctx, woke.Add(50*time.Minute))
	require.NoError(t, err)
	assert.Empty(t, ds, "the inactivity timer restarted with the message")

	// Past both deadlines at once, closing wins.
	ds, err = s.AdvanceConversationStates(ctx, woke.Add(4*time.Hour))
	require.NoError(t, err)
	require.Len(t, ds, 2)
	assert.Equal(t, wire.StateClosed, stateOf(t, ds[0]))
	_, _, _, err = s.SendMessage(ctx, store.NewMessage{ConversationSid: c.Sid, Author: "alice", Body: ptr("late")})
	assert.ErrorIs(t, err, store.ErrClosed)
	ds, err = s.AdvanceConversationStates(ctx, woke.Add(10*time.Hour))
	require.NoError(t, err)
	assert.Empty(t, ds)
	page, err := s.Messages(ctx, store.MessageQuery{ConversationSid: c.Sid})
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	assert.Equal(t, m.Sid, page.Items[0].Sid)
}

func testSetConversationState(t *testing.T, h *harness) {
	ctx, s, c := h.room("alice", "bob")
	nm := store.NewMessage{ConversationSid: c.Sid, Author: "alice", Body: ptr("first"), IdempotencyKey: "k"}
	first, _, _, err := s.SendMessage(ctx, nm)
	require.NoError(t, err)

	got, ds, err := s.SetConversationState(ctx, c.Sid, wire.StateClosed)
	require.NoError(t, err)
	require.NotNil(t, got.State)
	assert.Equal(t, wire.StateClosed, got.State.Current)
	assert.WithinDuration(t, time.Now(), got.State.DateUpdated, time.Minute)
	require.Len(t, ds, 2)
	assert.Equal(t, wire.StateClosed, stateOf(t, ds[1]))
	_, ds, err = s.SetConversationState(ctx, c.Sid, wire.StateClosed)
	require.NoError(t, err)
	assert.Empty(t, ds, "unchanged: no event")

	// A retried send still finds its message; a new one is refused.
	again, created, ds, err := s.SendMessage(ctx, nm)
	require.NoError(t, err)
	assert.False(t, created)
	assert.Empty(t, ds)
	assert.Equal(t, first.Sid, again.Sid)
	_, _, _, err = s.SendMessage(ctx, store.NewMessage{ConversationSid: c.Sid, Author: "alice", Body: ptr("x"), IdempotencyKey: "other"})
	assert.ErrorIs(t, err, store.ErrClosed)

	// Reopening restarts the timers from now.
	require.NoError(t, s.SetConversationTimers(ctx, c.Sid, time.Hour, 0))
	ds, err = s.AdvanceConversationStates(ctx, time.Now().Add(2*time.Hour))
	require.NoError(t, err)
	assert.Empty(t, ds, "a closed conversation runs no timer")
	_, ds, err = s.SetConversationState(ctx, c.Sid, wire.StateActive)
	require.NoError(t, err)
	assert.Len(t, ds, 2)
	ds, err = s.AdvanceConversationStates(ctx, time.Now().Add(2*time.Hour))
	require.NoError(t, err)
	require.Len(t, ds, 2)
	assert.Equal(t, wire.StateInactive, stateOf(t, ds[0]))
	m, created, _, err := s.SendMessage(ctx, store.NewMessage{ConversationSid: c.Sid, Author: "bob", Body: ptr("back")})
	require.NoError(t, err)
	assert.True(t, created)
	assert.EqualValues(t, 1, m.Index)

	_, _, err = s.SetConversationState(ctx, c.Sid, "asleep")
	assert.Error(t, err)
	_, _, err = s.SetConversationState(ctx, "CHnope", wire.StateClosed)
	assert.ErrorIs(t, err, store.ErrNotFound)
}
