package server_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/server"
	"github.com/convo-sdk/convo/server/servertest"
	"github.com/convo-sdk/convo/server/webhook"
	"github.com/convo-sdk/convo/wire"
)

func TestMetricsProtected(t *testing.T) {
	open := servertest.Start(t)
	st, body := servertest.Scrape(t, open.HTTPURL, "", "")
	assert.Equal(t, 200, st, "loopback clients may scrape")
	assert.Contains(t, body, "convo_connections")

	env := servertest.Start(t, servertest.Options{Configure: func(c *server.Config) { c.MetricsAuthOnly = true }})
	st, _ = servertest.Scrape(t, env.HTTPURL, "", "")
	assert.Equal(t, 401, st)
	st, _ = servertest.Scrape(t, env.HTTPURL, env.Key.ID, "wrong-secret-wrong-secret")
	assert.Equal(t, 401, st)
	st, _ = servertest.Scrape(t, env.HTTPURL, "nokey", env.Key.Secret)
	assert.Equal(t, 401, st)
	st, body = servertest.Scrape(t, env.HTTPURL, env.Key.ID, env.Key.Secret)
	assert.Equal(t, 200, st)
	assert.Contains(t, body, "convo_webhook_pending")

	off := servertest.Start(t, servertest.Options{Configure: func(c *server.Config) { c.DisableMetrics = true }})
	st, _ = servertest.Scrape(t, off.HTTPURL, off.Key.ID, off.Key.Secret)
	assert.NotEqual(t, 200, st)
}

func TestMetricsCount(t *testing.T) {
	ctx := ctxT(t)
	hk := servertest.NewHook(t)
	env := servertest.StartWithHook(t, hk)
	alice := env.Connect(ctx, "alice")
	bob := env.Connect(ctx, "bob")
	conv := room(t, ctx, alice, "bob")
	require.NoError(t, alice.Call(ctx, wire.OpMessageSend, wire.SendMessageArgs{ConversationSid: conv.Sid, Body: str("m")}, nil))
	_, err := bob.WaitEvent(ctx, wire.EventMessageAdded)
	require.NoError(t, err)
	require.Error(t, alice.Call(ctx, wire.OpMessageSend, wire.SendMessageArgs{ConversationSid: "CHnope", Body: str("m")}, nil))
	env.Admin(t).Do("GET", "/conversations", nil, nil)
	env.Admin(t).Fail("GET", "/conversations/CHnope", nil, 404, wire.CodeNotFound)
	hk.WaitN(webhook.MessageAdded, 1)

	var body string
	require.Eventually(t, func() bool {
		_, body = servertest.Scrape(t, env.HTTPURL, "", "")
		return servertest.MetricValue(t, body, `convo_webhook_deliveries_total{result="success"}`) >= 1
	}, 15*time.Second, 20*time.Millisecond)
	assert.Equal(t, 2.0, servertest.MetricValue(t, body, `convo_connections`))
	assert.Equal(t, 1.0, servertest.MetricValue(t, body, `convo_requests_total{code="0",op="message.send"}`))
	assert.Equal(t, 1.0, servertest.MetricValue(t, body, `convo_requests_total{code="40400",op="message.send"}`))
	assert.Equal(t, 1.0, servertest.MetricValue(t, body, `convo_requests_total{code="0",op="conversation.create"}`))
	assert.GreaterOrEqual(t, servertest.MetricValue(t, body, `convo_frames_received_total{type="req"}`), 5.0)
	assert.GreaterOrEqual(t, servertest.MetricValue(t, body, `convo_frames_sent_total{type="event"}`), 4.0)
	assert.GreaterOrEqual(t, servertest.MetricValue(t, body, `convo_frames_sent_total{type="welcome"}`), 2.0)
	assert.GreaterOrEqual(t, servertest.MetricValue(t, body, `convo_fanout_latency_seconds_count`), 1.0)
	assert.Equal(t, 1.0, servertest.MetricValue(t, body, `convo_admin_requests_total{method="GET",route="/conversations",status="200"}`))
	assert.Equal(t, 1.0, servertest.MetricValue(t, body, `convo_admin_requests_total{method="GET",route="/conversations/{conv}",status="404"}`))
	assert.Contains(t, body, "convo_request_duration_seconds_bucket")

	alice.Close()
	require.Eventually(t, func() bool {
		_, body = servertest.Scrape(t, env.HTTPURL, "", "")
		return servertest.MetricValue(t, body, `convo_connections`) == 1
	}, 15*time.Second, 20*time.Millisecond)
}
