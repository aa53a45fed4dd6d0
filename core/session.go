package core

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/convo-sdk/convo/wire"
)

// session is one live connection: its Conn, the requests waiting for replies on it, and the
// writer lock that keeps frames whole.
type session struct {
	conn    Conn
	writeMu sync.Mutex
	// ctx governs the reads; the keep-alive cancels it (with the cause) to drop a dead
	// connection, which ends a Read at once where a Close might wait for the peer.
	ctx      context.Context
	cut      context.CancelCauseFunc
	lastRead atomic.Int64 // unix nanoseconds of the last frame read or check answered

	mu      sync.Mutex
	pending map[uint64]chan reply
	lost    chan struct{} // closed when the connection ends
	lostErr error
}

type reply struct {
	data json.RawMessage
	err  error
}

// errLost marks a request whose connection ended before its reply came.
var errLost = errors.New("connection lost")

// streamPos is the client's position in its user's event stream.
type streamPos struct {
	epoch  string
	offset uint64
}

// run connects, serves the connection until it drops, and reconnects with jittered
// exponential backoff until Shutdown.
func (c *Client) run() {
	var pos *streamPos
	failures := 0
	for c.ctx.Err() == nil {
		c.setState(StateConnecting)
		s, welcome, err := c.connect(pos)
		if err != nil {
			if c.ctx.Err() != nil {
				break
			}
			if c.handleConnectError(err) {
				// Denied: wait for a new token or shutdown.
				select {
				case <-c.wake:
					continue
				case <-c.ctx.Done():
				}
				break
			}
			failures++
			c.sleepBackoff(failures)
			continue
		}
		failures = 0
		resumed := pos != nil && welcome.Resumed
		if !resumed {
			// Fresh start or a gap the server cannot replay: continue from its head (resync
			// fills the gap). On resume the position stays: the replay moves it forward.
			pos = &streamPos{epoch: welcome.Epoch, offset: welcome.Offset}
		}
		c.mu.Lock()
		c.sess = s
		c.mu.Unlock()
		c.user.apply(welcome.User)
		c.setState(StateConnected)

		first := !c.initialised()
		if !first && (!resumed || c.resyncPending.Load()) {
			// On the event goroutine, ahead of this connection's live events (see resync).
			// Pending until an attempt succeeds, so a connection made while this one's
			// attempt is still failing queues another.
			c.resyncPending.Store(true)
			c.events.push(c.resync)
		}
		c.wg.Add(2)
		go func() {
			defer c.wg.Done()
			c.keepAlive(s)
		}()
		go func() {
			defer c.wg.Done()
			if first {
				c.initialise()
			} else {
				c.refreshUsers() // user subscriptions live on the connection
			}
		}()

		err = c.readLoop(s, pos)
		c.mu.Lock()
		c.sess = nil
		c.mu.Unlock()
		s.end(err)
		s.cut(nil)
		s.conn.Close()
		if c.ctx.Err() != nil {
			break
		}
		var we *wire.Error
		if errors.As(err, &we) && c.handleConnectError(we) {
			select {
			case <-c.wake:
			case <-c.ctx.Done():
			}
			continue
		}
		c.opts.Logf("convo: connection lost: %v", err)
	}
}

func (c *Client) initialised() bool {
	select {
	case <-c.initDone:
		return true
	default:
		return false
	}
}

// handleConnectError reports a failed connect and returns true when retrying cannot help
// (the server refused the token).
func (c *Client) handleConnectError(err error) bool {
	var we *wire.Error
	if !errors.As(err, &we) || !we.Code.IsAuth() {
		c.events.pushUrgent(func() {
			c.Emit(EventConnectionError, ConnectionError{Terminal: false, Message: err.Error(), Code: wire.CodeOf(err)})
		})
		return false
	}
	c.setState(StateDenied)
	if we.Code == wire.CodeTokenExpired {
		c.events.pushUrgent(func() { c.Emit(EventTokenExpired) })
	}
	c.events.pushUrgent(func() {
		c.Emit(EventConnectionError, ConnectionError{Terminal: true, Message: we.Message, Code: we.Code})
	})
	if !c.initialised() {
		c.failInit(true, err)
	}
	return true
}

