package server

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/time/rate"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/wire"
)

// readBatch is how many stream events a connection reads from the store at a time when it
// replays or catches up.
const readBatch = 500

// conn is one client connection. The HTTP handler goroutine reads and handles requests in
// order; one writer goroutine owns the socket's write side and the stream position, so
// replies and events never interleave and events go out strictly in offset order. The
// writer runs only while there is something to write (an idle connection keeps one
// goroutine, the reader, not two); token expiry and keep-alive pings are timers.
type conn struct {
	srv      *Server
	ws       *websocket.Conn
	identity string
	base     string // scheme://host of this server as the client reached it (media URLs)
	log      *slog.Logger
	// readCtx governs every Read; cancelling it cuts the socket at once (the websocket library closes a
	// connection whose read context ends). Used when a peer does not answer a close.
	readCtx    context.Context
	cancelRead context.CancelFunc

	replySlots chan struct{} // bounds the replies waiting for the writer (maxReplies)
	done       chan struct{} // closed when the writer stops for good (bye, write failure)
	limiter    *rate.Limiter // requests of this connection; nil: unlimited
	expiry     *time.Timer   // says bye at the token's Deadline (exp + auth.Leeway)
	pinger     *time.Timer   // next keep-alive ping; nil: none

	mu       sync.Mutex
	replies  []*wire.Frame
	queue    []queued
	overflow bool
	signals  []*wire.Frame // ephemeral frames waiting for the writer; dropped when full
	byeErr   *wire.Error   // a bye to send, then close; the first reason wins
	writing  bool          // a writer goroutine runs
	stopped  bool          // the reader is done, or the writer stopped for good: start none
	writers  sync.WaitGroup

	last uint64 // last offset written; writer goroutine only
	// Writes run one at a time (the handshake's, then the writer goroutine's) and share one
	// context, cancelled by writeTimer when a write overruns: a context and a timer per
	// frame cost an allocation of each at every delivery.
	writeCtx   context.Context
	writeTimer *time.Timer
}

// maxReplies is how many replies may wait for the writer before the reader stops reading
// requests: a client that sends without reading is held back, not buffered without end.
const maxReplies = 16

// closeCode maps a wire error to the WebSocket close code sent after the bye frame:
// 4000 + the code's hundreds (CodeTokenExpired 40101 → 4401, CodeUnavailable → 4503).
func closeCode(e *wire.Error) websocket.StatusCode {
	return websocket.StatusCode(4000 + e.Code.Status()%1000)
}

func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	// Counted before the upgrade: http.Server.Shutdown waits for this handler until Accept
	// hijacks the connection, so Close never misses a connection.
	s.conns.Add(1)
	defer s.conns.Done()
	// A page from an origin that is not allowed gets the upgrade all the same, and then a bye
	// that says what to configure: browsers show a refused upgrade to the page as a bare
	// failed connection, never with the 403's body. Nothing from such a socket is read or
	// acted on (the hello, with its token, is never looked at), so it can do no more than the
	// refusal could.
	refused := !s.originAllowed(r)
	ws, err := websocket.Accept(smallBuffers{w}, r, &websocket.AcceptOptions{
		Subprotocols: []string{wire.Subprotocol},
		// originAllowed decided already; the library's own check ignores the scheme.
		InsecureSkipVerify: true,
	})
	if err != nil {
		s.log.Info("websocket upgrade refused", "err", err, "remote", r.RemoteAddr)
		return // Accept has written the HTTP error
	}
	// readFrame enforces wire.MaxFrameBytes, so that an oversized frame gets a bye: the
	// library's own limit would close with 1009 and no bye.
	ws.SetReadLimit(-1)
	c := &conn{
		srv:        s,
		ws:         ws,
		log:        s.log.With("remote", r.RemoteAddr),
		replySlots: make(chan struct{}, maxReplies),
		done:       make(chan struct{}),
		limiter:    s.limits.connLimiter(),
		base:       s.httpBase(r),
		// No writer may start before the one that sends the welcome: once registered in
		// the hub, signals and events are queued for it (kick leaves them pending).
		writing: true,
	}
	// The connection runs on a goroutine of its own and the handler returns: net/http's
	// goroutine (a deep stack that an idle reader would keep) and the request's objects
	// go, and an idle connection keeps only its reader's stack. The request's context ends
	// when the handler returns, so the connection's own contexts do not derive from it.
	origin := r.Header.Get("Origin")
	s.conns.Add(1)
	s.metrics.connections.Inc()
	go func() {
		defer s.conns.Done()
		defer s.metrics.connections.Dec()
		s.runConn(c, refused, origin)
	}()
}

