package storetest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/wire"
)

var _ = register(
	test{"EnsureUser", testEnsureUser},
	test{"Retention", testRetention},
	test{"ReopenKeepsData", testReopenKeepsData},
	test{"WebhookOnlyEventsSurvivePruning", testWebhookOnlyEventsSurvivePruning},
	test{"PerRecipientPayloadsStoredOncePerVariant", testPerRecipientVariants},
)

func testEnsureUser(t *testing.T, h *harness) {
	ctx, s := h.begin()
	_, err := s.User(ctx, "alice")
	assert.ErrorIs(t, err, store.ErrNotFound)
	u, err := s.EnsureUser(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, "alice", u.Identity)
	assert.JSONEq(t, `{}`, string(u.Attributes))
	again, err := s.EnsureUser(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, u, again)
	head, err := s.StreamHead(ctx, "alice")
	require.NoError(t, err)
	assert.Len(t, head.Epoch, 16)
	assert.EqualValues(t, 0, head.Last)
	assert.EqualValues(t, 1, head.Oldest)
	assert.True(t, head.CanResume(head.Epoch, 0))

	// StreamHead creates what it needs; each stream has its own epoch.
	bob, err := s.StreamHead(ctx, "bob")
	require.NoError(t, err)
	assert.Len(t, bob.Epoch, 16)
	assert.NotEqual(t, head.Epoch, bob.Epoch)
	_, err = s.User(ctx, "bob")
	require.NoError(t, err)
	evs, err := s.ReadStream(ctx, "nobody", 0, 10)
	require.NoError(t, err)
	assert.Empty(t, evs)

	// A user the admin API or a push registration created before it ever connected.
	_, _, err = s.UpdateUser(ctx, "carol", ptr("Carol"), nil)
	require.NoError(t, err)
	carol, err := s.StreamHead(ctx, "carol")
	require.NoError(t, err)
	assert.Len(t, carol.Epoch, 16)
	assert.EqualValues(t, 0, carol.Last)
}

func testRetention(t *testing.T, h *harness) {
	ctx := ctxT(t)
	s := h.store(Options{Retention: 5})
	c := setup(t, s, "alice") // alice: offsets 1, 2
	for range 8 {
		send(t, s, c.Sid, "alice", "x")
	}
	head, err := s.StreamHead(ctx, "alice")
	require.NoError(t, err)
	assert.EqualValues(t, 10, head.Last)
	assert.EqualValues(t, 6, head.Oldest)
	assert.True(t, head.CanResume(head.Epoch, 5))
	assert.False(t, head.CanResume(head.Epoch, 4), "offset 5 is gone")
	assert.False(t, head.CanResume("other", 9))
	assert.False(t, head.CanResume(head.Epoch, 11), "offset from the future")
	assert.EqualValues(t, 5, prune(t, s), "payloads nobody references any more")
	assert.Zero(t, prune(t, s))
	evs, err := s.ReadStream(ctx, "alice", 0, 100)
	require.NoError(t, err)
	require.Len(t, evs, 5)
	assert.EqualValues(t, 6, evs[0].Offset)
	assert.EqualValues(t, 10, evs[4].Offset)
}

func testReopenKeepsData(t *testing.T, h *harness) {
	ctx, s, c := h.room("alice")
	send(t, s, c.Sid, "alice", "kept")
	h1, err := s.StreamHead(ctx, "alice")
	require.NoError(t, err)
	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "twice is fine")

	for range 2 {
		s = h.store(Options{})
		p, err := s.Messages(ctx, store.MessageQuery{ConversationSid: c.Sid})
		require.NoError(t, err)
		require.Len(t, p.Items, 1)
		assert.Equal(t, "kept", *p.Items[0].Body)
		h2, err := s.StreamHead(ctx, "alice")
		require.NoError(t, err)
		assert.Equal(t, h1, h2, "epoch and offsets survive a restart")
		require.NoError(t, s.Close())
	}
}

func testWebhookOnlyEventsSurvivePruning(t *testing.T, h *harness) {
	ctx := ctxT(t)
	s := h.store(Options{Retention: 1})
	c := setup(t, s, "alice")
	for i := range 3 {
		send(t, s, c.Sid, "alice", string(rune('a'+i)))
	}
	prune(t, s)
	evs, err := s.EventsAfter(ctx, 0, 100)
	require.NoError(t, err)
	var created []store.StoredEvent
	for _, e := range evs {
		if e.Name == store.EventConversationCreated {
			created = append(created, e)
		}
	}
	require.Len(t, created, 1, "kept for the webhook dispatcher: %v", eventNames(evs))
	assert.Contains(t, string(created[0].Payload), c.Sid)
	stream, err := s.ReadStream(ctx, "alice", 0, 100)
	require.NoError(t, err)
	assert.Equal(t, []string{wire.EventMessageAdded}, events(stream), "no stream gets it")
}

func testPerRecipientVariants(t *testing.T, h *harness) {
	ctx, s, c := h.room("alice", "bob", "carol")
	_, _, err := s.SetNotificationLevel(ctx, c.Sid, "alice", wire.NotificationMuted)
	require.NoError(t, err)
	before, err := s.EventsAfter(ctx, 0, 1000)
	require.NoError(t, err)
	require.NotEmpty(t, before)
	_, ds, err := s.UpdateConversation(ctx, store.ConversationUpdate{Sid: c.Sid, FriendlyName: ptr("x")})
	require.NoError(t, err)
	require.Len(t, ds, 3)
	evs, err := s.EventsAfter(ctx, before[len(before)-1].ID, 100)
	require.NoError(t, err)
	require.Len(t, evs, 2, "alice's muted view and the default one shared by bob and carol")
	assert.False(t, evs[0].Variant, "the first row is the event")
	assert.True(t, evs[1].Variant, "the others are its variants")
	assert.Less(t, evs[0].ID, evs[1].ID)
	assert.JSONEq(t, string(ds[0].Payload), string(evs[0].Payload))
	assert.JSONEq(t, string(ds[1].Payload), string(evs[1].Payload))
	assert.Equal(t, ds[1].Payload, ds[2].Payload)
	assert.NotEqual(t, string(ds[0].Payload), string(ds[1].Payload))
}
