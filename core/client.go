// Package core is convo's client engine in plain Go: the connection state machine, the
// protocol client, the caches and the object model (Client, Conversation, Message,
// Participant, ...) with an event emitter that replays. jsapi exposes it to JavaScript; Go
// programs use it directly. It imports syscall/js only in its _js.go files, transport_js.go
// and upload_js.go, which are the browser's WebSocket transport and media upload; every other
// file is plain Go and builds the same natively and in the browser.
package core

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/convo-sdk/convo/wire"
)

// Version is the SDK version reported to servers and exposed as Client.version.
const Version = "0.1.0"

// ConnectionState is the client's public connection state, with the vendor SDK's values.
type ConnectionState string

// The connection states. A client starts "unknown".
const (
	StateUnknown       ConnectionState = "unknown"
	StateConnecting    ConnectionState = "connecting"
	StateConnected     ConnectionState = "connected"
	StateDisconnecting ConnectionState = "disconnecting"
	StateDisconnected  ConnectionState = "disconnected"
	StateDenied        ConnectionState = "denied"
	StateError         ConnectionState = "error"
)

// Options tune a Client. The zero value is ready to use.
type Options struct {
	// ServerURL overrides the WebSocket URL carried in the token's "url" claim.
	ServerURL string
	// Dial opens connections; DialWebSocket when nil.
	Dial DialFunc
	// RequestTimeout bounds a request that has no deadline of its own (default 30 s).
	RequestTimeout time.Duration
	// PingInterval is how long a connection may stay silent before the client checks it
	// (default 30 s); PingTimeout how long the check may take before the client drops the
	// connection and reconnects (default 10 s). A connection whose packets vanish without a
	// close never fails on its own.
	PingInterval, PingTimeout time.Duration
	// BackoffMin and BackoffMax bound the jittered reconnect delay (default 1 s and 120 s).
	BackoffMin, BackoffMax time.Duration
	// Logf receives diagnostics; standard error when nil (the console in a browser).
	Logf func(format string, args ...any)
	// TokenExpiryLead is how long before the token's expiry tokenAboutToExpire fires
	// (default 3 minutes; a shorter-lived token gets it at half its lifetime).
	TokenExpiryLead time.Duration
	// DeferStart makes New wait for Start before connecting, so that a caller can attach
	// listeners first (jsapi starts after the JS task that constructed the client).
	DeferStart bool
	// MessageChanged, if set, is called after a cached message's data was replaced (by an
	// event, a page or a send's reply), before any event about it is emitted. jsapi keeps its
	// copies of message fields fresh with it.
	MessageChanged func(*Message)
	// Store, if set, keeps the client's state across restarts (see LocalStore and
	// persist.go); the caller opens and closes it. A client opened on a store that holds an
	// earlier client's state is initialised from it before it connects, resumes the stream
	// where that client left it, and sends the messages it left unsent. A store that is not
	// Exclusive (another browser tab writes it) is read at the start and then left alone.
	Store LocalStore
	// AfterResult, if set, is handed a release function when a call whose vendor counterpart
	// resolves before its events has returned; the events wait until release is called. jsapi
	// calls it after the promise's reactions have run. Nil: release at once.
	AfterResult func(release func())
}

// Client is a user's connection to a convo server and the root of the object model.
// New returns at once; the client connects and initialises in the background, and calls made
// before that wait for it.
type Client struct {
	emitter *Emitter
	opts    Options

	ctx    context.Context // cancelled by Shutdown
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu            sync.Mutex
	token         string
	claims        TokenClaims
	state         ConnectionState
	user          *User
	conversations map[string]*Conversation
	users         map[string]*User // every User object but the own, by identity
	subscriptions []*User          // followed users, oldest first
	mediaURLs     map[string]cachedURL
	tokenTimers   []*time.Timer

	initDone chan struct{} // closed when initialisation succeeded or failed
	restored chan struct{} // closed when the messages of the local store are in place
	initErr  error

	resyncPending atomic.Bool       // a resync is queued or the last one did not finish (see resync)
	resyncFrom    map[string]*int64 // where each conversation's gap starts, while resyncs fail; the event goroutine's

	persist *persister // nil unless the client writes its state to Options.Store

	// failedAttempts counts the connection attempts that failed since the last connection;
	// netDown is the browser's word that the network is gone. Either, with no connection,
	// makes the client offline (see offline).
	failedAttempts atomic.Int32
	netDown        atomic.Bool

	sess     *session
	outbox   *outbox
	nextID   atomic.Uint64
	wake     chan struct{} // a nudge to reconnect now ("network is back", new token)
	events   *eventQueue
	closing  atomic.Bool
	started  atomic.Bool
	startErr error // a token problem found by New, reported by Start
}