// runConn is one WebSocket connection's life after the upgrade: hello, welcome, then the
// reader (here) and the writer (writeLoop) until either ends.
func (s *Server) runConn(c *conn, refused bool, origin string) {
	ws := c.ws
	c.readCtx, c.cancelRead = context.WithCancel(context.Background())
	defer c.cancelRead()
	defer ws.CloseNow()
	if refused {
		c.log.Info("websocket refused: origin not allowed", "origin", origin)
		c.sayByeNow(originRefusal(origin))
		return
	}
	if ws.Subprotocol() != wire.Subprotocol {
		c.sayByeNow(wire.Errorf(wire.CodeBadRequest, "the client must request WebSocket subprotocol %q", wire.Subprotocol))
		return
	}
	welcome, deadline, ok := c.hello(c.readCtx)
	if !ok {
		return
	}
	release, herr := s.acquireConn(c.readCtx, c.identity)
	if herr != nil {
		c.log.Info("connection refused", "err", herr.Message)
		c.sayByeNow(herr)
		return
	}
	defer release()
	first, herr := s.hub.add(c, s.cfg.MaxConnsPerIdentity)
	if herr != nil {
		c.log.Info("connection refused", "err", herr.Message)
		c.sayByeNow(herr)
		return
	}
	defer func() {
		if s.hub.remove(c) {
			s.reachabilityChanged(c.identity, false, nil)
		}
	}()
	if first {
		s.reachabilityChanged(c.identity, true, c)
	}
	welcome.User.IsOnline = true
	// Registered before reading the head: anything committed from here on is pushed, and
	// anything before is in the store; the writer's offset check removes the overlap.
	start, err := c.position(c.readCtx, welcome)
	if err != nil {
		c.log.Error("reading stream head failed", "err", err)
		c.sayByeNow(wire.Errorf(wire.CodeInternal, "could not read your event stream"))
		return
	}
	c.log.Info("client connected", "identity", c.identity, "resumed", welcome.Resumed, "offset", welcome.Offset)
	c.expiry = time.AfterFunc(time.Until(deadline), func() {
		c.sayBye(wire.Errorf(wire.CodeTokenExpired, "access token expired; reconnect with a new token"))
	})
	defer c.expiry.Stop()
	c.startPinging()
	defer c.stopPinging()
	c.writers.Add(1)
	go c.writeLoop(welcome, start)
	c.readLoop()
	c.mu.Lock()
	c.stopped = true
	c.mu.Unlock()
	c.writers.Wait()
	c.log.Info("client disconnected", "identity", c.identity)
}

