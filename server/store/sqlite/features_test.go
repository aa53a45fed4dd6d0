package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/core/wire"
	"github.com/convo-sdk/convo/server/store"
)

func TestWebhookOnlyEventsSurvivePruning(t *testing.T) {
	ctx := ctxT(t)
	s := open(t, filepath.Join(t.TempDir(), "c.db"), Options{Retention: 1})
	c := setup(t, s, "alice")
	for i := range 3 {
		_, _, _, err := s.SendMessage(ctx, store.NewMessage{ConversationSid: c.Sid, Author: "alice", Body: body(string(rune('a' + i)))})
		require.NoError(t, err)
	}
	_, err := s.PruneEvents(ctx)
	require.NoError(t, err)
	var name, payload string
	require.NoError(t, s.r.QueryRowContext(ctx, `SELECT name, payload FROM events WHERE webhook_only = 1`).Scan(&name, &payload))
	assert.Equal(t, store.EventConversationCreated, name)
	assert.Contains(t, payload, c.Sid)
	var n int
	require.NoError(t, s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM user_events WHERE event_id IN (SELECT id FROM events WHERE webhook_only = 1)`).Scan(&n))
	assert.Zero(t, n, "no stream gets it")
}

func TestPerRecipientPayloadsStoredOncePerVariant(t *testing.T) {
	ctx := ctxT(t)
	s := open(t, filepath.Join(t.TempDir(), "c.db"), Options{})
	c := setup(t, s, "alice", "bob", "carol")
	_, _, err := s.SetNotificationLevel(ctx, c.Sid, "alice", wire.NotificationMuted)
	require.NoError(t, err)
	var before int
	require.NoError(t, s.r.QueryRowContext(ctx, `SELECT MAX(id) FROM events`).Scan(&before))
	_, ds, err := s.UpdateConversation(ctx, store.ConversationUpdate{Sid: c.Sid, FriendlyName: body("x")})
	require.NoError(t, err)
	require.Len(t, ds, 3)
	rows, err := s.r.QueryContext(ctx, `SELECT id, variant_of FROM events WHERE id > ? ORDER BY id`, before)
	require.NoError(t, err)
	defer rows.Close()
	var ids []int64
	var variants []*int64
	for rows.Next() {
		var id int64
		var v *int64
		require.NoError(t, rows.Scan(&id, &v))
		ids, variants = append(ids, id), append(variants, v)
	}
	require.Len(t, ids, 2, "alice's muted view and the default one shared by bob and carol")
	assert.Nil(t, variants[0])
	require.NotNil(t, variants[1])
	assert.Equal(t, ids[0], *variants[1])
	assert.Equal(t, ds[1].Payload, ds[2].Payload)
	assert.NotEqual(t, string(ds[0].Payload), string(ds[1].Payload))
}

func TestPushRegistrationsStore(t *testing.T) {
	ctx := ctxT(t)
	s := open(t, filepath.Join(t.TempDir(), "c.db"), Options{})
	added, err := s.AddPushRegistration(ctx, store.PushRegistration{Identity: "a", ChannelType: wire.PushFCM, RegistrationID: "1"})
	require.NoError(t, err)
	assert.True(t, added)
	added, err = s.AddPushRegistration(ctx, store.PushRegistration{Identity: "a", ChannelType: wire.PushFCM, RegistrationID: "1"})
	require.NoError(t, err)
	assert.False(t, added)
	_, err = s.AddPushRegistration(ctx, store.PushRegistration{Identity: "b", ChannelType: wire.PushAPN, RegistrationID: "2"})
	require.NoError(t, err)
	got, err := s.PushRegistrations(ctx, []string{"a", "b", "c"})
	require.NoError(t, err)
	assert.Equal(t, map[string][]store.PushRegistration{
		"a": {{Identity: "a", ChannelType: wire.PushFCM, RegistrationID: "1"}},
		"b": {{Identity: "b", ChannelType: wire.PushAPN, RegistrationID: "2"}},
	}, got)
	u, err := s.User(ctx, "a")
	require.NoError(t, err)
	assert.True(t, u.IsNotifiable)
	n, err := s.RemovePushRegistrations(ctx, "a", wire.PushFCM, "")
	require.NoError(t, err)
	assert.EqualValues(t, 1, n)
	u, err = s.User(ctx, "a")
	require.NoError(t, err)
	assert.False(t, u.IsNotifiable)
}
