package sqlite

import (
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/core/wire"
	"github.com/convo-sdk/convo/server/store"
)

func eventNames(evs []store.StoredEvent) []string {
	var names []string
	for _, e := range evs {
		names = append(names, e.Name)
	}
	return names
}

func TestPrunerKeepsWhatTheWebhookDispatcherStillNeeds(t *testing.T) {
	ctx := ctxT(t)
	s := open(t, filepath.Join(t.TempDir(), "c.db"), Options{Retention: 1})
	cursor, err := s.WebhookStart(ctx, true)
	require.NoError(t, err)
	c := setup(t, s, "alice")
	for range 3 {
		_, _, _, err := s.SendMessage(ctx, store.NewMessage{ConversationSid: c.Sid, Author: "alice", Body: body("m")})
		require.NoError(t, err)
	}
	_, err = s.PruneEvents(ctx)
	require.NoError(t, err)
	evs, err := s.EventsAfter(ctx, cursor, 100)
	require.NoError(t, err)
	assert.Equal(t, []string{store.EventConversationCreated, wire.EventConversationJoined, wire.EventParticipantJoined,
		wire.EventMessageAdded, wire.EventMessageAdded, wire.EventMessageAdded}, eventNames(evs),
		"retention dropped the stream references, the dispatcher's cursor keeps the rows")

	// Once dispatched, the rows no stream needs go, webhook-only ones included, except the
	// newest (so ids never go back).
	last := evs[len(evs)-1].ID
	require.NoError(t, s.WebhookEnqueue(ctx, last, nil))
	_, err = s.PruneEvents(ctx)
	require.NoError(t, err)
	left, err := s.EventsAfter(ctx, 0, 100)
	require.NoError(t, err)
	assert.Equal(t, []string{wire.EventMessageAdded}, eventNames(left))
	assert.Equal(t, last, left[0].ID)

	// Restarting enabled keeps the cursor; the next event has a higher id.
	again, err := s.WebhookStart(ctx, true)
	require.NoError(t, err)
	assert.Equal(t, last, again)
	_, _, _, err = s.SendMessage(ctx, store.NewMessage{ConversationSid: c.Sid, Author: "alice", Body: body("n")})
	require.NoError(t, err)
	evs, err = s.EventsAfter(ctx, again, 100)
	require.NoError(t, err)
	require.Len(t, evs, 1)
	assert.Greater(t, evs[0].ID, last)
}

func TestWebhookDisabledCursorFollowsHead(t *testing.T) {
	ctx := ctxT(t)
	s := open(t, filepath.Join(t.TempDir(), "c.db"), Options{Retention: 1})
	c := setup(t, s, "alice", "bob")
	cursor, err := s.WebhookStart(ctx, false)
	require.NoError(t, err)
	evs, err := s.EventsAfter(ctx, cursor, 100)
	require.NoError(t, err)
	assert.Empty(t, evs, "disabled: the cursor is at the head")
	for range 3 {
		_, _, _, err := s.SendMessage(ctx, store.NewMessage{ConversationSid: c.Sid, Author: "alice", Body: body("m")})
		require.NoError(t, err)
	}
	_, err = s.CreateConversation(ctx, store.NewConversation{CreatedBy: "x"})
	require.NoError(t, err)
	require.NoError(t, s.WebhookFollowHead(ctx))
	_, err = s.PruneEvents(ctx)
	require.NoError(t, err)
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
}

func TestWebhookOutbox(t *testing.T) {
	ctx := ctxT(t)
	s := open(t, filepath.Join(t.TempDir(), "c.db"), Options{})
	now := time.Now()
	d := func(id string, at time.Time) store.WebhookDelivery {
		return store.WebhookDelivery{ID: id, Type: "message.added", Body: json.RawMessage(`{"id":"` + id + `"}`), NextAttempt: at, Created: now}
	}
	require.NoError(t, s.WebhookEnqueue(ctx, 0, []store.WebhookDelivery{d("a", now), d("b", now.Add(-time.Second))}))
	require.NoError(t, s.WebhookEnqueue(ctx, 0, []store.WebhookDelivery{d("a", now)}), "an id already queued is ignored")
	due, err := s.WebhookDue(ctx, now, 10)
	require.NoError(t, err)
	require.Len(t, due, 2)
	assert.Equal(t, "b", due[0].ID, "oldest due first")
	assert.JSONEq(t, `{"id":"a"}`, string(due[1].Body))

	require.NoError(t, s.WebhookRetry(ctx, "a", 1, now.Add(time.Minute)))
	require.NoError(t, s.WebhookDone(ctx, "b"))
	due, err = s.WebhookDue(ctx, now, 10)
	require.NoError(t, err)
	assert.Empty(t, due)
	due, err = s.WebhookDue(ctx, now.Add(2*time.Minute), 10)
	require.NoError(t, err)
	require.Len(t, due, 1)
	assert.Equal(t, 1, due[0].Attempts)
	n, err := s.WebhookPending(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	require.NoError(t, s.Ping(ctx))
}
