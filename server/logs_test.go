package server_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
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

// TestNoSecretsInLogs runs a scenario touching every credential the server sees and checks
// that none of them reaches the logs, even at debug level.
func TestNoSecretsInLogs(t *testing.T) {
	ctx := ctxT(t)
	var logs servertest.LogBuffer
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
		c.WebhookURL, c.WebhookSecret = hookURL, servertest.WebhookSecret
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
	a := env.Admin(t)
	var conv wire.Conversation
	a.Do("POST", "/conversations", map[string]any{"friendlyName": "logs"}, &conv)
	bad := &servertest.Admin{T: t, Base: a.Base, ID: env.Key.ID, Secret: wrongKey.Secret}
	bad.Fail("GET", "/conversations", nil, 401, wire.CodeTokenInvalid)
	bad = &servertest.Admin{T: t, Base: a.Base, ID: env.Key.Secret, Secret: env.Key.Secret}
	bad.Fail("GET", "/conversations", nil, 401, wire.CodeTokenInvalid)
	servertest.Scrape(t, env.HTTPURL, env.Key.ID, env.Key.Secret)
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
		"webhook secret":  servertest.WebhookSecret, "webhook URL password": hookPassword,
		"basic auth header": base64.StdEncoding.EncodeToString([]byte(env.Key.ID + ":" + env.Key.Secret)),
	} {
		assert.NotContains(t, out, secret, "%s leaked into the logs", name)
	}
}

// Client-supplied strings (the hello's client name, a token's kid) reach logs and errors at
// most 128 characters long.
func TestClientStringsClippedInLogs(t *testing.T) {
	ctx := ctxT(t)
	var logs servertest.LogBuffer
	env := servertest.Start(t, servertest.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	b64 := base64.RawURLEncoding.EncodeToString
	kid := strings.Repeat("k", 5000)
	token := b64([]byte(`{"alg":"HS256","typ":"JWT","kid":"`+kid+`"}`)) + "." + b64([]byte(`{"identity":"a","exp":9999999999}`)) + ".c2ln"
	ws, err := servertest.DialRaw(ctx, env.URL)
	require.NoError(t, err)
	defer ws.CloseNow()
	c := &servertest.Client{WS: ws}
	hello, err := json.Marshal(wire.HelloData{Token: token, Client: strings.Repeat("c", 5000)})
	require.NoError(t, err)
	require.NoError(t, c.Send(ctx, &wire.Frame{Type: wire.TypeHello, Data: hello}))
	_, err = c.ReadFrame(ctx)
	require.Equal(t, wire.CodeTokenInvalid, code(t, err))
	assert.Contains(t, err.Error(), strings.Repeat("k", 128)+"…")
	assert.NotContains(t, err.Error(), strings.Repeat("k", 129))

	require.Eventually(t, func() bool { return strings.Contains(logs.String(), "hello refused") }, 10*time.Second, 10*time.Millisecond)
	out := logs.String()
	assert.Contains(t, out, strings.Repeat("c", 128)+"…")
	assert.NotContains(t, out, strings.Repeat("c", 129))
	assert.Contains(t, out, strings.Repeat("k", 128)+"…")
	assert.NotContains(t, out, strings.Repeat("k", 129))
}
