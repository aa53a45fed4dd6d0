package bus

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/wire"
)

// NATSOptions configure a NATS bus. URL (or Conn) is required.
type NATSOptions struct {
	// URL of the NATS server(s), comma separated: nats://host:4222.
	URL string
	// Conn, when set, is used instead of dialling URL; the caller owns it (the bus does not
	// close it) and should have dialled it with nats.NoEcho. The bus installs its own
	// reconnect, disconnect and error handlers on it.
	Conn *nats.Conn
	// Options are extra dial options (credentials, TLS, ...), applied after the bus's own.
	Options []nats.Option
	// Subject prefixes every subject; nodes of one cluster must agree on it, so several
	// clusters can share a NATS server. Empty means "convo.bus".
	Subject string
	// Heartbeat is how often a node says it is alive; 0 means 1 s.
	Heartbeat time.Duration
	// HeartbeatTimeout is how long a silent node is trusted before its users go offline
	// (a node killed without a goodbye); 0 means 5 s. At least twice Heartbeat.
	HeartbeatTimeout time.Duration
	Logger           *slog.Logger
}

// NATS links the nodes of a cluster through a NATS server (core NATS, at most once).
//
// Subjects (prefix P, default "convo.bus"): P.deliver, P.signal, P.user and P.presence,
// each broadcast to every node; a node subscribes to P.* once and keeps what concerns its
// own connections. Broadcast rather than a subject per identity or per shard of
// identities: a node holds many users, so per-shard interest soon covers every shard and
// saves nothing, while per-identity subjects would split one committed batch (a message
// to a thousand participants) into a thousand messages and need a subscription change,
// whose propagation races the commit, on every connect. A committed batch travels as one
// message (several when it exceeds the server's max payload). With the handful of nodes a
// self-hosted cluster has, each node reading every batch costs less than either.
//
// Every message carries its node's id and sequence number; a receiver that sees a gap
// (NATS dropped something: an outage, a slow consumer) makes its connections catch up
// from the store and asks for the node's presence state again (presence.go).
//
// Bus methods never wait for NATS: they queue numbered messages for one publisher
// goroutine (natsout.go). While this node cannot reach NATS, requests still commit and
// local connections still get their events; publishes fail at once (no reconnect buffer,
// so nothing stale is replayed later). Clients on other nodes meanwhile hear none of this
// node's events, signals or presence changes, and after HeartbeatTimeout this node's users
// look offline to them. When the link comes back, the gap in this node's sequence makes
// every other node's connections catch up from the store (a committed event arrives even
// if nothing follows it), this node's own connections catch up too, and presence is
// exchanged again.
type NATS struct {
	nc      *nats.Conn
	owned   bool // dialled here: Close closes it
	self    string
	subj    subjects
	log     *slog.Logger
	beat    time.Duration
	timeout time.Duration

	mu     sync.Mutex // presence; held while queueing presence so order matches state
	pres   *presence
	closed atomic.Bool

	out outbox // messages on their way to NATS (natsout.go)

	// life is held shared while the receiver is called; Close takes it to stop that.
	life sync.RWMutex
	recv Receiver
	dead bool

	sub  *nats.Subscription
	stop chan struct{}
	done chan struct{}
}

type subjects struct{ deliver, signal, user, presence, all string }

var _ Bus = (*NATS)(nil)