func (c *Client) sleepBackoff(failures int) {
	d := c.opts.BackoffMin << min(failures-1, 20)
	if d > c.opts.BackoffMax || d <= 0 {
		d = c.opts.BackoffMax
	}
	// Full jitter in [d/2, d) spreads reconnect storms after a server restart.
	d = d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-c.wake:
	case <-c.ctx.Done():
	}
}

// connect dials, says hello and reads the welcome.
func (c *Client) connect(pos *streamPos) (*session, *wire.WelcomeData, error) {
	ctx, cancel := context.WithTimeout(c.ctx, 15*time.Second)
	defer cancel()
	conn, err := c.opts.Dial(ctx, c.serverURL())
	if err != nil {
		return nil, nil, fmt.Errorf("cannot reach %s: %w", c.serverURL(), err)
	}
	hello := wire.HelloData{Token: c.Token(), Client: "convo-go/" + Version}
	if pos != nil {
		hello.Resume = &wire.Resume{Epoch: pos.epoch, Offset: pos.offset}
	}
	data, _ := json.Marshal(hello)
	b, _ := wire.Encode(&wire.Frame{Type: wire.TypeHello, Data: data})
	if err := conn.Write(ctx, b); err != nil {
		conn.Close()
		return nil, nil, err
	}
	raw, err := conn.Read(ctx)
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	f, err := wire.Decode(raw)
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	switch f.Type {
	case wire.TypeWelcome:
	case wire.TypeBye:
		conn.Close()
		if f.Error != nil {
			return nil, nil, f.Error
		}
		return nil, nil, errors.New("server closed the connection without a reason")
	default:
		conn.Close()
		return nil, nil, fmt.Errorf("server answered hello with a %q frame", f.Type)
	}
	var w wire.WelcomeData
	if err := json.Unmarshal(f.Data, &w); err != nil {
		conn.Close()
		return nil, nil, fmt.Errorf("bad welcome: %w", err)
	}
	s := &session{conn: conn, pending: make(map[uint64]chan reply), lost: make(chan struct{})}
	s.ctx, s.cut = context.WithCancelCause(c.ctx)
	s.lastRead.Store(time.Now().UnixNano())
	return s, &w, nil
}

// messageAddedFrame is an event frame carrying messageAdded, decoded in one pass.
type messageAddedFrame struct {
	Type   string            `json:"type"`
	Event  string            `json:"event"`
	Offset uint64            `json:"offset"`
	Data   wire.MessageEvent `json:"data"`
}

var messageAddedMark = []byte(`"event":"` + wire.EventMessageAdded + `"`)

// decodeMessageAdded decodes raw if it is a well-formed messageAdded event frame.
func decodeMessageAdded(raw []byte) (offset uint64, m wire.Message, ok bool) {
	if !bytes.Contains(raw, messageAddedMark) {
		return 0, m, false
	}
	if offset, m, ok := decodeMessageAddedFast(raw); ok {
		return offset, m, true
	}
	var mf messageAddedFrame
	if json.Unmarshal(raw, &mf) != nil || mf.Type != wire.TypeEvent || mf.Event != wire.EventMessageAdded || mf.Offset == 0 {
		return 0, m, false
	}
	return mf.Offset, mf.Data.Message, true
}

// advance checks an event's offset against the stream position: false for one already seen
// (a replay overlapping live delivery), an error for a gap.
func (pos *streamPos) advance(offset uint64) (bool, error) {
	switch {
	case offset <= pos.offset:
		return false, nil
	case offset != pos.offset+1:
		return false, fmt.Errorf("event stream gap: expected offset %d, got %d", pos.offset+1, offset)
	}
	pos.offset = offset
	return true, nil
}