// hello waits for the hello frame, verifies its token and prepares the welcome. It returns
// the token's Deadline, when the session ends unless the token is renewed.
func (c *conn) hello(ctx context.Context) (*wire.WelcomeData, time.Time, bool) {
	s := c.srv
	// A Read whose context ends closes the socket before a bye could be sent, so the
	// deadline is a timer that says bye itself.
	timedOut := make(chan struct{})
	timer := time.AfterFunc(s.cfg.HelloTimeout, func() {
		defer close(timedOut)
		c.sayByeNow(wire.Errorf(wire.CodeNoHello, "no hello frame within %v", s.cfg.HelloTimeout))
	})
	b, err := c.readFrame(ctx)
	if !timer.Stop() {
		<-timedOut
		return nil, time.Time{}, false
	}
	var we *wire.Error
	if errors.As(err, &we) {
		c.log.Info("hello refused", "err", we.Message)
		c.sayByeNow(we)
		return nil, time.Time{}, false
	}
	if err != nil {
		return nil, time.Time{}, false
	}
	f, err := wire.Decode(b)
	if err != nil {
		c.sayByeNow(asWireError(err))
		return nil, time.Time{}, false
	}
	if f.Type != wire.TypeHello {
		c.sayByeNow(wire.Errorf(wire.CodeNoHello, "the first frame must be a hello, got %q", f.Type))
		return nil, time.Time{}, false
	}
	var h wire.HelloData
	if err := json.Unmarshal(f.Data, &h); err != nil {
		c.sayByeNow(wire.Errorf(wire.CodeBadFrame, "hello data must be an object with a token: %v", err))
		return nil, time.Time{}, false
	}
	claims, err := s.cfg.Keys.Verify(h.Token)
	if err != nil {
		c.log.Info("hello refused", "err", err, "client", wire.Clip(h.Client))
		c.sayByeNow(asWireError(err))
		return nil, time.Time{}, false
	}
	c.identity = claims.Identity
	c.log = c.log.With("identity", c.identity)
	_, err = s.cfg.Store.EnsureUser(ctx, c.identity)
	var user wire.User
	if err == nil {
		user, err = s.cfg.Store.User(ctx, c.identity) // with IsNotifiable
	}
	if we := storeOutage(err); we != nil {
		// A first connection writes the user's record; a full disk or an unreachable
		// database passes, and the client reconnects.
		c.log.Warn("loading user failed: "+we.Message, "err", err)
		c.sayByeNow(we)
		return nil, time.Time{}, false
	}
	if err != nil {
		c.log.Error("loading user failed", "err", err)
		c.sayByeNow(wire.Errorf(wire.CodeInternal, "could not load your user record"))
		return nil, time.Time{}, false
	}
	w := &wire.WelcomeData{Identity: c.identity, User: user, TokenExpires: claims.ExpiresAt.UnixMilli()}
	if h.Resume != nil {
		w.Epoch, w.Offset = h.Resume.Epoch, h.Resume.Offset // checked against the head in position
		w.Resumed = true
	}
	return w, claims.Deadline(), true
}

// position reads the stream head and decides where delivery starts: after the requested
// offset when the whole gap is still retained, else at the head (Resumed false).
func (c *conn) position(ctx context.Context, w *wire.WelcomeData) (uint64, error) {
	head, err := c.srv.cfg.Store.StreamHead(ctx, c.identity)
	if err != nil {
		return 0, err
	}
	start := head.Last
	if w.Resumed && head.CanResume(w.Epoch, w.Offset) {
		start = w.Offset
	} else {
		w.Resumed = false
	}
	w.Epoch, w.Offset = head.Epoch, head.Last
	return start, nil
}

