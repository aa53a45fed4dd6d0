package server_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/server"
	"github.com/convo-sdk/convo/server/auth"
	"github.com/convo-sdk/convo/server/servertest"
	"github.com/convo-sdk/convo/wire"
)

func scrape(t *testing.T, url, id, secret string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctxT(t), "GET", url+"/metrics", nil)
	require.NoError(t, err)
	if id != "" {
		req.SetBasicAuth(id, secret)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// metricValue finds one sample, e.g. `convo_requests_total{code="0",op="message.send"}`.
func metricValue(t *testing.T, text, series string) float64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(text)
	if m == nil {
		return 0
	}
	v, err := strconv.ParseFloat(m[1], 64)
	require.NoError(t, err)
	return v
}

func TestMetricsProtected(t *testing.T) {
	open := servertest.Start(t)
	st, body := scrape(t, open.HTTPURL, "", "")
	assert.Equal(t, 200, st, "loopback clients may scrape")
	assert.Contains(t, body, "convo_connections")

	env := servertest.Start(t, servertest.Options{Configure: func(c *server.Config) { c.MetricsAuthOnly = true }})
	st, _ = scrape(t, env.HTTPURL, "", "")
	assert.Equal(t, 401, st)
	st, _ = scrape(t, env.HTTPURL, env.Key.ID, "wrong-secret-wrong-secret")
	assert.Equal(t, 401, st)
	st, _ = scrape(t, env.HTTPURL, "nokey", env.Key.Secret)
	assert.Equal(t, 401, st)
	st, body = scrape(t, env.HTTPURL, env.Key.ID, env.Key.Secret)
	assert.Equal(t, 200, st)
	assert.Contains(t, body, "convo_webhook_pending")

	off := servertest.Start(t, servertest.Options{Configure: func(c *server.Config) { c.DisableMetrics = true }})
	st, _ = scrape(t, off.HTTPURL, off.Key.ID, off.Key.Secret)
	assert.NotEqual(t, 200, st)
}