// readLoop reads frames until the connection fails. Replies go to their callers; events are
// checked against the stream position and queued in order for the event goroutine.
func (c *Client) readLoop(s *session, pos *streamPos) error {
	for {
		raw, err := s.conn.Read(s.ctx)
		if err != nil {
			if s.ctx.Err() != nil && c.ctx.Err() == nil {
				return context.Cause(s.ctx)
			}
			return err
		}
		s.lastRead.Store(time.Now().UnixNano())
		// messageAdded, the bulk of the stream, is decoded in one pass rather than as a frame
		// and then its data again; anything else (or a body that merely contains the mark)
		// takes the general path.
		if offset, m, ok := decodeMessageAdded(raw); ok {
			fresh, err := pos.advance(offset)
			if err != nil {
				return err
			}
			if fresh {
				c.events.push(func() { c.emitMessageAdded(m) })
			}
			continue
		}
		f, err := wire.Decode(raw)
		if err != nil {
			return err
		}
		switch f.Type {
		case wire.TypeReply:
			s.deliver(f)
		case wire.TypeEvent:
			fresh, err := pos.advance(f.Offset)
			if err != nil {
				return err
			}
			if !fresh {
				continue // already seen (a replay overlapping live delivery)
			}
			name, data := f.Event, f.Data
			c.events.push(func() { c.handleEvent(name, data) })
		case wire.TypeSignal:
			name, data := f.Event, f.Data
			c.events.push(func() { c.handleSignal(name, data) })
		case wire.TypeBye:
			if f.Error != nil {
				return f.Error
			}
			return errors.New("server said bye")
		}
	}
}

// keepAlive checks the connection whenever it has been silent for PingInterval, and drops it
// when the check gets no answer within PingTimeout. A connection whose packets vanish (a
// NAT that forgot it, a sleeping laptop, a black-holing middlebox) never fails by itself:
// without this, replies and events stop, and the outbox waits on its in-flight send forever.
func (c *Client) keepAlive(s *session) {
	every := c.opts.PingInterval
	t := time.NewTimer(every)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-s.lost:
			return
		}
		if idle := time.Since(time.Unix(0, s.lastRead.Load())); idle < every {
			t.Reset(every - idle)
			continue
		}
		if err := c.probe(s); err != nil {
			if s.ctx.Err() == nil {
				s.cut(fmt.Errorf("no answer from the server within %v (%v)", c.opts.PingTimeout, err))
			}
			return
		}
		s.lastRead.Store(time.Now().UnixNano())
		t.Reset(every)
	}
}

// probe checks that the server still answers: a WebSocket ping where the Conn has one, else
// a cheap read request (browsers cannot ping), whose reply of any kind will do.
func (c *Client) probe(s *session) error {
	ctx, cancel := context.WithTimeout(s.ctx, c.opts.PingTimeout)
	defer cancel()
	if p, ok := s.conn.(Pinger); ok {
		return p.Ping(ctx)
	}
	id := c.nextID.Add(1)
	ch, err := s.send(ctx, id, wire.OpContentList, wire.ListArgs{PageSize: 1})
	if err != nil {
		return err
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		s.forget(id)
		return ctx.Err()
	}
}

func (s *session) deliver(f *wire.Frame) {
	s.mu.Lock()
	ch, ok := s.pending[f.ID]
	delete(s.pending, f.ID)
	s.mu.Unlock()
	if !ok {
		return
	}
	if f.Error != nil {
		ch <- reply{err: f.Error}
		return
	}
	ch <- reply{data: f.Data}
}

// end fails every waiting request with errLost.
func (s *session) end(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lostErr = err
	close(s.lost)
	for id, ch := range s.pending {
		ch <- reply{err: errLost}
		delete(s.pending, id)
	}
}

// currentSession waits until there is a live connection.
func (c *Client) currentSession(ctx context.Context) (*session, error) {
	for {
		c.mu.Lock()
		s := c.sess
		c.mu.Unlock()
		if s != nil {
			return s, nil
		}
		if c.closing.Load() {
			return nil, errShutdown
		}
		t := time.NewTimer(50 * time.Millisecond)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		}
	}
}

