package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/convo-sdk/convo/server"
	"github.com/convo-sdk/convo/server/servertest"
	"github.com/convo-sdk/convo/wire"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Pages from origins not listed in AllowedOrigins cannot use the WebSocket; native clients,
// which send no Origin, can. A refused page is told why, in a bye that names the setting: a
// browser would show it a refused upgrade only as a failed connection.
func TestWebSocketOriginCheck(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Configure: func(c *server.Config) {
		c.AllowedOrigins = []string{"app.example.com", "*.trusted.example"}
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// hello dials as a page of origin, says hello with a valid token and returns the first
	// frame the server sends back.
	hello := func(origin string) (*wire.Frame, *websocket.Conn) {
		h := http.Header{}
		if origin != "" {
			h.Set("Origin", origin)
		}
		c, _, err := websocket.Dial(ctx, env.URL, &websocket.DialOptions{Subprotocols: []string{wire.Subprotocol}, HTTPHeader: h})
		require.NoError(t, err, "origin %q: the upgrade itself is never refused", origin)
		t.Cleanup(func() { c.CloseNow() })
		data, err := json.Marshal(wire.HelloData{Token: env.Token("ana", time.Hour)})
		require.NoError(t, err)
		b, err := wire.Encode(&wire.Frame{Type: wire.TypeHello, Data: data})
		require.NoError(t, err)
		require.NoError(t, c.Write(ctx, websocket.MessageText, b))
		_, raw, err := c.Read(ctx)
		require.NoError(t, err, origin)
		f, err := wire.Decode(raw)
		require.NoError(t, err, origin)
		return f, c
	}
	for _, origin := range []string{"https://app.example.com", "https://chat.trusted.example", ""} {
		f, _ := hello(origin)
		assert.Equal(t, wire.TypeWelcome, f.Type, "origin %q must be accepted", origin)
	}
	for _, tc := range []struct{ origin, host string }{
		{"https://evil.example.net", "evil.example.net"},
		{"https://app.example.com.evil.net", "app.example.com.evil.net"},
		{"http://app.example.com:5173", "app.example.com:5173"}, // a port is part of the host
		{"null", "null"},
	} {
		f, c := hello(tc.origin)
		require.Equal(t, wire.TypeBye, f.Type, "origin %q must be refused", tc.origin)
		require.NotNil(t, f.Error, tc.origin)
		assert.Equal(t, wire.CodeForbidden, f.Error.Code, tc.origin)
		assert.Contains(t, f.Error.Message, `origin "`+tc.origin+`"`)
		assert.Contains(t, f.Error.Message, "--allowed-origins="+tc.host)
		assert.Contains(t, f.Error.Message, "CONVO_ALLOWED_ORIGINS")
		// Then the server closes the socket, with the bye's code.
		_, _, err := c.Read(ctx)
		assert.Equal(t, websocket.StatusCode(4403), websocket.CloseStatus(err), "%s: %v", tc.origin, err)
	}
}
