package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/server/servertest"
	"github.com/convo-sdk/convo/wire"
)

// start runs the daemon until the returned stop is called, and returns its base URL.
func start(t *testing.T, args ...string) (string, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, args, pw)
		pw.Close()
	}()
	lines := bufio.NewScanner(pr)
	require.True(t, lines.Scan(), "daemon printed nothing")
	first := lines.Text()
	require.True(t, strings.HasPrefix(first, "convo listening on http://"), first)
	go io.Copy(io.Discard, pr)
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-errc:
			assert.NoError(t, err, "graceful shutdown returns nil")
		case <-time.After(20 * time.Second):
			t.Error("daemon did not stop")
		}
	}
	t.Cleanup(stop)
	return strings.TrimPrefix(first, "convo listening on "), stop
}

func devToken(t *testing.T, ctx context.Context, base, identity string) string {
	req, _ := http.NewRequestWithContext(ctx, "POST", base+"/v1/dev/token", strings.NewReader(`{"identity":"`+identity+`"}`))
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, 200, res.StatusCode)
	var v struct{ Token string }
	require.NoError(t, json.NewDecoder(res.Body).Decode(&v))
	return v.Token
}

func TestDevModeServesAndKeepsItsKey(t *testing.T) {
	t.Setenv("CONVO_API_KEYS", "")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := t.TempDir()
	web := filepath.Join(dir, "web")
	require.NoError(t, os.MkdirAll(web, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(web, "index.html"), []byte("demo page"), 0o644))
	data := filepath.Join(dir, "data")
	args := []string{"--addr", "127.0.0.1:0", "--data", data, "--dev", "--web", web}

	base, stop := start(t, args...)
	res, err := http.Get(base + "/")
	require.NoError(t, err)
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	assert.Equal(t, "demo page", string(b))

	tok := devToken(t, ctx, base, "alice")
	wsURL := "ws" + strings.TrimPrefix(base, "http") + "/v1/ws"
	c, err := servertest.Dial(ctx, wsURL, tok, nil)
	require.NoError(t, err)
	var conv wire.Conversation
	require.NoError(t, c.Call(ctx, wire.OpConversationCreate, wire.CreateConversationArgs{UniqueName: "kept"}, &conv))
	c.Close()

	fi, err := os.Stat(filepath.Join(data, "dev-key.json"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	_, err = os.Stat(filepath.Join(data, "convo.db"))
	require.NoError(t, err)
	stop()

	// A restart keeps the key (old tokens still work) and the data.
	base, _ = start(t, args...)
	wsURL = "ws" + strings.TrimPrefix(base, "http") + "/v1/ws"
	c, err = servertest.Dial(ctx, wsURL, tok, nil)
	require.NoError(t, err)
	defer c.Close()
	var got wire.Conversation
	require.NoError(t, c.Call(ctx, wire.OpConversationGet, wire.GetConversationArgs{UniqueName: "kept"}, &got))
	assert.Equal(t, conv.Sid, got.Sid)
}

func TestRefusesToStartWithoutKeys(t *testing.T) {
	t.Setenv("CONVO_API_KEYS", "")
	err := run(context.Background(), []string{"--addr", "127.0.0.1:0", "--data", t.TempDir()}, io.Discard)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "CONVO_API_KEYS")
}

func TestAPIKeysFromEnv(t *testing.T) {
	t.Setenv("CONVO_API_KEYS", "k1:0123456789abcdef0123")
	base, _ := start(t, "--addr", "127.0.0.1:0", "--data", t.TempDir())
	res, err := http.Get(base + "/healthz")
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, 200, res.StatusCode)
	res, err = http.Post(base+"/v1/dev/token", "application/json", strings.NewReader(`{"identity":"a"}`))
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, 404, res.StatusCode, "no dev tokens outside --dev")
}

