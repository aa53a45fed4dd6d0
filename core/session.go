package core

import (
	"context"
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
	data wire.RawJSON
	err  error
}

// errLost marks a request whose connection ended before its reply came.
var errLost = errors.New("connection lost")

// run connects, serves the connection until it drops, and reconnects with jittered
// exponential backoff until Shutdown.
func (c *Client) run() {
	var pos *streamPos
	if c.opts.Store != nil {
		// Initialised from the store while connecting; the stream resumes where it was.
		c.setState(StateConnecting)
		if st := c.loadState(); st != nil {
			at := st.pos
			pos = &at
			c.events.run1(c.ctx, func() { c.restoreState(st) })
			msgs := c.loadMessages(st)
			c.events.run1(c.ctx, func() { c.restoreMessages(msgs) })
		}
	}
	close(c.restored)
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
			c.failedAttempts.Store(int32(min(failures, 1<<20)))
			c.sleepBackoff(failures)
			continue
		}
		failures = 0
		c.failedAttempts.Store(0)
		resumed := pos != nil && welcome.Resumed
		if !resumed {
			// Fresh start or a gap the server cannot replay: continue from its head (resync
			// fills the gap). On resume the position stays: the replay moves it forward.
			pos = &streamPos{epoch: welcome.Epoch, offset: welcome.Offset}
		}
		c.mu.Lock()
		c.sess = s
		c.mu.Unlock()
		c.applyOwnUser(welcome.User)
		c.setState(StateConnected)

		first := !c.initialised()
		if !first && (!resumed || c.resyncPending.Load()) {
			// On the event goroutine, ahead of this connection's live events (see resync).
			// Pending until an attempt succeeds, so a connection made while this one's
			// attempt is still failing queues another.
			c.resyncPending.Store(true)
			c.events.push(c.resync)
		}
		if !resumed && c.persisting() {
			head := *pos
			c.events.push(func() {
				if !c.resyncPending.Load() {
					c.streamAt(head)
				}
			})
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

// handleConnectError reports a failed connect and returns true when retrying cannot help
// (the server refused the token).
func (c *Client) handleConnectError(err error) bool {
	var we *wire.Error
	if !errors.As(err, &we) || !we.Code.IsAuth() {
		c.events.pushUrgent(func() {
			EventConnectionError.emit(c.emitter, ConnectionError{Terminal: false, Message: err.Error(), Code: wire.CodeOf(err)})
		})
		return false
	}
	c.setState(StateDenied)
	if we.Code == wire.CodeTokenExpired {
		c.events.pushUrgent(func() { EventTokenExpired.emit(c.emitter) })
	}
	c.events.pushUrgent(func() {
		EventConnectionError.emit(c.emitter, ConnectionError{Terminal: true, Message: we.Message, Code: we.Code})
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
	b, _ := wire.Encode(&wire.Frame{Type: wire.TypeHello, Data: hello.AppendJSON(nil)})
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
	if err := wire.Unmarshal(f.Data, &w); err != nil {
		conn.Close()
		return nil, nil, fmt.Errorf("bad welcome: %w", err)
	}
	s := &session{conn: conn, pending: make(map[uint64]chan reply), lost: make(chan struct{})}
	s.ctx, s.cut = context.WithCancelCause(c.ctx)
	s.lastRead.Store(time.Now().UnixNano())
	return s, &w, nil
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
				at := streamPos{epoch: pos.epoch, offset: offset}
				c.events.push(func() { c.emitMessageAdded(m); c.streamAt(at) })
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
			name, data, at := f.Event, f.Data, streamPos{epoch: pos.epoch, offset: f.Offset}
			c.events.push(func() { c.handleEvent(name, data); c.streamAt(at) })
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

// currentSession waits until there is a live connection. For a call (op set) it gives up at
// once while the client is offline (see offline); the outbox (op "") waits.
func (c *Client) currentSession(ctx context.Context, op string) (*session, error) {
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
		if op != "" && c.offline() {
			return nil, c.offlineError(op)
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
func (s *session) send(ctx context.Context, id uint64, op string, args wire.Encoder) (chan reply, error) {
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
