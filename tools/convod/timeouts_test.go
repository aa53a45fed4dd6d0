package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/server/auth"
	"github.com/convo-sdk/convo/server/servertest"
	"github.com/convo-sdk/convo/wire"
)

// Request bodies that trickle are cut off after --body-read-timeout and idle keep-alive
// connections closed after --idle-timeout, while a WebSocket outlives both.
func TestHTTPTimeouts(t *testing.T) {
	t.Setenv("CONVO_API_KEYS", "")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	data := t.TempDir()
	base, _ := start(t, "--addr", "127.0.0.1:0", "--data", data, "--dev", "--idle-timeout", "300ms", "--body-read-timeout", "300ms")
	host := strings.TrimPrefix(base, "http://")
	tok := devToken(t, ctx, base, "alice")
	var key auth.Key
	b, err := os.ReadFile(filepath.Join(data, "dev-key.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &key))

	c, err := servertest.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/v1/ws", tok, nil)
	require.NoError(t, err)
	defer c.Close()

	// A body announced as 1000 bytes of which 3 come: the server answers (400) after the
	// read deadline instead of waiting for the rest forever.
	for _, head := range []string{
		"POST /v1/media HTTP/1.1\r\nAuthorization: Bearer " + tok + "\r\n",
		"POST /v1/admin/conversations HTTP/1.1\r\nAuthorization: Basic " + base64.StdEncoding.EncodeToString([]byte(key.ID+":"+key.Secret)) + "\r\nContent-Type: application/json\r\n",
	} {
		conn, err := net.Dial("tcp", host)
		require.NoError(t, err)
		defer conn.Close()
		_, err = fmt.Fprintf(conn, "%sHost: %s\r\nContent-Length: 1000\r\n\r\n{\"a", head, host)
		require.NoError(t, err)
		require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
		began := time.Now()
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		require.NoError(t, err, "no answer to a trickling body: %s", head)
		res.Body.Close()
		assert.Equal(t, http.StatusBadRequest, res.StatusCode)
		assert.GreaterOrEqual(t, time.Since(began), 250*time.Millisecond)
	}

	// An idle keep-alive connection is closed.
	conn, err := net.Dial("tcp", host)
	require.NoError(t, err)
	defer conn.Close()
	_, err = fmt.Fprintf(conn, "GET /healthz HTTP/1.1\r\nHost: %s\r\n\r\n", host)
	require.NoError(t, err)
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
	rd := bufio.NewReader(conn)
	res, err := http.ReadResponse(rd, nil)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode)
	_, err = rd.ReadByte()
	assert.ErrorIs(t, err, io.EOF, "the server closes the idle connection")

	// The WebSocket, idle for longer than both timeouts, still works.
	time.Sleep(time.Second)
	var conv wire.Conversation
	require.NoError(t, c.Call(ctx, wire.OpConversationCreate, wire.CreateConversationArgs{FriendlyName: "still here"}, &conv))
	assert.NotEmpty(t, conv.Sid)
}

// --dev with CONVO_API_KEYS set refuses to start: dev tokens would be signed with a
// production key.
func TestRefusesDevModeWithAPIKeys(t *testing.T) {
	t.Setenv("CONVO_API_KEYS", "k1:0123456789abcdef0123")
	err := run(context.Background(), []string{"--addr", "127.0.0.1:0", "--data", t.TempDir(), "--dev"}, io.Discard)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--dev")
	assert.Contains(t, err.Error(), "CONVO_API_KEYS")
	assert.NotContains(t, err.Error(), "0123456789abcdef0123", "the secret is not repeated")
}
