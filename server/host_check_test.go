package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/server"
	"github.com/convo-sdk/convo/server/servertest"
	"github.com/convo-sdk/convo/wire"
)

// withHost sends a request to env with the given Host header, as a browser does for a page
// whose DNS name points at the server.
func withHost(t *testing.T, env *servertest.Env, method, path, host string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, env.HTTPURL+path, strings.NewReader("{}"))
	require.NoError(t, err)
	req.Host = host
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, b
}

// Every route refuses a Host that is not the server's (a DNS-rebinding page's) with 421 and
// 42100, and answers its public origins' hosts, IP addresses and localhost, any port.
func TestHostCheckOnEveryRoute(t *testing.T) {
	env := servertest.Start(t, servertest.Options{
		DevTokens: true,
		Static:    fstest.MapFS{"index.html": {Data: []byte("<h1>demo</h1>")}},
		Configure: func(c *server.Config) { c.PublicOrigins = []string{"https://chat.example.com"} },
	})
	port := strings.TrimPrefix(env.HTTPURL, "http://127.0.0.1")
	routes := []struct{ method, path string }{
		{"GET", "/v1/ws"}, {"GET", "/healthz"}, {"GET", "/metrics"}, {"POST", "/v1/dev/token"},
		{"POST", "/v1/media"}, {"OPTIONS", "/v1/media"}, {"GET", "/v1/media/ME00000000000000000000000000000000/content"},
		{"GET", "/v1/admin/conversations"}, {"GET", "/"}, {"GET", "/index.html"}, {"GET", "/no/such/file"},
	}
	for _, host := range []string{"rebind.attacker.example" + port, "rebind.attacker.example", "chat.example.com.attacker.example", "example.com", "localhost.attacker.example" + port} {
		for _, r := range routes {
			st, b := withHost(t, env, r.method, r.path, host)
			require.Equal(t, http.StatusMisdirectedRequest, st, "%s %s Host %q: %s", r.method, r.path, host, b)
			// The admin API's and /metrics' error format, else {"error": …}.
			var e wire.Error
			if strings.HasPrefix(r.path, "/v1/admin/") || r.path == "/metrics" {
				require.NoError(t, json.Unmarshal(b, &e), "%s", b)
			} else {
				var body struct{ Error wire.Error }
				require.NoError(t, json.Unmarshal(b, &body), "%s", b)
				e = body.Error
			}
			assert.Equal(t, wire.CodeMisdirected, e.Code, "%s", b)
			assert.Contains(t, e.Message, "--public-origins=")
			assert.Contains(t, e.Message, "CONVO_PUBLIC_ORIGINS")
			assert.NotContains(t, string(b), "convo_", "no metric leaks")
			assert.NotContains(t, string(b), "demo", "no page leaks")
		}
	}
	for _, host := range []string{"chat.example.com", "CHAT.example.com.", "chat.example.com:8443", "127.0.0.1" + port, "localhost" + port, "app.localhost" + port, "[::1]" + port, "10.1.2.3"} {
		for _, r := range routes {
			st, b := withHost(t, env, r.method, r.path, host)
			assert.NotEqual(t, http.StatusMisdirectedRequest, st, "%s %s Host %q: %s", r.method, r.path, host, b)
		}
		st, b := withHost(t, env, "GET", "/metrics", host)
		assert.Equal(t, http.StatusOK, st, "loopback scrapes under Host %q", host)
		assert.Contains(t, string(b), "convo_connections")
	}
}

// Without PublicOrigins only IP addresses and localhost are answered, as in `make run`.
func TestHostCheckWithoutPublicOrigins(t *testing.T) {
	env := servertest.Start(t)
	st, _ := withHost(t, env, "GET", "/healthz", "convo.internal:8080")
	assert.Equal(t, http.StatusMisdirectedRequest, st)
	st, _ = withHost(t, env, "GET", "/healthz", "localhost:8080")
	assert.Equal(t, http.StatusOK, st)
	// PublicURL's origin counts as a public origin.
	env = servertest.Start(t, servertest.Options{Configure: func(c *server.Config) { c.PublicURL = "wss://lb.example.net/v1/ws" }})
	st, _ = withHost(t, env, "GET", "/healthz", "lb.example.net")
	assert.Equal(t, http.StatusOK, st)
}