// New creates a client for token and starts connecting.
func New(token string, opts *Options) *Client {
	c := &Client{
		emitter:       NewEmitter(),
		state:         StateUnknown,
		token:         token,
		conversations: make(map[string]*Conversation),
		users:         make(map[string]*User),
		mediaURLs:     make(map[string]cachedURL),
		initDone:      make(chan struct{}),
		restored:      make(chan struct{}),
		wake:          make(chan struct{}, 1),
		events:        newEventQueue(),
	}
	c.outbox = newOutbox(c)
	if opts != nil {
		c.opts = *opts
	}
	if c.opts.Dial == nil {
		c.opts.Dial = DialWebSocket
	}
	if c.opts.RequestTimeout <= 0 {
		c.opts.RequestTimeout = 30 * time.Second
	}
	if c.opts.PingInterval <= 0 {
		c.opts.PingInterval = 30 * time.Second
	}
	if c.opts.PingTimeout <= 0 {
		c.opts.PingTimeout = 10 * time.Second
	}
	if c.opts.BackoffMin <= 0 {
		c.opts.BackoffMin = time.Second
	}
	if c.opts.BackoffMax <= 0 {
		c.opts.BackoffMax = 120 * time.Second
	}
	if c.opts.TokenExpiryLead <= 0 {
		c.opts.TokenExpiryLead = DefaultTokenExpiryLead
	}
	if c.opts.Logf == nil {
		c.opts.Logf = func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }
	}
	c.emitter.OnListenerPanic = func(event string, r any) { c.opts.Logf("convo: a %q listener panicked: %v", event, r) }
	c.emitter.OnWarning = func(msg string) { c.opts.Logf("convo: %s", msg) }
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.user = newUser(c, wire.User{})

	claims, err := ParseTokenClaims(token)
	c.claims = claims
	if err == nil && c.serverURL() == "" {
		err = wire.Errorf(CodeClientArgument, "the token has no \"url\" claim and no ServerURL option was given: the client does not know which server to connect to")
	}
	c.startErr = err
	if !c.opts.DeferStart {
		c.Start()
	}
	return c
}

// Emitter returns the client's string-named emitter, for bindings; see EventSource.
func (c *Client) Emitter() *Emitter { return c.emitter }

// newEmitter is an emitter for one of the client's objects, reporting listener panics and
// warnings as the client's own does.
func (c *Client) newEmitter() *Emitter {
	e := NewEmitter()
	e.OnListenerPanic = c.emitter.OnListenerPanic
	e.OnWarning = c.emitter.OnWarning
	return e
}

// Start begins connecting (or reports the token problem found by New). New calls it unless
// Options.DeferStart is set; later calls do nothing.
func (c *Client) Start() {
	if c.started.Swap(true) || c.closing.Load() {
		return
	}
	err := c.startErr
	if err == nil {
		c.scheduleTokenTimers()
	}
	if c.opts.Store != nil && c.opts.Store.Exclusive() {
		c.persist = newPersister()
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		c.events.run(c.ctx)
	}()
	if err != nil {
		// Fail asynchronously, as a connection failure would, so listeners added right
		// after New still see it.
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			c.failInit(true, err)
		}()
		return
	}
	c.wg.Add(2)
	go func() {
		defer c.wg.Done()
		c.run()
	}()
	go func() {
		defer c.wg.Done()
		c.outbox.run()
	}()
}

func (c *Client) serverURL() string {
	if c.opts.ServerURL != "" {
		return c.opts.ServerURL
	}
	return c.claims.URL
}

// ConnectionState returns the current connection state.
func (c *Client) ConnectionState() ConnectionState {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// Token returns the current access token.
func (c *Client) Token() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.token
}

// User returns the signed-in user. Before initialisation it has only the identity.
func (c *Client) User() *User { return c.user }

// setState changes the state and emits connectionStateChanged once per change.
func (c *Client) setState(s ConnectionState) {
	c.mu.Lock()
	if c.state == s {
		c.mu.Unlock()
		return
	}
	c.state = s
	c.mu.Unlock()
	c.events.pushUrgent(func() { EventConnectionStateChanged.emit(c.emitter, s) })
}

