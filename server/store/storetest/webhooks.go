package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/wire"
)

var _ = register(
	test{"PrunerKeepsWhatTheWebhookDispatcherStillNeeds", testPrunerKeepsWebhookEvents},
	test{"WebhookDisabledCursorFollowsHead", testWebhookDisabledCursorFollowsHead},
	test{"WebhookOutbox", testWebhookOutbox},
	test{"WebhookDueClaimsDeliveries", testWebhookDueClaims},
	test{"WebhookDeliveredIDsAreNotQueuedAgain", testWebhookDoneNotQueuedAgain},
)

func delivery(id string, at time.Time) store.WebhookDelivery {
	return store.WebhookDelivery{ID: id, Type: "message.added", Body: wire.RawJSON(`{"id":"` + id + `"}`), NextAttempt: at, Created: at}
}

func testPrunerKeepsWebhookEvents(t *testing.T, h *harness) {
	ctx := ctxT(t)
	s := h.store(Options{Retention: 1})
	cursor, err := s.WebhookStart(ctx, true)
	require.NoError(t, err)
	c := setup(t, s, "alice")
	for range 3 {
		send(t, s, c.Sid, "alice", "m")
	}
	prune(t, s)
	evs, err := s.EventsAfter(ctx, cursor, 100)
	require.NoError(t, err)
	assert.Equal(t, []string{store.EventConversationCreated, wire.EventConversationJoined, wire.EventParticipantJoined,
		wire.EventMessageAdded, wire.EventMessageAdded, wire.EventMessageAdded}, eventNames(evs),
		"retention dropped the stream references, the dispatcher's cursor keeps the rows")
	page, err := s.EventsAfter(ctx, evs[1].ID, 2)
	require.NoError(t, err)
	assert.Equal(t, []string{wire.EventParticipantJoined, wire.EventMessageAdded}, eventNames(page), "after and limit")

	// Once dispatched, the rows no stream needs go, webhook-only ones included, except the
	// newest (so ids never go back).
	last := evs[len(evs)-1].ID
	require.NoError(t, s.WebhookEnqueue(ctx, last, nil))
	prune(t, s)
	left, err := s.EventsAfter(ctx, 0, 100)
	require.NoError(t, err)
	assert.Equal(t, []string{wire.EventMessageAdded}, eventNames(left))
	assert.Equal(t, last, left[0].ID)

	// Restarting enabled keeps the cursor, which never moves back; the next event has a
	// higher id.
	require.NoError(t, s.WebhookEnqueue(ctx, last-1, nil))
	again, err := s.WebhookStart(ctx, true)
	require.NoError(t, err)
	assert.Equal(t, last, again)
	send(t, s, c.Sid, "alice", "n")
	evs, err = s.EventsAfter(ctx, again, 100)
	require.NoError(t, err)
	require.Len(t, evs, 1)
	assert.Greater(t, evs[0].ID, last)
}

func testWebhookDisabledCursorFollowsHead(t *testing.T, h *harness) {
	ctx := ctxT(t)
	s := h.store(Options{Retention: 1})
	c := setup(t, s, "alice", "bob")
	cursor, err := s.WebhookStart(ctx, false)
	require.NoError(t, err)
	evs, err := s.EventsAfter(ctx, cursor, 100)
	require.NoError(t, err)
	assert.Empty(t, evs, "disabled: the cursor is at the head")
	for range 3 {
		send(t, s, c.Sid, "alice", "m")
	}
	_, err = s.CreateConversation(ctx, store.NewConversation{CreatedBy: "x"})
	require.NoError(t, err)
	require.NoError(t, s.WebhookFollowHead(ctx))
	prune(t, s)
	all, err := s.EventsAfter(ctx, 0, 100)
	require.NoError(t, err)
	// Only what streams still reference (retention 1: alice's and bob's newest) and the newest row remain.
	assert.LessOrEqual(t, len(all), 3, eventNames(all))

	// Enabling after a disabled period starts at the head: old events are not sent.
	on, err := s.WebhookStart(ctx, true)
	require.NoError(t, err)
	evs, err = s.EventsAfter(ctx, on, 100)
	require.NoError(t, err)
	assert.Empty(t, evs)
	send(t, s, c.Sid, "bob", "new")
	evs, err = s.EventsAfter(ctx, on, 100)
	require.NoError(t, err)
	assert.Equal(t, []string{wire.EventMessageAdded}, eventNames(evs), "what happens from then on is")
}