// send writes a request on s and returns the channel its reply arrives on.
func (s *session) send(ctx context.Context, id uint64, op string, args any) (chan reply, error) {
	f, err := wire.Request(id, op, args)
	if err != nil {
		return nil, wire.Errorf(CodeClientArgument, "%s: %v", op, err)
	}
	b, _ := wire.Encode(f)
	if len(b) > wire.MaxFrameBytes {
		// The server would drop the connection; say what is wrong instead.
		return nil, wire.Errorf(wire.CodeTooLarge, "%s: the request is %d bytes; a frame holds at most %d", op, len(b), wire.MaxFrameBytes)
	}
	ch := make(chan reply, 1)
	s.mu.Lock()
	select {
	case <-s.lost:
		s.mu.Unlock()
		return nil, errLost
	default:
	}
	s.pending[id] = ch
	s.mu.Unlock()
	s.writeMu.Lock()
	err = s.conn.Write(ctx, b)
	s.writeMu.Unlock()
	if err != nil {
		s.mu.Lock()
		delete(s.pending, id)
		s.mu.Unlock()
		if ctx.Err() == nil {
			s.conn.Close() // the read loop notices and reconnects
		}
		return nil, errLost
	}
	return ch, nil
}

// forget drops a request whose caller stopped waiting.
func (s *session) forget(id uint64) {
	s.mu.Lock()
	delete(s.pending, id)
	s.mu.Unlock()
}

// call sends op and decodes its result into out. Retryable calls (reads, and sends that carry
// an idempotency key) are sent again after a reconnect; others fail with CodeUnavailable
// because the server may or may not have applied them.
func (c *Client) call(ctx context.Context, op string, args, out any, retryable bool) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.opts.RequestTimeout)
		defer cancel()
	}
	for throttled := 0; ; {
		s, err := c.currentSession(ctx)
		if err != nil {
			return c.callError(op, err)
		}
		id := c.nextID.Add(1)
		ch, err := s.send(ctx, id, op, args)
		if err != nil && err != errLost {
			return err
		}
		if err == errLost {
			if ctx.Err() != nil {
				return c.callError(op, ctx.Err())
			}
			if retryable {
				continue
			}
			return wire.Errorf(wire.CodeUnavailable, "%s: connection lost while sending; it may or may not have been applied", op)
		}
		var r reply
		select {
		case r = <-ch:
		case <-ctx.Done():
			s.forget(id)
			return c.callError(op, ctx.Err())
		case <-c.ctx.Done():
			return errShutdown
		}
		if r.err == errLost {
			if retryable {
				continue
			}
			return wire.Errorf(wire.CodeUnavailable, "%s: connection lost before the reply; it may or may not have been applied", op)
		}
		if wire.CodeOf(r.err) == wire.CodeRateLimited {
			// Throttled requests were not applied, so a retry is always safe.
			t := time.NewTimer(throttleBackoff(throttled))
			throttled++
			select {
			case <-t.C:
				continue
			case <-ctx.Done():
				t.Stop()
				return r.err
			}
		}
		if r.err != nil {
			return r.err
		}
		return decodeResult(op, r.data, out)
	}
}

func decodeResult(op string, data json.RawMessage, out any) error {
	if out == nil || len(data) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return wire.Errorf(wire.CodeInternal, "%s: unexpected reply: %v", op, err)
	}
	return nil
}

func (c *Client) callError(op string, err error) error {
	var we *wire.Error
	switch {
	case errors.As(err, &we):
		return err
	case c.closing.Load():
		return errShutdown
	case errors.Is(err, context.DeadlineExceeded):
		return wire.Errorf(CodeClientTimeout, "%s: no reply in time", op)
	case errors.Is(err, context.Canceled):
		return wire.Errorf(CodeClientTimeout, "%s: cancelled", op)
	}
	return wire.Errorf(wire.CodeInternal, "%s: %v", op, err)
}