// WaitInitialized blocks until the client is initialised, failed to, or ctx ends.
func (c *Client) WaitInitialized(ctx context.Context) error {
	select {
	case <-c.initDone:
		return c.initErr
	case <-ctx.Done():
		return ctx.Err()
	}
}

// endInit ends initialisation with err (nil: it succeeded) and reports whether this call
// ended it: the first one does, later ones change nothing.
func (c *Client) endInit(err error) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.initialised() {
		return false
	}
	c.initErr = err
	close(c.initDone)
	return true
}

func (c *Client) failInit(terminal bool, err error) {
	if !c.endInit(wire.Errorf(CodeClientInitFailed, "the client failed to initialise: %v", err)) {
		return
	}
	c.events.pushUrgent(func() {
		EventStateChanged.emit(c.emitter, "failed")
		EventInitFailed.emit(c.emitter, InitFailure{Terminal: terminal, Err: err})
	})
}

// succeedInit reports the client initialised. It runs on the event goroutine, which emits
// at once.
func (c *Client) succeedInit() {
	if !c.endInit(nil) {
		return
	}
	EventStateChanged.emit(c.emitter, "initialized")
	EventInitialized.emit(c.emitter)
}

func (c *Client) initialised() bool {
	select {
	case <-c.initDone:
		return true
	default:
		return false
	}
}

// initialise loads the subscribed conversations, then reports the client initialised and
// announces them, in that order, as the vendor's client does in practice (its conversations
// take more round trips than its own user; docs/VENDOR-BEHAVIOUR.md §1). They are in place
// before initialized fires, so a listener of it finds them all.
func (c *Client) initialise() {
	list, err := c.listAllConversations(c.ctx)
	if err != nil {
		if c.ctx.Err() == nil {
			c.failInit(false, err)
		}
		return
	}
	c.events.push(func() {
		fresh := make([]*Conversation, 0, len(list))
		for _, d := range list {
			conv, isNew := c.upsertConversation(d)
			conv.markStreamHistory(d.LastMessage)
			if isNew {
				fresh = append(fresh, conv)
			}
		}
		if !c.initialised() {
			c.announceOwnUser()
		}
		c.succeedInit()
		for _, conv := range fresh {
			c.announceConversation(conv)
		}
	})
}

// ready waits for initialisation before a public call.
func (c *Client) ready(ctx context.Context) error {
	if c.closing.Load() {
		return errShutdown
	}
	if err := c.WaitInitialized(ctx); err != nil {
		var we *wire.Error
		if errors.As(err, &we) {
			return err
		}
		return wire.Errorf(CodeClientTimeout, "waiting for the client to initialise: %v", err)
	}
	return nil
}

var errShutdown = wire.Errorf(CodeClientShutdown, "the client has been shut down")

// Shutdown closes the connection, stops every goroutine of the client and fails calls still
// waiting. It is safe to call more than once.
func (c *Client) Shutdown(ctx context.Context) error {
	if c.closing.Swap(true) {
		c.wg.Wait()
		return nil
	}
	// Read reports still waiting go out first, while the connection is up.
	if c.ConnectionState() == StateConnected {
		flushCtx, cancel := context.WithTimeout(ctx, 3*time.Second)
		c.flushAllReads(flushCtx)
		cancel()
	}
	c.stopTokenTimers()
	c.saveState()
	c.mu.Lock()
	c.state = StateDisconnecting
	c.mu.Unlock()
	EventConnectionStateChanged.emit(c.emitter, StateDisconnecting)
	c.cancel()
	done := make(chan struct{})
	go func() { c.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		return ctx.Err()
	}
	c.mu.Lock()
	c.state = StateDisconnected
	c.mu.Unlock()
	// The event loop has stopped: tell listeners directly.
	EventConnectionStateChanged.emit(c.emitter, StateDisconnected)
	return nil
}

// NetworkOnline tells the client the network is back, so it reconnects now instead of
// waiting out its backoff.
func (c *Client) NetworkOnline() {
	c.netDown.Store(false)
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// NetworkOffline tells the client the network is gone: until a connection is up again, calls
// that need the server fail at once (see offline).
func (c *Client) NetworkOffline() { c.netDown.Store(true) }