// NewNATS connects to NATS and joins the cluster. It fails when NATS cannot be reached
// now; once connected it reconnects forever.
func NewNATS(o NATSOptions) (*NATS, error) {
	if o.Subject == "" {
		o.Subject = "convo.bus"
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = time.Second
	}
	if o.HeartbeatTimeout <= 0 {
		o.HeartbeatTimeout = 5 * time.Second
	}
	if o.HeartbeatTimeout < 2*o.Heartbeat {
		return nil, fmt.Errorf("bus: HeartbeatTimeout %v must be at least twice Heartbeat %v", o.HeartbeatTimeout, o.Heartbeat)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	var id [8]byte
	_, _ = rand.Read(id[:])
	b := &NATS{
		self: hex.EncodeToString(id[:]),
		subj: subjects{
			deliver: o.Subject + ".deliver", signal: o.Subject + ".signal", user: o.Subject + ".user",
			presence: o.Subject + ".presence", all: o.Subject + ".*",
		},
		beat: o.Heartbeat, timeout: o.HeartbeatTimeout,
		pres: newPresence(time.Now().Add(o.HeartbeatTimeout)),
		stop: make(chan struct{}), done: make(chan struct{}),
	}
	b.out.init()
	b.log = o.Logger.With("bus", "nats", "node", b.self)
	b.nc = o.Conn
	if b.nc == nil {
		if o.URL == "" {
			return nil, errors.New("bus: NATSOptions.URL or Conn is required")
		}
		opts := append([]nats.Option{
			nats.Name("convo node " + b.self),
			nats.NoEcho(),
			nats.MaxReconnects(-1),
			nats.ReconnectWait(o.Heartbeat),
			// Fail publishes at once while disconnected: the store is the truth and the
			// sequence gap tells the others to read it, so nothing stale is replayed later.
			nats.ReconnectBufSize(-1),
			// Notice a dead link within about the heartbeat timeout, not minutes.
			nats.PingInterval(o.HeartbeatTimeout / 2),
			nats.MaxPingsOutstanding(2),
			nats.FlusherTimeout(o.HeartbeatTimeout),
		}, o.Options...)
		nc, err := nats.Connect(o.URL, opts...)
		if err != nil {
			return nil, fmt.Errorf("bus: connect to NATS at %s: %w", o.URL, err)
		}
		b.nc, b.owned = nc, true
	}
	b.nc.SetDisconnectErrHandler(func(_ *nats.Conn, err error) {
		b.log.Warn("lost the NATS connection; other nodes will not hear this one until it is back", "err", err)
	})
	b.nc.SetReconnectHandler(func(*nats.Conn) { b.reconnected() })
	b.nc.SetErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		// A slow consumer drops messages; the sequence gap triggers the catch-up.
		b.log.Warn("NATS error", "err", err)
	})
	sub, err := b.nc.Subscribe(b.subj.all, b.handle)
	if err == nil {
		err = b.nc.Flush() // the subscription is live before anyone is asked for state
	}
	if err != nil {
		if b.owned {
			b.nc.Close()
		}
		return nil, fmt.Errorf("bus: subscribe to %s: %w", b.subj.all, err)
	}
	b.sub = sub
	go b.publisher()
	// Message 1: a fresh node, empty set; it asks everyone for theirs.
	b.send(b.subj.presence, kindSync, encodeString(""))
	go b.heartbeats()
	return b, nil
}

// Node is this node's id in the cluster (random per bus).
func (b *NATS) Node() string { return b.self }

// Attach implements Bus.
func (b *NATS) Attach(r Receiver) {
	b.life.Lock()
	b.recv = r
	b.life.Unlock()
}

// Deliver implements Bus: one message per batch that fits the server's max payload. Like
// every Bus method it only queues: a request never waits for NATS.
func (b *NATS) Deliver(ds []store.Delivery) {
	if len(ds) == 0 || b.closed.Load() {
		return
	}
	for _, body := range deliveryBatches(ds, b.maxBody()) {
		b.send(b.subj.deliver, kindDeliver, body)
	}
}

// Signal implements Bus.
func (b *NATS) Signal(identities []string, f *wire.Frame) {
	if len(identities) == 0 || b.closed.Load() {
		return
	}
	b.sendSmall(b.subj.signal, kindSignal, encodeSignal(identities, f))
}

// SignalUser implements Bus.
func (b *NATS) SignalUser(identity string, f *wire.Frame) {
	if b.closed.Load() {
		return
	}
	b.sendSmall(b.subj.user, kindUser, encodeUserSignal(identity, f))
}

// Up implements Bus.
func (b *NATS) Up(identity string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed.Load() {
		return false
	}
	online := b.pres.up(identity)
	b.send(b.subj.presence, kindUp, encodeString(identity))
	return online
}

// Down implements Bus.
func (b *NATS) Down(identity string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed.Load() {
		return false
	}
	offline := b.pres.down(identity)
	b.send(b.subj.presence, kindDown, encodeString(identity))
	return offline
}

// OnlineElsewhere implements Bus.
func (b *NATS) OnlineElsewhere(identity string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.pres.elsewhere(identity)
}

// Close implements Bus: it says goodbye, so the other nodes drop this node's users at once
// rather than after the heartbeat timeout.
func (b *NATS) Close() error {
	b.mu.Lock()
	already := b.closed.Swap(true)
	b.mu.Unlock()
	if already {
		return nil
	}
	b.life.Lock()
	b.dead = true
	b.life.Unlock()
	close(b.stop)
	<-b.done
	b.send(b.subj.presence, kindBye, nil)
	b.out.close() // waits until the goodbye is handed to NATS
	err := b.sub.Unsubscribe()
	if b.nc.IsConnected() {
		if ferr := b.nc.FlushTimeout(b.beat); ferr != nil {
			b.log.Info("flushing the goodbye failed", "err", ferr)
		}
	}
	if b.owned {
		b.nc.Close()
	}
	if errors.Is(err, nats.ErrConnectionClosed) || errors.Is(err, nats.ErrBadSubscription) {
		err = nil // the caller closed its connection first: nothing left to undo
	}
	return err
}
