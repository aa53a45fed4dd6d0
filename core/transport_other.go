//go:build !js

package core

import (
	"context"
	"errors"
	"fmt"

	"github.com/coder/websocket"
	"github.com/convo-sdk/convo/wire"
)

// DialWebSocket is the default DialFunc: natively, github.com/coder/websocket. (The browser build
// has its own, in transport_js.go.)
func DialWebSocket(ctx context.Context, url string) (Conn, error) {
	ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{wire.Subprotocol}})
	if err != nil {
		return nil, err
	}
	if ws.Subprotocol() != wire.Subprotocol {
		ws.CloseNow()
		return nil, fmt.Errorf("server at %s does not speak %s", url, wire.Subprotocol)
	}
	ws.SetReadLimit(wire.MaxServerFrameBytes)
	return &wsConn{ws: ws}, nil
}

type wsConn struct{ ws *websocket.Conn }

func (c *wsConn) Read(ctx context.Context) ([]byte, error) {
	typ, b, err := c.ws.Read(ctx)
	if err != nil {
		return nil, err
	}
	if typ != websocket.MessageText {
		return nil, errors.New("server sent a binary frame")
	}
	return b, nil
}

func (c *wsConn) Write(ctx context.Context, frame []byte) error {
	return c.ws.Write(ctx, websocket.MessageText, frame)
}

// Ping waits for the server's pong, which its WebSocket library sends while reading.
func (c *wsConn) Ping(ctx context.Context) error { return c.ws.Ping(ctx) }

// Close uses code 1000: browsers refuse most others from script.
func (c *wsConn) Close() error { return c.ws.Close(websocket.StatusNormalClosure, "") }
