package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/convo-sdk/convo/wire"
)

// loadClient is a raw protocol client for the load: one socket, one reader goroutine, no
// object model, so the load generator spends little of the machine's two cores on itself.
// The frames of the load (send requests, their replies, messageAdded events) are built and
// read by hand; everything else goes through wire.
type loadClient struct {
	ws       *websocket.Conn
	identity string
	nextID   atomic.Uint64

	mu      sync.Mutex
	pending map[uint64]chan *wire.Frame // setup calls waiting for their reply

	// handler receives the load's frames; set before the load starts, read by the reader.
	handler atomic.Pointer[loadHandler]
	done    chan struct{} // closed when the reader ends
	err     error         // why the reader ended; read after done
	wbuf    []byte        // send frame being built; sender goroutine only
}

// loadHandler is what a measurement does with the frames it cares about.
type loadHandler struct {
	// ack is a reply to a request sent with sendMessage; code is 0 or the error code.
	ack func(id uint64, code int, at time.Time)
	// added is a messageAdded event whose body was written by sendMessage: sent is the
	// send time it carries (nanoseconds since clock).
	added func(sent int64, at time.Time)
}

// clock is the load's time base: bodies carry nanoseconds since it, so latency is measured
// on one monotonic clock whichever node the sender and the receiver use.
var clock = time.Now()

func since() int64 { return int64(time.Since(clock)) }

// dialLoad connects, says hello and waits for the welcome.
func dialLoad(ctx context.Context, url, token, identity string) (*loadClient, error) {
	ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{wire.Subprotocol}})
	if err != nil {
		return nil, err
	}
	ws.SetReadLimit(wire.MaxServerFrameBytes)
	hello, _ := json.Marshal(wire.HelloData{Token: token, Client: "benchreport"})
	b, _ := wire.Encode(&wire.Frame{Type: wire.TypeHello, Data: hello})
	if err := ws.Write(ctx, websocket.MessageText, b); err != nil {
		ws.CloseNow()
		return nil, err
	}
	_, b, err = ws.Read(ctx)
	if err == nil {
		var f *wire.Frame
		if f, err = wire.Decode(b); err == nil && f.Type != wire.TypeWelcome {
			err = fmt.Errorf("%s: expected welcome, got %s %v", identity, f.Type, f.Error)
		}
	}
	if err != nil {
		ws.CloseNow()
		return nil, err
	}
	c := &loadClient{ws: ws, identity: identity, pending: map[uint64]chan *wire.Frame{}, done: make(chan struct{})}
	go c.read()
	return c, nil
}

func (c *loadClient) close() {
	c.ws.CloseNow()
	<-c.done
}

// read dispatches every frame until the socket ends.
func (c *loadClient) read() {
	defer close(c.done)
	var buf bytes.Buffer
	for {
		_, r, err := c.ws.Reader(context.Background())
		if err == nil {
			buf.Reset()
			_, err = buf.ReadFrom(r)
		}
		if err != nil {
			c.err = err
			c.mu.Lock()
			for id, ch := range c.pending {
				close(ch)
				delete(c.pending, id)
			}
			c.mu.Unlock()
			return
		}
		c.dispatch(buf.Bytes(), time.Now())
	}
}

var (
	replyPrefix = []byte(`{"type":"res","id":`)
	addedPrefix = []byte(`{"type":"event","event":"` + wire.EventMessageAdded + `",`)
	bodyMarker  = []byte(`"body":"` + bodyTag)
	errorMarker = []byte(`"error":{"code":`)
)

// bodyTag starts the body of every load message; the send time follows it.
const bodyTag = "bench:"

func (c *loadClient) dispatch(b []byte, at time.Time) {
	h := c.handler.Load()
	// Fast paths: the server writes frames' fields in wire.Frame order, so a reply starts
	// with its id and an event with its name.
	if rest, ok := bytes.CutPrefix(b, replyPrefix); ok {
		id, n := leadingInt(rest)
		if n == 0 {
			return
		}
		c.mu.Lock()
		ch, waiting := c.pending[uint64(id)]
		delete(c.pending, uint64(id))
		c.mu.Unlock()
		if waiting {
			f, err := wire.Decode(b)
			if err != nil {
				f = &wire.Frame{Type: wire.TypeReply, ID: uint64(id), Error: wire.Errorf(wire.CodeBadFrame, "%v", err)}
			}
			ch <- f
			return
		}
		if h != nil && h.ack != nil {
			code := 0
			if i := bytes.Index(rest[n:], errorMarker); i >= 0 {
				code, _ = leadingInt(rest[n+i+len(errorMarker):])
			}
			h.ack(uint64(id), code, at)
		}
		return
	}
	if bytes.HasPrefix(b, addedPrefix) && h != nil && h.added != nil {
		if i := bytes.Index(b, bodyMarker); i >= 0 {
			if sent, n := leadingInt(b[i+len(bodyMarker):]); n > 0 {
				h.added(int64(sent), at)
			}
		}
	}
	// Other events and signals (joins, presence) do not matter to the load.
}