func TestMetricsCount(t *testing.T) {
	ctx := ctxT(t)
	hk := newHook(t)
	env := startWithHook(t, hk)
	alice := env.Connect(ctx, "alice")
	bob := env.Connect(ctx, "bob")
	conv := room(t, ctx, alice, "bob")
	require.NoError(t, alice.Call(ctx, wire.OpMessageSend, wire.SendMessageArgs{ConversationSid: conv.Sid, Body: str("m")}, nil))
	_, err := bob.WaitEvent(ctx, wire.EventMessageAdded)
	require.NoError(t, err)
	require.Error(t, alice.Call(ctx, wire.OpMessageSend, wire.SendMessageArgs{ConversationSid: "CHnope", Body: str("m")}, nil))
	newAdmin(t, env).do("GET", "/conversations", nil, nil)
	newAdmin(t, env).fail("GET", "/conversations/CHnope", nil, 404, wire.CodeNotFound)
	hk.waitN(server.WebhookMessageAdded, 1)

	var body string
	require.Eventually(t, func() bool {
		_, body = scrape(t, env.HTTPURL, "", "")
		return metricValue(t, body, `convo_webhook_deliveries_total{result="success"}`) >= 1
	}, 15*time.Second, 20*time.Millisecond)
	assert.Equal(t, 2.0, metricValue(t, body, `convo_connections`))
	assert.Equal(t, 1.0, metricValue(t, body, `convo_requests_total{code="0",op="message.send"}`))
	assert.Equal(t, 1.0, metricValue(t, body, `convo_requests_total{code="40400",op="message.send"}`))
	assert.Equal(t, 1.0, metricValue(t, body, `convo_requests_total{code="0",op="conversation.create"}`))
	assert.GreaterOrEqual(t, metricValue(t, body, `convo_frames_received_total{type="req"}`), 5.0)
	assert.GreaterOrEqual(t, metricValue(t, body, `convo_frames_sent_total{type="event"}`), 4.0)
	assert.GreaterOrEqual(t, metricValue(t, body, `convo_frames_sent_total{type="welcome"}`), 2.0)
	assert.GreaterOrEqual(t, metricValue(t, body, `convo_fanout_latency_seconds_count`), 1.0)
	assert.Equal(t, 1.0, metricValue(t, body, `convo_admin_requests_total{method="GET",route="/conversations",status="200"}`))
	assert.Equal(t, 1.0, metricValue(t, body, `convo_admin_requests_total{method="GET",route="/conversations/{conv}",status="404"}`))
	assert.Contains(t, body, "convo_request_duration_seconds_bucket")

	alice.Close()
	require.Eventually(t, func() bool {
		_, body = scrape(t, env.HTTPURL, "", "")
		return metricValue(t, body, `convo_connections`) == 1
	}, 15*time.Second, 20*time.Millisecond)
}

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestNoSecretsInLogs runs a scenario touching every credential the server sees and checks
// that none of them reaches the logs, even at debug level.
func TestNoSecretsInLogs(t *testing.T) {
	ctx := ctxT(t)
	var logs syncBuffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	const hookPassword = "hook-basic-password-123"
	var fail sync.Once
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status := 204
		fail.Do(func() { status = 500 }) // one failure, so the retry path logs too
		w.WriteHeader(status)
	}))
	t.Cleanup(hook.Close) // after the server, which cleans up later-registered, stops
	hookURL := strings.Replace(hook.URL, "http://", "http://hookuser:"+hookPassword+"@", 1)
	env := servertest.Start(t, servertest.Options{Logger: log, Configure: func(c *server.Config) {
		c.WebhookURL, c.WebhookSecret = hookURL, webhookSecret
		c.WebhookPoll, c.WebhookBackoff = 20*time.Millisecond, 20*time.Millisecond
	}})

	// Client tokens: a good one, one signed with a wrong secret, an expired one.
	token := env.Token("alice", time.Hour)
	alice := env.Connect(ctx, "alice")
	_ = alice
	wrongKey := auth.Key{ID: env.Key.ID, Secret: "not-the-secret-0123456789"}
	badToken, err := auth.Mint(wrongKey, "mallory", time.Hour, env.URL)
	require.NoError(t, err)
	_, err = servertest.Dial(ctx, env.URL, badToken, nil)
	require.Error(t, err)
	expired, err := auth.MintAt(env.Key, "old", time.Now().Add(-2*time.Hour), time.Hour, env.URL)
	require.NoError(t, err)
	_, err = servertest.Dial(ctx, env.URL, expired, nil)
	require.Error(t, err)

	// Admin API: good and bad Basic credentials; the webhook fires, fails once, succeeds.
	a := newAdmin(t, env)
	var conv wire.Conversation
	a.do("POST", "/conversations", map[string]any{"friendlyName": "logs"}, &conv)
	bad := &admin{t: t, base: a.base, id: env.Key.ID, secret: wrongKey.Secret}
	bad.fail("GET", "/conversations", nil, 401, wire.CodeTokenInvalid)
	bad = &admin{t: t, base: a.base, id: env.Key.Secret, secret: env.Key.Secret}
	bad.fail("GET", "/conversations", nil, 401, wire.CodeTokenInvalid)
	scrape(t, env.HTTPURL, env.Key.ID, env.Key.Secret)
	require.Eventually(t, func() bool {
		n, err := env.Store.WebhookPending(context.Background())
		return err == nil && n == 0 && strings.Contains(logs.String(), "will retry")
	}, 15*time.Second, 20*time.Millisecond)
	env.Restart()

	out := logs.String()
	require.NotEmpty(t, out)
	for name, secret := range map[string]string{
		"API secret": env.Key.Secret, "wrong secret": wrongKey.Secret,
		"token": token, "bad token": badToken, "expired token": expired,
		"token signature": token[strings.LastIndex(token, ".")+1:],
		"webhook secret":  webhookSecret, "webhook URL password": hookPassword,
		"basic auth header": base64.StdEncoding.EncodeToString([]byte(env.Key.ID + ":" + env.Key.Secret)),
	} {
		assert.NotContains(t, out, secret, "%s leaked into the logs", name)
	}
}
