package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/wire"
)

// How this store lays events out in its tables: webhook-only rows, and the variant rows of
// one logical event with per-recipient payloads.

func TestWebhookOnlyRowsAreMarkedAndInNoStream(t *testing.T) {
	ctx := ctxT(t)
	s := open(t, filepath.Join(t.TempDir(), "c.db"), Options{Retention: 1})
	conv := setup(t, s, "alice")
	var name, payload string
	require.NoError(t, s.r.QueryRowContext(ctx, `SELECT name, payload FROM events WHERE webhook_only = 1`).Scan(&name, &payload))
	assert.Equal(t, store.EventConversationCreated, name)
	assert.Contains(t, payload, conv)
	var n int
	require.NoError(t, s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM user_events WHERE event_id IN (SELECT id FROM events WHERE webhook_only = 1)`).Scan(&n))
	assert.Zero(t, n)
}

func TestVariantRowsNameTheirEvent(t *testing.T) {
	ctx := ctxT(t)
	s := open(t, filepath.Join(t.TempDir(), "c.db"), Options{})
	conv := setup(t, s, "alice", "bob", "carol")
	_, _, err := s.SetNotificationLevel(ctx, conv, "alice", wire.NotificationMuted)
	require.NoError(t, err)
	var before int64
	require.NoError(t, s.r.QueryRowContext(ctx, `SELECT MAX(id) FROM events`).Scan(&before))
	name := "x"
	_, _, err = s.UpdateConversation(ctx, store.ConversationUpdate{Sid: conv, FriendlyName: &name})
	require.NoError(t, err)
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
	require.Len(t, ids, 2)
	assert.Nil(t, variants[0])
	require.NotNil(t, variants[1])
	assert.Equal(t, ids[0], *variants[1])
}