func testWebhookOutbox(t *testing.T, h *harness) {
	ctx, s := h.begin()
	now := time.Now()
	require.NoError(t, s.WebhookEnqueue(ctx, 0, []store.WebhookDelivery{delivery("a", now), delivery("b", now.Add(-time.Second))}))
	require.NoError(t, s.WebhookEnqueue(ctx, 0, []store.WebhookDelivery{delivery("a", now)}), "an id already queued is ignored")
	n, err := s.WebhookPending(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	due, err := s.WebhookDue(ctx, now, 10)
	require.NoError(t, err)
	require.Len(t, due, 2)
	assert.Equal(t, "b", due[0].ID, "oldest due first")
	assert.JSONEq(t, `{"id":"a"}`, string(due[1].Body))
	assert.Equal(t, "message.added", due[1].Type)
	assert.Equal(t, now.UnixMilli(), due[1].Created.UnixMilli())
	assert.Zero(t, due[1].Attempts)

	require.NoError(t, s.WebhookRetry(ctx, "a", 1, now.Add(time.Minute)))
	require.NoError(t, s.WebhookDone(ctx, "b"))
	due, err = s.WebhookDue(ctx, now, 10)
	require.NoError(t, err)
	assert.Empty(t, due)
	due, err = s.WebhookDue(ctx, now.Add(2*time.Minute), 10)
	require.NoError(t, err)
	require.Len(t, due, 1)
	assert.Equal(t, 1, due[0].Attempts)
	n, err = s.WebhookPending(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	require.NoError(t, s.WebhookDone(ctx, "nope"), "unknown ids are fine")
}

func testWebhookDueClaims(t *testing.T, h *harness) {
	ctx, s := h.begin()
	now := time.Now()
	require.NoError(t, s.WebhookEnqueue(ctx, 0, []store.WebhookDelivery{delivery("a", now), delivery("b", now), delivery("c", now)}))
	first, err := s.WebhookDue(ctx, now, 2)
	require.NoError(t, err)
	require.Len(t, first, 2)
	rest, err := s.WebhookDue(ctx, now, 10)
	require.NoError(t, err)
	require.Len(t, rest, 1, "what one call handed out is not handed out again while claimed")
	assert.Equal(t, "c", rest[0].ID)
	due, err := s.WebhookDue(ctx, now.Add(store.WebhookClaim-time.Second), 10)
	require.NoError(t, err)
	assert.Empty(t, due)

	// A retry ends the claim at its own time; a dispatcher that died leaves its claim to expire.
	require.NoError(t, s.WebhookRetry(ctx, first[0].ID, 1, now.Add(time.Second)))
	due, err = s.WebhookDue(ctx, now.Add(2*time.Second), 10)
	require.NoError(t, err)
	require.Len(t, due, 1)
	assert.Equal(t, first[0].ID, due[0].ID)
	due, err = s.WebhookDue(ctx, now.Add(store.WebhookClaim+time.Second), 10)
	require.NoError(t, err)
	assert.Len(t, due, 2, "expired claims: %v", due)
	n, err := s.WebhookPending(ctx)
	require.NoError(t, err)
	assert.Equal(t, 3, n, "claimed deliveries are still pending")
}

func testWebhookDoneNotQueuedAgain(t *testing.T, h *harness) {
	ctx := ctxT(t)
	s1, s2 := h.store(Options{}), h.store(Options{})
	now := time.Now()
	require.NoError(t, s1.WebhookEnqueue(ctx, 0, []store.WebhookDelivery{delivery("WD1", now), delivery("WD2", now)}))
	due, err := s1.WebhookDue(ctx, now, 10)
	require.NoError(t, err)
	require.Len(t, due, 2)
	require.NoError(t, s1.WebhookDone(ctx, "WD1"))
	require.NoError(t, s1.WebhookDone(ctx, "WD2"))

	// A second node that read the same events a moment later queues them again: ignored.
	require.NoError(t, s2.WebhookEnqueue(ctx, 0, []store.WebhookDelivery{delivery("WD1", now), delivery("WD2", now), delivery("WD3", now)}))
	due, err = s2.WebhookDue(ctx, now, 10)
	require.NoError(t, err)
	require.Len(t, due, 1)
	assert.Equal(t, "WD3", due[0].ID)
}
