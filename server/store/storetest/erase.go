package storetest

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/wire"
)

var _ = register(test{"RemovalErasesContent", func(t *testing.T, h *harness) {
	_, s := h.begin()
	Erase(t, s)
}})

// Erase puts a marker everywhere a message's content goes (body, attributes, an edit, a
// media filename, pending webhook deliveries), then removes that message, and a whole
// conversation whose messages carry it too, as do its own fields (friendly and unique name,
// attributes, before and after an update) and its participants' attributes (one of them
// removed before). It checks what the store serves: no stream event or webhook delivery
// carries the marker, the earlier events are redacted in place and the removals follow them. It returns the marker, for a store's own test to look for
// in its raw files or tables.
func Erase(t *testing.T, s store.Store) string {
	t.Helper()
	ctx := ctxT(t)
	marker := "gone" + store.NewSid("")
	users := []string{"alice", "bob"}

	// A message, edited once, then removed.
	one := setup(t, s, users...)
	m, _, _, err := s.SendMessage(ctx, store.NewMessage{ConversationSid: one.Sid, Author: "alice",
		Body: ptr("hello " + marker), Attributes: wire.RawJSON(`{"note":"` + marker + `"}`)})
	require.NoError(t, err)
	_, _, err = s.UpdateMessage(ctx, store.MessageUpdate{ConversationSid: one.Sid, Sid: m.Sid,
		Body: ptr("edited " + marker), Attributes: wire.RawJSON(`{"note":"edited ` + marker + `"}`), By: "alice"})
	require.NoError(t, err)
	kept, _ := send(t, s, one.Sid, "bob", "stays")
	enqueueCarrying(t, s, "one", m)

	// A conversation with a message and a media file, its own fields and its participants'
	// attributes marked, then removed whole.
	two, err := s.CreateConversation(ctx, store.NewConversation{FriendlyName: "two " + marker, UniqueName: "u" + marker,
		Attributes: wire.RawJSON(`{"note":"` + marker + `"}`), CreatedBy: "alice"})
	require.NoError(t, err)
	var bob wire.Participant
	for _, id := range append(users, "carol") {
		p, _, err := s.AddParticipant(ctx, store.NewParticipant{ConversationSid: two.Sid, Identity: id,
			Attributes: wire.RawJSON(`{"note":"` + id + " " + marker + `"}`)})
		require.NoError(t, err)
		if id == "bob" {
			bob = p
		}
		if id == "carol" {
			_, _, err = s.RemoveParticipant(ctx, two.Sid, p.Sid, false)
			require.NoError(t, err)
		}
	}
	_, _, err = s.UpdateConversation(ctx, store.ConversationUpdate{Sid: two.Sid, FriendlyName: ptr("renamed " + marker),
		Attributes: wire.RawJSON(`{"note":"updated ` + marker + `"}`)})
	require.NoError(t, err)
	_, _, err = s.UpdateParticipant(ctx, two.Sid, bob.Sid, wire.RawJSON(`{"note":"bob updated `+marker+`"}`))
	require.NoError(t, err)
	enqueueConversation(t, s, "two", two, bob)
	enqueueConversation(t, s, "one", one, wire.Participant{Sid: "MBkept", ConversationSid: one.Sid})
	media := store.MediaRecord{Media: wire.Media{Sid: store.NewSid(store.PrefixMedia), Category: "media",
		Filename: marker + ".txt", ContentType: "text/plain", Size: 1}, Owner: "bob", DateCreated: time.Now()}
	require.NoError(t, s.CreateMedia(ctx, media))
	m2, _, _, err := s.SendMessage(ctx, store.NewMessage{ConversationSid: two.Sid, Author: "bob",
		Body: ptr("in two " + marker), Attributes: wire.RawJSON(`{"note":"` + marker + `"}`), MediaSids: []string{media.Sid}})
	require.NoError(t, err)
	_, _, err = s.UpdateMessage(ctx, store.MessageUpdate{ConversationSid: two.Sid, Sid: m2.Sid,
		Body: ptr("edited in two " + marker), By: "bob"})
	require.NoError(t, err)
	enqueueCarrying(t, s, "two", m2)

	gone, _, err := s.RemoveMessage(ctx, one.Sid, m.Sid)
	require.NoError(t, err)
	assert.Contains(t, *gone.Body, marker, "RemoveMessage returns the message as it was")
	mediaSids, _, err := s.DeleteConversation(ctx, two.Sid)
	require.NoError(t, err)
	assert.Equal(t, []string{media.Sid}, mediaSids)

	for _, id := range append(users, "carol") {
		ds, err := s.ReadStream(ctx, id, 0, 1000)
		require.NoError(t, err)
		redacted := map[string][]string{}
		var removed []string
		for _, d := range ds {
			assert.NotContains(t, string(d.Payload), marker, "%s's %s at %d", id, d.Event, d.Offset)
			switch d.Event {
			case wire.EventConversationJoined, wire.EventConversationUpdated:
				var ev wire.ConversationUpdatedEvent
				require.NoError(t, json.Unmarshal(d.Payload, &ev))
				if ev.Conversation.Sid == two.Sid {
					assert.True(t, ev.Redacted, "%s's %s at %d", id, d.Event, d.Offset)
					assert.Equal(t, wire.Conversation{Sid: two.Sid}, ev.Conversation)
					redacted[two.Sid] = append(redacted[two.Sid], d.Event)
				} else {
					assert.False(t, ev.Redacted, "only the removed conversation's events are redacted")
					assert.Equal(t, "room", ev.Conversation.FriendlyName)
				}
			case wire.EventParticipantJoined, wire.EventParticipantLeft, wire.EventParticipantUpdated:
				var ev wire.ParticipantUpdatedEvent
				require.NoError(t, json.Unmarshal(d.Payload, &ev))
				p := ev.Participant
				if p.ConversationSid == two.Sid {
					assert.True(t, ev.Redacted, "%s's %s at %d", id, d.Event, d.Offset)
					assert.NotEmpty(t, p.Sid)
					assert.NotEmpty(t, p.Identity)
					assert.Equal(t, wire.ParticipantChat, p.Type)
					assert.Empty(t, p.Attributes)
					redacted[two.Sid] = append(redacted[two.Sid], d.Event)
				} else {
					assert.False(t, ev.Redacted, "only the removed conversation's events are redacted")
				}
			case wire.EventMessageAdded, wire.EventMessageUpdated:
				var ev wire.MessageUpdatedEvent
				require.NoError(t, json.Unmarshal(d.Payload, &ev))
				if ev.Redacted {
					assert.Nil(t, ev.Message.Body)
					assert.Empty(t, ev.Message.Attributes)
					assert.Empty(t, ev.Message.Media)
					redacted[ev.Message.Sid] = append(redacted[ev.Message.Sid], d.Event)
				} else {
					assert.Equal(t, kept.Sid, ev.Message.Sid, "only the kept message's events stay whole")
				}
			case wire.EventMessageRemoved:
				var ev wire.MessageEvent
				require.NoError(t, json.Unmarshal(d.Payload, &ev))
				assert.Equal(t, m.Sid, ev.Message.Sid)
				assert.Nil(t, ev.Message.Body, "a removal carries no content")
				removed = append(removed, ev.Message.Sid)
			}
		}
		assert.NotEmpty(t, redacted[two.Sid], id)
		if id == "carol" {
			continue // in conversation two only, and not at its end
		}
		assert.Equal(t, wire.EventConversationRemoved, ds[len(ds)-1].Event, "%s: the removal follows", id)
		assert.Equal(t, []string{wire.EventMessageAdded, wire.EventMessageUpdated}, redacted[m.Sid], id)
		assert.Equal(t, []string{wire.EventMessageAdded, wire.EventMessageUpdated}, redacted[m2.Sid], id)
		assert.Equal(t, []string{m.Sid}, removed, id)
	}
	due, err := s.WebhookDue(ctx, time.Now().Add(time.Hour), 100)
	require.NoError(t, err)
	var left []string
	for _, d := range due {
		assert.NotContains(t, string(d.Body), marker)
		left = append(left, d.ID)
	}
	assert.ElementsMatch(t, []string{"one-removed", "two-removed", "one-conversation.updated", "one-participant.updated"}, left,
		"the deliveries of other events stay")
	n, err := s.WebhookPending(ctx)
	require.NoError(t, err)
	assert.Equal(t, 4, n)
	return marker
}

