package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/server/webhook"
)

func TestFlagsAndEnvForWebhooksMetricsAndLogs(t *testing.T) {
	t.Setenv("CONVO_WEBHOOK_URL", "https://hooks.example.com/convo")
	t.Setenv("CONVO_WEBHOOK_SECRET", "from-env")
	t.Setenv("CONVO_WEBHOOK_MAX_AGE", "2h")
	t.Setenv("CONVO_METRICS", "false")
	o, err := parseFlags(nil)
	require.NoError(t, err)
	assert.Equal(t, "https://hooks.example.com/convo", o.webhookURL)
	assert.Equal(t, "from-env", o.webhookSecret)
	assert.Equal(t, 2*time.Hour, o.webhookMaxAge)
	assert.False(t, o.metrics)
	o, err = parseFlags([]string{"--webhook-url", "http://127.0.0.1:9/x", "--metrics", "--metrics-auth-only", "--log-format", "json", "--log-level", "debug"})
	require.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:9/x", o.webhookURL)
	assert.True(t, o.metrics && o.metricsAuthOnly)
	_, err = newLogger(o, io.Discard)
	require.NoError(t, err)

	for _, args := range [][]string{
		{"--webhook-url", "ftp://x"}, {"--webhook-url", "not a url"}, {"--log-format", "xml"}, {"--webhook-max-age", "soon"},
	} {
		_, err := parseFlags(args)
		assert.Error(t, err, "%v", args)
	}
	_, err = newLogger(options{logLevel: "loud", logFormat: "text"}, io.Discard)
	assert.Error(t, err)
}

func TestDaemonPostsWebhooksAndServesMetrics(t *testing.T) {
	const key, secret = "k1", "0123456789abcdef0123"
	t.Setenv("CONVO_API_KEYS", key+":"+secret)
	t.Setenv("CONVO_WEBHOOK_SECRET", "hook-secret-hook-secret")
	got := make(chan string, 10)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if webhook.VerifySignature("hook-secret-hook-secret", body, r.Header.Get(webhook.HeaderSignature)) {
			got <- r.Header.Get(webhook.HeaderEvent)
		}
	}))
	defer hook.Close()
	base, _ := start(t, "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--webhook-url", hook.URL)

	req, _ := http.NewRequest("POST", base+"/v1/admin/conversations", strings.NewReader(`{"friendlyName":"x"}`))
	req.SetBasicAuth(key, secret)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, 201, res.StatusCode)
	select {
	case typ := <-got:
		assert.Equal(t, webhook.ConversationAdded, typ)
	case <-time.After(10 * time.Second):
		t.Fatal("no webhook")
	}
	res, err = http.Get(base + "/metrics")
	require.NoError(t, err)
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	assert.Equal(t, 200, res.StatusCode)
	assert.Contains(t, string(b), `convo_admin_requests_total{method="POST",route="/conversations",status="201"} 1`)
}