// leadingInt parses the decimal digits at the start of b and reports how many there were.
func leadingInt(b []byte) (int, int) {
	v, n := 0, 0
	for n < len(b) && b[n] >= '0' && b[n] <= '9' {
		v = v*10 + int(b[n]-'0')
		n++
	}
	return v, n
}

// call sends a request and waits for its reply (setup and checks, not the load).
func (c *loadClient) call(ctx context.Context, op string, args, out any) error {
	id := c.nextID.Add(1)
	var data wire.Encoder
	if args != nil {
		b, err := json.Marshal(args)
		if err != nil {
			return err
		}
		data = wire.RawJSON(b)
	}
	f, err := wire.Request(id, op, data)
	if err != nil {
		return err
	}
	b, err := wire.Encode(f)
	if err != nil {
		return err
	}
	ch := make(chan *wire.Frame, 1)
	c.mu.Lock()
	c.pending[id] = ch
	c.mu.Unlock()
	if err := c.ws.Write(ctx, websocket.MessageText, b); err != nil {
		return err
	}
	select {
	case r, ok := <-ch:
		if !ok {
			return fmt.Errorf("%s: connection ended during %s: %v", c.identity, op, c.err)
		}
		if r.Error != nil {
			return fmt.Errorf("%s: %s: %w", c.identity, op, r.Error)
		}
		if out != nil {
			return json.Unmarshal(r.Data, out)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%s: %s: %w", c.identity, op, ctx.Err())
	}
}

// sendMessage writes a message.send whose body carries the send time. before is called
// with the request id and that time before the frame is written, so a reply can never
// arrive ahead of what the caller records. One goroutine at a time per client.
func (c *loadClient) sendMessage(ctx context.Context, conversationSid string, before func(id uint64, sent int64)) error {
	id := c.nextID.Add(1)
	b := append(c.wbuf[:0], `{"type":"req","id":`...)
	b = strconv.AppendUint(b, id, 10)
	b = append(b, `,"op":"`+wire.OpMessageSend+`","data":{"conversationSid":"`...)
	b = append(b, conversationSid...) // sids are hex: nothing to escape
	b = append(b, `","body":"`+bodyTag...)
	sent := since()
	b = strconv.AppendInt(b, sent, 10)
	b = append(b, `"}}`...)
	c.wbuf = b
	before(id, sent)
	return c.ws.Write(ctx, websocket.MessageText, b)
}

// dialAll connects count clients, parallel at most `parallel` at a time, spread over the
// cluster's nodes; identity(i) names client i. On error the clients made so far are closed.
func dialAll(ctx context.Context, cl *cluster, count, parallel int, identity func(int) string) ([]*loadClient, error) {
	clients := make([]*loadClient, count)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	sem := make(chan struct{}, parallel)
	for i := range count {
		sem <- struct{}{}
		mu.Lock()
		failed := first != nil
		mu.Unlock()
		if failed {
			<-sem
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			id := identity(i)
			tok, err := cl.token(id, i)
			var c *loadClient
			if err == nil {
				dctx, cancel := context.WithTimeout(ctx, 60*time.Second)
				c, err = dialLoad(dctx, cl.url(i), tok, id)
				cancel()
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if first == nil {
					first = fmt.Errorf("connecting %s (%d of %d): %w", id, i+1, count, err)
				}
				return
			}
			clients[i] = c
		}()
	}
	wg.Wait()
	if first != nil {
		closeAll(clients)
		return nil, first
	}
	return clients, nil
}

func closeAll(clients []*loadClient) {
	var wg sync.WaitGroup
	for _, c := range clients {
		if c != nil {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c.close()
			}()
		}
	}
	wg.Wait()
}

// parallelDo runs fn(i) for i in [0, n), at most `parallel` at a time; the first error wins.
func parallelDo(n, parallel int, fn func(i int) error) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	sem := make(chan struct{}, parallel)
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := fn(i); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return first
}

var errNotStored = errors.New("the store does not hold every acknowledged message")