// readFrame reads one message of at most wire.MaxFrameBytes. A larger one is left unread
// beyond the limit and reported as a *wire.Error (CodeTooLarge); the connection must then
// end with a bye, whose close handshake discards the rest.
func (c *conn) readFrame(ctx context.Context) ([]byte, error) {
	_, r, err := c.ws.Reader(ctx)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(r, wire.MaxFrameBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > wire.MaxFrameBytes {
		return nil, wire.Errorf(wire.CodeTooLarge, "a frame from the client is at most %d bytes; this one is larger", wire.MaxFrameBytes)
	}
	return b, nil
}

func (c *conn) readLoop() {
	broken := false
	for {
		b, err := c.readFrame(c.readCtx)
		var we *wire.Error
		if errors.As(err, &we) {
			// The rest of the frame is unread, so nothing more can be read: wait for the
			// writer to send the bye and close (or to fail).
			c.log.Info("connection closed: frame too large", "err", we.Message)
			c.sayBye(we)
			<-c.done
			return
		}
		if err != nil {
			return
		}
		if broken {
			continue // a bye is on its way; the close ends Read
		}
		f, err := wire.Decode(b)
		if err == nil && f.Type != wire.TypeRequest {
			err = wire.Errorf(wire.CodeBadFrame, "expected a %q frame after the hello, got %q", wire.TypeRequest, f.Type)
		}
		if err != nil {
			c.sayBye(asWireError(err))
			broken = true
			continue
		}
		c.srv.metrics.frameIn(f.Type)
		var reply *wire.Frame
		if c.limiter != nil && !c.limiter.Allow() {
			reply = wire.ReplyError(f.ID, wire.Errorf(wire.CodeRateLimited,
				"too many requests on this connection (at most %g a second); retry in a moment", float64(c.limiter.Limit())))
		} else {
			reply = c.srv.handle(c, f)
		}
		select {
		case c.replySlots <- struct{}{}:
		case <-c.done:
			return
		}
		c.mu.Lock()
		c.replies = append(c.replies, reply)
		c.kick()
		c.mu.Unlock()
	}
}

// kick starts the writer unless it runs or the connection is ending; c.mu is held.
func (c *conn) kick() {
	if c.writing || c.stopped {
		return
	}
	c.writing = true
	c.writers.Add(1)
	go c.writeLoop(nil, 0)
}

// push queues a committed event for the writer; it never blocks. When the queue is full the
// event is dropped and the writer reads it back from the store.
func (c *conn) push(d queued) {
	c.mu.Lock()
	if len(c.queue) >= c.srv.cfg.QueueSize {
		c.overflow = true
	} else {
		c.queue = append(c.queue, d)
	}
	c.kick()
	c.mu.Unlock()
}

// maxSignals bounds the ephemeral frames a connection buffers; more are dropped (they are
// news, not state: typing, presence).
const maxSignals = 256

// signal queues an ephemeral frame for the writer; it never blocks.
func (c *conn) signal(f *wire.Frame) {
	c.mu.Lock()
	if len(c.signals) < maxSignals {
		c.signals = append(c.signals, f)
	}
	c.kick()
	c.mu.Unlock()
}

// resync makes the writer read its stream from the store, as after an overflow: events
// another node published may have been lost on the bus.
func (c *conn) resync() {
	c.mu.Lock()
	c.overflow = true
	c.kick()
	c.mu.Unlock()
}

// renewed moves the session's end to a renewed token's Deadline.
func (c *conn) renewed(deadline time.Time) {
	if c.expiry != nil {
		c.expiry.Reset(time.Until(deadline))
	}
}

// sayBye asks the writer to send a bye and close; the first reason wins.
func (c *conn) sayBye(e *wire.Error) {
	c.mu.Lock()
	if c.byeErr == nil {
		c.byeErr = e
	}
	c.kick()
	c.mu.Unlock()
}

var errFellBehind = wire.Errorf(wire.CodeUnavailable, "this connection fell further behind than the server retains; reconnect to resynchronise")

// writeLoop writes what is pending until nothing is, then exits; kick starts it again.
// The first run (welcome != nil) sends the welcome and catches up from start.
func (c *conn) writeLoop(welcome *wire.WelcomeData, start uint64) {
	defer c.writers.Done()
	// stop ends writing for good: nothing more starts a writer, the reader stops waiting.
	stop := func() {
		c.mu.Lock()
		c.stopped, c.writing = true, false
		c.mu.Unlock()
		close(c.done)
	}
	fail := func(err error) {
		var we *wire.Error
		if !errors.As(err, &we) {
			c.log.Info("event delivery failed", "err", err)
			we = wire.Errorf(wire.CodeUnavailable, "event delivery failed; reconnect")
		}
		c.sayByeNow(we)
		stop()
	}
	// broken: the socket failed; cut it so the reader ends too.
	broken := func() {
		c.cancelRead()
		stop()
	}
	if welcome != nil {
		c.last = start
		if err := c.write(&wire.Frame{Type: wire.TypeWelcome, Data: mustJSON(welcome)}); err != nil {
			broken()
			return
		}
		if err := c.catchUp(); err != nil {
			fail(err)
			return
		}
	}
	for {
		c.mu.Lock()
		if c.stopped || (len(c.replies) == 0 && len(c.queue) == 0 && !c.overflow && len(c.signals) == 0 && c.byeErr == nil) {
			c.writing = false
			c.mu.Unlock()
			return
		}
		replies, q, overflow, sigs, bye := c.replies, c.queue, c.overflow, c.signals, c.byeErr
		c.replies, c.queue, c.overflow, c.signals = nil, nil, false, nil
		c.mu.Unlock()
		// Events before replies: a request pushes the events it committed before its reply
		// is queued, so a client sees them before the call resolves (on this node).
		if err := c.drain(q, overflow, sigs); err != nil {
			fail(err)
			return
		}
		for _, f := range replies {
			<-c.replySlots
			if err := c.write(f); err != nil {
				broken()
				return
			}
		}
		if bye != nil {
			c.sayByeNow(bye)
			stop()
			return
		}
	}
}

// drain writes queued events in offset order. Anything out of sequence (a gap from
// concurrent commits, events dropped on overflow or on the bus) or without a payload (a
// bus hint for an event too large to carry) is read from the store instead.
func (c *conn) drain(q []queued, overflow bool, sigs []*wire.Frame) error {
	defer func() {
		for _, f := range sigs {
			if c.write(f) != nil {
				return
			}
		}
	}()
	for _, d := range q {
		switch {
		case d.Offset <= c.last:
			// Already sent from the store.
		case d.Offset == c.last+1 && d.Payload != nil:
			if err := c.writeEvent(d.Delivery, d.compact); err != nil {
				return err
			}
		default:
			if err := c.catchUp(); err != nil {
				return err
			}
		}
	}
	if overflow {
		return c.catchUp()
	}
	return nil
}

// catchUp sends every stored event after the last one sent.
func (c *conn) catchUp() error {
	for {
		ds, err := c.srv.cfg.Store.ReadStream(context.Background(), c.identity, c.last, readBatch)
		if err != nil {
			return err
		}
		if len(ds) > 0 && ds[0].Offset != c.last+1 {
			return errFellBehind
		}
		for _, d := range ds {
			if err := c.writeEvent(d, false); err != nil {
				return err
			}
		}
		if len(ds) < readBatch {
			return nil
		}
	}
}

// queued is a delivery waiting in a connection's queue; compact: its payload is compact
// JSON already (the hub compacted it once for every connection it went to).
type queued struct {
	store.Delivery
	compact bool
}

// maxPooledFrame is the largest frame buffer kept for reuse; rare large frames are not
// held on to.
const maxPooledFrame = 64 << 10

// writeEvent writes an event frame. A compact payload is spliced into the frame as it is;
// anything else is encoded as any frame (which compacts the payload and checks it).
func (c *conn) writeEvent(d store.Delivery, compact bool) error {
	f := &wire.Frame{Type: wire.TypeEvent, Event: d.Event, Offset: d.Offset, Data: d.Payload}
	var err error
	buf := frameBufs.Get().(*[]byte)
	if b := eventFrame((*buf)[:0], d, compact); b != nil {
		err = c.writeBytes(f, b)
		if cap(b) <= maxPooledFrame {
			*buf = b
		}
	} else {
		err = c.write(f)
	}
	frameBufs.Put(buf)
	if err != nil {
		return err
	}
	c.last = d.Offset
	c.srv.metrics.fanoutDone(d.At)
	return nil
}

func (c *conn) write(f *wire.Frame) error {
	b, err := encodeFrame(f)
	if err != nil {
		return err
	}
	return c.writeBytes(f, b)
}

// writeBytes writes f, encoded as b.
func (c *conn) writeBytes(f *wire.Frame, b []byte) (err error) {
	if len(b) > wire.MaxServerFrameBytes {
		// Replies are checked when their result is encoded (encodeResults) and nothing else
		// comes near the limit; should one still be too large, the client cannot read it.
		c.log.Error("frame exceeds the server frame limit", "type", f.Type, "event", f.Event, "bytes", len(b))
		tooLarge := wire.Errorf(wire.CodeTooLarge, "a %s frame of %d bytes exceeds the limit of %d", f.Type, len(b), wire.MaxServerFrameBytes)
		if f.Type != wire.TypeReply {
			return tooLarge
		}
		if b, err = encodeFrame(wire.ReplyError(f.ID, tooLarge)); err != nil {
			return err
		}
	}
	c.srv.metrics.frameOut(f.Type)
	if c.writeTimer == nil {
		var cancel context.CancelFunc
		c.writeCtx, cancel = context.WithCancel(context.Background())
		c.writeTimer = time.AfterFunc(c.srv.cfg.WriteTimeout, cancel)
	} else {
		c.writeTimer.Reset(c.srv.cfg.WriteTimeout)
	}
	// A write that overran leaves the context cancelled; the connection is closing then
	// (the websocket library closes a connection whose write times out), and later writes fail at once.
	err = c.ws.Write(c.writeCtx, websocket.MessageText, b)
	if !c.writeTimer.Stop() && err == nil {
		// The timer fired as the write finished in time: the next write needs a fresh context.
		c.writeTimer = nil
	}
	return err
}

// startPinging arms the keep-alive: a timer, so an idle connection holds no goroutine for
// it; each ping runs on the timer's goroutine while it waits for the pong.
func (c *conn) startPinging() {
	if every := c.srv.cfg.PingInterval; every > 0 {
		c.mu.Lock()
		c.pinger = time.AfterFunc(every, c.ping)
		c.mu.Unlock()
	}
}

func (c *conn) stopPinging() {
	c.mu.Lock()
	if c.pinger != nil {
		c.pinger.Stop()
		c.pinger = nil
	}
	c.mu.Unlock()
}

// ping pings the peer and cuts the connection when no pong comes in time (the reader,
// which reads the pong, then ends); else it arms the next ping.
func (c *conn) ping() {
	ctx, cancel := context.WithTimeout(context.Background(), c.srv.cfg.PongTimeout)
	err := c.ws.Ping(ctx)
	cancel()
	if err != nil {
		if !errors.Is(err, net.ErrClosed) {
			c.log.Info("no pong from the client; closing", "err", err)
		}
		c.cancelRead()
		return
	}
	c.mu.Lock()
	if c.pinger != nil {
		c.pinger.Reset(c.srv.cfg.PingInterval)
	}
	c.mu.Unlock()
}

// closeGrace is how long a peer has to answer our close frame before the socket is cut.
const closeGrace = time.Second

// sayByeNow writes a bye frame and closes the socket. Browsers never see the close code, so
// the bye frame carries the reason.
func (c *conn) sayByeNow(e *wire.Error) {
	_ = c.write(&wire.Frame{Type: wire.TypeBye, Error: e})
	reason := e.Message
	if len(reason) > 120 { // a close reason is at most 123 bytes
		reason = reason[:120]
	}
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		_ = c.ws.Close(closeCode(e), reason)
	}()
	select {
	case <-closed:
	case <-time.After(closeGrace):
		// The handshake waits up to 10 s for a peer that is not reading; don't.
		c.cancelRead()
		<-closed
	}
}

func asWireError(err error) *wire.Error {
	var we *wire.Error
	if errors.As(err, &we) {
		return we
	}
	return wire.Errorf(wire.CodeInternal, "internal error")
}

func mustJSON(v any) wire.RawJSON {
	b, err := marshalJSON(v)
	if err != nil {
		panic(err) // only wire types are marshalled here
	}
	return b
}
