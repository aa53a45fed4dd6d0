package server_test

import (
	"bufio"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/convo-sdk/convo/server/servertest"
	"github.com/stretchr/testify/require"
)

// A client may send its hello in the same packet as the upgrade request, so that it is in
// net/http's buffer when the connection is taken over: it is read all the same, whether it
// fits the WebSocket's smaller read buffer or not.
func TestAHelloSentWithTheUpgradeIsRead(t *testing.T) {
	env := servertest.Start(t)
	addr := strings.TrimSuffix(strings.TrimPrefix(env.URL, "ws://"), "/v1/ws")
	for _, pad := range []int{0, 3000} {
		nc, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		hello, err := json.Marshal(map[string]any{"type": "hello", "data": map[string]any{
			"token": env.Token("alice", time.Hour), "client": strings.Repeat("x", pad)}})
		require.NoError(t, err)
		upgrade := "GET /v1/ws HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: convo.v1\r\n\r\n"
		_, err = nc.Write(append([]byte(upgrade), maskedTextFrame(hello)...))
		require.NoError(t, err)
		br := bufio.NewReader(nc)
		res, err := http.ReadResponse(br, nil)
		require.NoError(t, err)
		require.Equal(t, http.StatusSwitchingProtocols, res.StatusCode)
		require.NoError(t, nc.SetReadDeadline(time.Now().Add(10*time.Second)))
		head := make([]byte, 2)
		_, err = br.Read(head[:1])
		require.NoError(t, err, "no frame after the upgrade (pad %d)", pad)
		b, err := br.Peek(br.Buffered())
		require.NoError(t, err)
		require.Contains(t, string(b), `"type":"welcome"`, "pad %d", pad)
		require.NoError(t, nc.Close())
	}
}

// maskedTextFrame is p as one final text frame from a client (masked, with a zero key).
func maskedTextFrame(p []byte) []byte {
	f := []byte{0x81}
	switch {
	case len(p) < 126:
		f = append(f, 0x80|byte(len(p)))
	default:
		f = append(f, 0x80|126, byte(len(p)>>8), byte(len(p)))
	}
	return append(append(f, 0, 0, 0, 0), p...)
}
