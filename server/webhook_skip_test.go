package server_test

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/server/servertest"
	"github.com/convo-sdk/convo/wire"
)

// An event the dispatcher cannot convert (a malformed row in the events log) is skipped
// after a few attempts, logged without secrets and counted; the webhooks after it flow.
func TestWebhookSkipsAnEventItCannotConvert(t *testing.T) {
	ctx := ctxT(t)
	h := newHook(t)
	var logs syncBuffer
	env := startWithHook(t, h, servertest.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	alice := env.Connect(ctx, "alice")
	var conv wire.Conversation
	require.NoError(t, alice.Call(ctx, wire.OpConversationCreate, wire.CreateConversationArgs{FriendlyName: "before"}, &conv))
	h.waitN("conversation.added", 1)

	res, err := db(t, env).ExecContext(ctx, `INSERT INTO events (name, payload, webhook_only) VALUES (?, ?, 1)`,
		wire.EventMessageAdded, `{"message": "not an object"}`)
	require.NoError(t, err)
	bad, err := res.LastInsertId()
	require.NoError(t, err)

	require.NoError(t, alice.Call(ctx, wire.OpConversationJoin, wire.ConversationRef{ConversationSid: conv.Sid}, nil))
	require.NoError(t, alice.Call(ctx, wire.OpMessageSend, wire.SendMessageArgs{ConversationSid: conv.Sid, Body: str("after")}, nil))
	got := h.waitN("message.added", 1)
	assert.Equal(t, "after", *webhookData[struct{ Message wire.Message }](t, got[0]).Message.Body)
	h.waitN("participant.added", 1)

	out := logs.String()
	assert.Contains(t, out, "skipping an event the webhooks cannot convert")
	assert.Contains(t, out, fmt.Sprintf("event=%d", bad))
	assert.NotContains(t, out, webhookSecret)
	assert.NotContains(t, out, "not an object", "the payload is not logged")
	st, text := scrape(t, env.HTTPURL, "", "")
	require.Equal(t, 200, st)
	assert.GreaterOrEqual(t, metricValue(t, text, `convo_errors_total{component="webhook"}`), 1.0)
	assert.Equal(t, 1, strings.Count(out, "skipping an event"), "skipped once")
}
