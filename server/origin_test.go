package server_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/convo-sdk/convo/core/wire"
	"github.com/convo-sdk/convo/server"
	"github.com/convo-sdk/convo/server/servertest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"nhooyr.io/websocket"
)

// Pages from origins not listed in AllowedOrigins cannot open the WebSocket; native clients,
// which send no Origin, can.
func TestWebSocketOriginCheck(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Configure: func(c *server.Config) {
		c.AllowedOrigins = []string{"app.example.com", "*.trusted.example"}
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	dial := func(origin string) (*http.Response, error) {
		h := http.Header{}
		if origin != "" {
			h.Set("Origin", origin)
		}
		c, res, err := websocket.Dial(ctx, env.URL, &websocket.DialOptions{Subprotocols: []string{wire.Subprotocol}, HTTPHeader: h})
		if err == nil {
			c.CloseNow()
		}
		return res, err
	}
	for _, origin := range []string{"https://app.example.com", "https://chat.trusted.example", ""} {
		_, err := dial(origin)
		assert.NoError(t, err, "origin %q must be accepted", origin)
	}
	for _, origin := range []string{"https://evil.example.net", "https://app.example.com.evil.net", "null"} {
		res, err := dial(origin)
		require.Error(t, err, "origin %q must be refused", origin)
		if res != nil {
			assert.Equal(t, http.StatusForbidden, res.StatusCode, origin)
		}
	}
}