// dialAs opens the WebSocket as a page of origin reaching the server under host, says hello
// and returns the first frame back; err is the upgrade's failure.
func dialAs(t *testing.T, env *servertest.Env, host, origin string) (*wire.Frame, *http.Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	h := http.Header{}
	if origin != "" {
		h.Set("Origin", origin)
	}
	c, res, err := websocket.Dial(ctx, env.URL, &websocket.DialOptions{Subprotocols: []string{wire.Subprotocol}, HTTPHeader: h, Host: host})
	if err != nil {
		return nil, res, err
	}
	defer c.CloseNow()
	data, err := json.Marshal(wire.HelloData{Token: env.Token("ana", time.Hour)})
	require.NoError(t, err)
	b, err := wire.Encode(&wire.Frame{Type: wire.TypeHello, Data: data})
	require.NoError(t, err)
	require.NoError(t, c.Write(ctx, websocket.MessageText, b))
	_, raw, err := c.Read(ctx)
	require.NoError(t, err)
	f, err := wire.Decode(raw)
	require.NoError(t, err)
	return f, res, nil
}

// The WebSocket's same-origin rule compares scheme, host and port: an https page is not the
// origin of a plain-http server, and a page whose name was rebound to the server never gets
// as far as the origin check.
func TestWebSocketOriginSchemeAndHost(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Configure: func(c *server.Config) {
		c.PublicOrigins = []string{"https://chat.example.com"}
		c.AllowedOrigins = []string{"https://app.example.com", "*.any-scheme.example"}
	}})
	self := env.HTTPURL // http://127.0.0.1:PORT
	hostport := strings.TrimPrefix(self, "http://")
	for _, tc := range []struct{ host, origin string }{
		{"", self}, // same origin
		{"", ""},   // a native client
		{"chat.example.com", "https://chat.example.com"},     // a public origin behind a TLS proxy
		{"chat.example.com", "https://chat.example.com:443"}, // the default port written out
		{"chat.example.com", "http://chat.example.com"},      // the request's own origin
		{"", "https://app.example.com"},
		{"", "http://x.any-scheme.example"},
		{"", "https://x.any-scheme.example"},
	} {
		f, _, err := dialAs(t, env, tc.host, tc.origin)
		require.NoError(t, err, "%+v", tc)
		assert.Equal(t, wire.TypeWelcome, f.Type, "%+v must be accepted", tc)
	}
	for _, tc := range []struct{ host, origin string }{
		{"", "https://" + hostport}, // same host and port, other scheme
		{"", "http://localhost" + strings.TrimPrefix(hostport, "127.0.0.1")}, // same port, other host
		{"chat.example.com", "https://chat.example.com:8443"},
		{"chat.example.com", "http://chat.example.com:8080"},
		{"", "http://app.example.com"}, // the pattern allows https only
		{"", "https://evil.example"},
	} {
		f, _, err := dialAs(t, env, tc.host, tc.origin)
		require.NoError(t, err, "%+v", tc)
		require.Equal(t, wire.TypeBye, f.Type, "%+v must be refused", tc)
		assert.Equal(t, wire.CodeForbidden, f.Error.Code)
	}
	// DNS rebinding: the page's origin equals the Host it sends; the upgrade is refused.
	_, res, err := dialAs(t, env, "rebind.attacker.example"+strings.TrimPrefix(hostport, "127.0.0.1"), "http://rebind.attacker.example"+strings.TrimPrefix(hostport, "127.0.0.1"))
	require.Error(t, err)
	require.NotNil(t, res)
	assert.Equal(t, http.StatusMisdirectedRequest, res.StatusCode)
}

func TestNormalizeOrigin(t *testing.T) {
	for in, want := range map[string]string{
		"https://Chat.Example.com":      "https://chat.example.com",
		"https://chat.example.com:443/": "https://chat.example.com",
		"http://chat.example.com:80":    "http://chat.example.com",
		"http://chat.example.com:8080":  "http://chat.example.com:8080",
		"https://[::1]:8443":            "https://[::1]:8443",
	} {
		got, err := server.NormalizeOrigin(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"chat.example.com", "ftp://chat.example.com", "https://chat.example.com/app", "https://u:p@chat.example.com", "https://", "null", "https://chat.example.com?x=1"} {
		_, err := server.NormalizeOrigin(bad)
		assert.Error(t, err, bad)
	}
}