func TestLimitFlagsAndEnvironment(t *testing.T) {
	t.Setenv("CONVO_ALLOWED_ORIGINS", "app.example.com, *.example.org")
	t.Setenv("CONVO_RETENTION", "500")
	o, err := parseFlags([]string{"--max-conns-per-identity", "3", "--max-media-bytes", "1024", "--request-rate", "5"})
	require.NoError(t, err)
	assert.Equal(t, []string{"app.example.com", "*.example.org"}, o.allowedOrigins)
	assert.Equal(t, 500, o.retention)
	assert.Equal(t, 3, o.maxConnsPerIdentity)
	assert.EqualValues(t, 1024, o.maxMediaBytes)
	assert.EqualValues(t, 5, o.requestRate)

	_, err = parseFlags([]string{"--retention", "0"})
	assert.ErrorContains(t, err, "must be positive")
	t.Setenv("CONVO_RETENTION", "lots")
	_, err = parseFlags(nil)
	assert.ErrorContains(t, err, "CONVO_RETENTION")
}

func TestDebugAddrServesTheProfilerOnLoopbackOnly(t *testing.T) {
	for _, bad := range []string{"0.0.0.0:6060", ":6060", "example.com:6060", "10.0.0.1:6060", "nonsense"} {
		_, err := parseFlags([]string{"--debug-addr", bad})
		require.Error(t, err, bad)
		assert.Contains(t, err.Error(), "loopback", bad)
	}

	t.Setenv("CONVO_API_KEYS", "k1:0123456789abcdef0123")
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, []string{"--addr", "127.0.0.1:0", "--data", t.TempDir(), "--debug-addr", "127.0.0.1:0"}, pw)
		pw.Close()
	}()
	defer func() {
		cancel()
		select {
		case err := <-errc:
			assert.NoError(t, err)
		case <-time.After(20 * time.Second):
			t.Error("daemon did not stop")
		}
	}()
	lines := bufio.NewScanner(pr)
	require.True(t, lines.Scan())
	base := strings.TrimPrefix(lines.Text(), "convo listening on ")
	require.True(t, lines.Scan())
	debug, ok := strings.CutPrefix(lines.Text(), "convo profiler on ")
	require.True(t, ok, lines.Text())
	go io.Copy(io.Discard, pr)

	res, err := http.Get(debug + "goroutine?debug=1")
	require.NoError(t, err)
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	assert.Equal(t, 200, res.StatusCode)
	assert.Contains(t, string(b), "goroutine profile")

	res, err = http.Get(base + "/debug/pprof/")
	require.NoError(t, err)
	res.Body.Close()
	assert.NotEqual(t, 200, res.StatusCode, "the public listener does not serve the profiler")
}

// --public-origins (and --public-url's origin) name the hosts convod answers for besides IP
// addresses and localhost; a bad origin stops it from starting.
func TestPublicOriginsFlag(t *testing.T) {
	t.Setenv("CONVO_API_KEYS", "k1:0123456789abcdef0123")
	for _, bad := range []string{"chat.example.com", "https://chat.example.com/app", "ftp://x.example"} {
		_, err := parseFlags([]string{"--public-origins", bad})
		assert.ErrorContains(t, err, "--public-origins", bad)
	}
	_, err := parseFlags([]string{"--public-url", "https://chat.example.com/v1/ws"})
	assert.ErrorContains(t, err, "ws:// or wss://")

	t.Setenv("CONVO_PUBLIC_ORIGINS", "https://chat.example.com, https://chat.example.org")
	base, _ := start(t, "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--public-url", "wss://lb.example.net/v1/ws")
	get := func(host string) int {
		req, err := http.NewRequest("GET", base+"/healthz", nil)
		require.NoError(t, err)
		req.Host = host
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		return res.StatusCode
	}
	for _, host := range []string{"chat.example.com", "chat.example.org", "lb.example.net", strings.TrimPrefix(base, "http://"), "localhost:1"} {
		assert.Equal(t, http.StatusOK, get(host), host)
	}
	assert.Equal(t, http.StatusMisdirectedRequest, get("rebind.attacker.example"))
}
