//go:build js && wasm

package core

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"syscall/js"

	"github.com/convo-sdk/convo/core/wire"
)

// DialWebSocket opens the browser's (or Node's) WebSocket directly. nhooyr.io/websocket's
// browser adapter deadlocks when the peer closes while the client closes too: its close waits
// for the close event while holding a lock that its error-event handler needs, and that
// handler blocks the JS event loop. Here callbacks never block and Close never waits.
func DialWebSocket(ctx context.Context, url string) (Conn, error) {
	ctor := js.Global().Get("WebSocket")
	if ctor.Type() != js.TypeFunction {
		return nil, errors.New("this environment has no WebSocket (Node 20 needs --experimental-websocket)")
	}
	c := &browserConn{opened: make(chan struct{}), closed: make(chan struct{}), signal: make(chan struct{}, 1)}
	if err := jsTry(func() { c.ws = ctor.New(url, []any{wire.Subprotocol}) }); err != nil {
		return nil, fmt.Errorf("cannot open a WebSocket to %s: %w", url, err)
	}
	c.ws.Set("binaryType", "arraybuffer")
	c.handlers = []js.Func{
		js.FuncOf(func(js.Value, []js.Value) any { close(c.opened); return nil }),
		js.FuncOf(func(_ js.Value, args []js.Value) any {
			data := args[0].Get("data")
			c.mu.Lock()
			if data.Type() == js.TypeString {
				c.inbox = append(c.inbox, []byte(data.String()))
			} else {
				c.badFrame = true
			}
			c.mu.Unlock()
			select {
			case c.signal <- struct{}{}:
			default:
			}
			return nil
		}),
		js.FuncOf(func(_ js.Value, args []js.Value) any {
			c.mu.Lock()
			c.closeCode = args[0].Get("code").Int()
			c.mu.Unlock()
			c.markClosed()
			c.release()
			return nil
		}),
	}
	c.ws.Set("onopen", c.handlers[0])
	c.ws.Set("onmessage", c.handlers[1])
	c.ws.Set("onclose", c.handlers[2])
	select {
	case <-c.opened:
	case <-c.closed:
		return nil, fmt.Errorf("cannot connect to %s", url)
	case <-ctx.Done():
		c.Close()
		return nil, ctx.Err()
	}
	if p := c.ws.Get("protocol").String(); p != wire.Subprotocol {
		c.Close()
		return nil, fmt.Errorf("server at %s does not speak %s", url, wire.Subprotocol)
	}
	return c, nil
}

type browserConn struct {
	ws       js.Value
	handlers []js.Func
	opened   chan struct{}
	closed   chan struct{}
	signal   chan struct{}

	mu        sync.Mutex
	inbox     [][]byte
	badFrame  bool
	closeCode int
	once      sync.Once
	relOnce   sync.Once
}

func (c *browserConn) markClosed() { c.once.Do(func() { close(c.closed) }) }

// release frees the callbacks once the socket can call them no more.
func (c *browserConn) release() {
	c.relOnce.Do(func() {
		for _, h := range c.handlers {
			h.Release()
		}
	})
}

func (c *browserConn) Read(ctx context.Context) ([]byte, error) {
	for {
		c.mu.Lock()
		if c.badFrame {
			c.mu.Unlock()
			return nil, errors.New("server sent a binary frame")
		}
		if len(c.inbox) > 0 {
			b := c.inbox[0]
			c.inbox[0] = nil
			c.inbox = c.inbox[1:]
			c.mu.Unlock()
			return b, nil
		}
		c.mu.Unlock()
		select {
		case <-c.signal:
		case <-c.closed:
			c.mu.Lock()
			pending, code := len(c.inbox), c.closeCode
			c.mu.Unlock()
			if pending > 0 {
				continue // deliver what arrived before the close (a bye frame, say)
			}
			return nil, fmt.Errorf("connection closed (code %d)", code)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (c *browserConn) Write(_ context.Context, frame []byte) error {
	select {
	case <-c.closed:
		return errors.New("connection closed")
	default:
	}
	return jsTry(func() { c.ws.Call("send", string(frame)) })
}

// Close starts the closing handshake and returns at once; Read reports the end.
func (c *browserConn) Close() error {
	err := jsTry(func() { c.ws.Call("close", 1000) })
	c.markClosed()
	return err
}

// jsTry runs fn and returns a JS exception it throws as an error.
func jsTry(fn func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if je, ok := r.(js.Error); ok {
				err = je
				return
			}
			err = fmt.Errorf("%v", r)
		}
	}()
	fn()
	return nil
}