// enqueueCarrying queues, as the dispatcher would, webhook deliveries of m's content, and
// one about its removal (which carries no content and stays queued).
func enqueueCarrying(t *testing.T, s store.Store, id string, m wire.Message) {
	t.Helper()
	body := func(typ string, m wire.Message) wire.RawJSON {
		b, err := json.Marshal(map[string]any{"type": typ, "data": map[string]any{"conversationSid": m.ConversationSid, "message": m}})
		require.NoError(t, err)
		return b
	}
	now := time.Now()
	var ds []store.WebhookDelivery
	for _, typ := range []string{"message.added", "message.updated", "message.outbound", "push.notification"} {
		ds = append(ds, store.WebhookDelivery{ID: id + "-" + strings.TrimPrefix(typ, "message."), Type: typ, Body: body(typ, m), NextAttempt: now, Created: now})
	}
	ds = append(ds, store.WebhookDelivery{ID: id + "-removed", Type: "message.removed", Body: body("message.removed", m.Redacted()), NextAttempt: now, Created: now})
	require.NoError(t, s.WebhookEnqueue(ctxT(t), 0, ds))
}

// enqueueConversation queues, as the dispatcher would, webhook deliveries of c's and p's
// fields.
func enqueueConversation(t *testing.T, s store.Store, id string, c wire.Conversation, p wire.Participant) {
	t.Helper()
	now := time.Now()
	var ds []store.WebhookDelivery
	add := func(typ string, data any) {
		b, err := json.Marshal(map[string]any{"type": typ, "data": data})
		require.NoError(t, err)
		ds = append(ds, store.WebhookDelivery{ID: id + "-" + typ, Type: typ, Body: b, NextAttempt: now, Created: now})
	}
	add("conversation.added", map[string]any{"conversation": c})
	add("conversation.updated", map[string]any{"conversation": c, "updateReasons": []string{"attributes"}})
	for _, typ := range []string{"participant.added", "participant.updated", "participant.removed"} {
		add(typ, map[string]any{"conversationSid": c.Sid, "participant": p})
	}
	if id == "one" {
		ds = []store.WebhookDelivery{ds[1], ds[3]} // they stay queued: one is not removed
	}
	require.NoError(t, s.WebhookEnqueue(ctxT(t), 0, ds))
}

