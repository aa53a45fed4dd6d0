//go:build js && wasm

package core

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"syscall/js"
	"unsafe"

	"github.com/convo-sdk/convo/wire"
)

// DialWebSocket opens the browser's (or Node's) WebSocket directly. github.com/coder/websocket's
// browser adapter deadlocks when the peer closes while the client closes too: its close waits
// for the close event while holding a lock that its error-event handler needs, and that
// handler blocks the JS event loop. Here callbacks never block and Close never waits.
func DialWebSocket(ctx context.Context, url string) (Conn, error) {
	ctor := js.Global().Get("WebSocket")
	if ctor.Type() != js.TypeFunction {
		return nil, errors.New("this environment has no WebSocket: in Node 20 the package sets one from its ws dependency; is ws installed?")
	}
	c := &browserConn{opened: make(chan struct{}), closed: make(chan struct{}), signal: make(chan struct{}, 1)}
	if err := jsTry(func() { c.ws = ctor.New(url, []any{wire.Subprotocol}) }); err != nil {
		return nil, fmt.Errorf("cannot open a WebSocket to %s: %w", url, err)
	}
	c.ws.Set("binaryType", "arraybuffer")
	c.handlers = []js.Func{
		js.FuncOf(func(js.Value, []js.Value) any { close(c.opened); return nil }),
		js.FuncOf(func(js.Value, []js.Value) any {
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
	c.queue = inboxQueue().Invoke(c.ws, c.handlers[1])
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

// inboxQueue returns the JS half of the receive path. Crossing from JS into Go for every
// frame costs more than the frame's own work on a busy stream, so JS queues the frames and
// wakes Go once per burst (a MessageChannel task after the frames already queued), and Go
// takes the whole burst in one call, joined by a record separator: a byte that valid JSON
// never holds unescaped, so splitting cannot cut a valid frame.
var inboxQueue = sync.OnceValue(func() js.Value {
	return js.Global().Get("Function").New(`return function (ws, wake) {
	let frames = [], bad = false, scheduled = false;
	const ch = new MessageChannel();
	if (typeof ch.port1.unref === "function") ch.port1.unref(); // Node: never keeps a process alive
	ch.port1.onmessage = () => { scheduled = false; wake(); };
	ws.onmessage = (ev) => {
		if (typeof ev.data === "string") frames.push(ev.data); else bad = true;
		if (!scheduled) { scheduled = true; ch.port2.postMessage(0); }
	};
	return {
		take() {
			if (bad) return null;
			const s = frames.length === 1 ? frames[0] : frames.join("\x1e");
			frames = [];
			return s;
		},
		close() { ch.port1.close(); },
	};
};`).Invoke()
})

// frameSeparator joins the frames of one burst (see inboxQueue).
const frameSeparator = 0x1e

type browserConn struct {
	ws       js.Value
	queue    js.Value // see inboxQueue
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
		c.queue.Call("close")
		for _, h := range c.handlers {
			h.Release()
		}
	})
}

func (c *browserConn) Read(ctx context.Context) ([]byte, error) {
	for {
		c.mu.Lock()
		if len(c.inbox) == 0 && !c.badFrame {
			c.takeLocked()
		}
		if len(c.inbox) > 0 {
			b := c.inbox[0]
			c.inbox[0] = nil
			c.inbox = c.inbox[1:]
			c.mu.Unlock()
			return b, nil
		}
		if c.badFrame {
			c.mu.Unlock()
			return nil, errors.New("server sent a binary frame")
		}
		c.mu.Unlock()
		select {
		case <-c.signal:
		case <-c.closed:
			c.mu.Lock()
			c.takeLocked()
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

// takeLocked moves the frames JS has queued into inbox. c.mu must be held.
func (c *browserConn) takeLocked() {
	v := c.queue.Call("take")
	if v.IsNull() {
		c.badFrame = true
		return
	}
	// The frames share the string's memory rather than taking a second copy of the burst:
	// their readers only decode them (wire.RawJSON fields copy what they keep).
	str := v.String()
	burst := unsafe.Slice(unsafe.StringData(str), len(str))
	if len(burst) == 0 {
		return
	}
	for {
		i := bytes.IndexByte(burst, frameSeparator)
		if i < 0 {
			c.inbox = append(c.inbox, burst)
			return
		}
		c.inbox = append(c.inbox, burst[:i:i])
		burst = burst[i+1:]
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