var _ = register(test{"MessagesByAuthor", func(t *testing.T, h *harness) {
	ctx, s := h.begin()
	one, two := setup(t, s, "alice", "bob"), setup(t, s, "alice", "bob")
	var want []string
	for i := range 5 {
		c := one
		if i%2 == 1 {
			c = two
		}
		m, _ := send(t, s, c.Sid, "alice", "a")
		want = append(want, m.Sid)
		send(t, s, c.Sid, "bob", "b")
	}
	var got []string
	for after := ""; ; {
		ms, err := s.MessagesByAuthor(ctx, "alice", after, 2)
		require.NoError(t, err)
		for _, m := range ms {
			assert.Equal(t, "alice", m.Author)
			assert.Equal(t, "a", *m.Body)
			got = append(got, m.Sid)
		}
		if len(ms) < 2 {
			break
		}
		after = ms[len(ms)-1].Sid
	}
	slices.Sort(want)
	assert.Equal(t, want, got, "every conversation, in sid order")
	ms, err := s.MessagesByAuthor(ctx, "nobody", "", 10)
	require.NoError(t, err)
	assert.Empty(t, ms)
}})

// The dispatcher may read a message's event, then the message is removed, then the
// dispatcher queues what it made of the event: that must not be queued.
var _ = register(test{"WebhookEnqueueSkipsRemovedMessages", func(t *testing.T, h *harness) {
	ctx, s, c := h.room("alice")
	gone, _ := send(t, s, c.Sid, "alice", "gone")
	kept, _ := send(t, s, c.Sid, "alice", "kept")
	_, _, err := s.RemoveMessage(ctx, c.Sid, gone.Sid)
	require.NoError(t, err)
	now := time.Now()
	require.NoError(t, s.WebhookEnqueue(ctx, 0, []store.WebhookDelivery{
		{ID: "gone", Type: "message.added", Body: wire.RawJSON(`{}`), NextAttempt: now, Created: now, MessageSid: gone.Sid},
		{ID: "kept", Type: "message.added", Body: wire.RawJSON(`{}`), NextAttempt: now, Created: now, MessageSid: kept.Sid},
		{ID: "other", Type: "conversation.updated", Body: wire.RawJSON(`{}`), NextAttempt: now, Created: now},
	}))
	due, err := s.WebhookDue(ctx, now.Add(time.Hour), 10)
	require.NoError(t, err)
	var ids []string
	for _, d := range due {
		ids = append(ids, d.ID)
	}
	assert.ElementsMatch(t, []string{"kept", "other"}, ids)
}})

// The same for a conversation removed after the dispatcher read an event of its fields or
// its participants'.
var _ = register(test{"WebhookEnqueueSkipsRemovedConversations", func(t *testing.T, h *harness) {
	ctx, s, gone := h.room("alice")
	kept := setup(t, s, "alice")
	_, _, err := s.DeleteConversation(ctx, gone.Sid)
	require.NoError(t, err)
	now := time.Now()
	require.NoError(t, s.WebhookEnqueue(ctx, 0, []store.WebhookDelivery{
		{ID: "gone", Type: "conversation.updated", Body: wire.RawJSON(`{}`), NextAttempt: now, Created: now, ConversationSid: gone.Sid},
		{ID: "gone-participant", Type: "participant.added", Body: wire.RawJSON(`{}`), NextAttempt: now, Created: now, ConversationSid: gone.Sid},
		{ID: "kept", Type: "conversation.updated", Body: wire.RawJSON(`{}`), NextAttempt: now, Created: now, ConversationSid: kept.Sid},
		{ID: "removal", Type: "conversation.removed", Body: wire.RawJSON(`{}`), NextAttempt: now, Created: now},
	}))
	due, err := s.WebhookDue(ctx, now.Add(time.Hour), 10)
	require.NoError(t, err)
	var ids []string
	for _, d := range due {
		ids = append(ids, d.ID)
	}
	assert.ElementsMatch(t, []string{"kept", "removal"}, ids)
}})
