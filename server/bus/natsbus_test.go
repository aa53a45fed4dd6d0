package bus_test

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/internal/natstest"
	"github.com/convo-sdk/convo/server/bus"
	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/wire"
)

// Short heartbeats, so reconnects are quick and expiry tests take well under a second.
// Tests that expect no expiry use a long timeout, so a loaded machine cannot fake one;
// waits are generous for the same reason.
const (
	beat    = 50 * time.Millisecond
	timeout = 400 * time.Millisecond
	wait    = 10 * time.Second
	poll    = 10 * time.Millisecond
)

// expiring makes a node declare others dead after the short timeout.
func expiring(o *bus.NATSOptions) { o.HeartbeatTimeout = timeout }

// recorder is a Receiver that keeps everything it is handed.
type recorder struct {
	mu         sync.Mutex
	deliveries []store.Delivery
	signals    []string // "event>identity,identity"
	users      []string // "identity:event"
	reach      []string // "identity+" or "identity-"
	resyncs    int
}

func (r *recorder) Deliver(ds []store.Delivery) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.deliveries = append(r.deliveries, ds...)
}

func (r *recorder) Signal(ids []string, f *wire.Frame) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := f.Event + ">"
	for i, id := range ids {
		if i > 0 {
			s += ","
		}
		s += id
	}
	r.signals = append(r.signals, s)
}

func (r *recorder) SignalUser(id string, f *wire.Frame) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.users = append(r.users, id+":"+f.Event)
}

func (r *recorder) Reachability(id string, online bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if online {
		r.reach = append(r.reach, id+"+")
	} else {
		r.reach = append(r.reach, id+"-")
	}
}

func (r *recorder) Resync() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.resyncs++
}

func (r *recorder) reachOf() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.reach...)
}

// reaches waits until r has seen exactly want: the bus updates its view of who is online
// before it calls Reachability, so a test that saw the view change may be early.
func reaches(t *testing.T, r *recorder, want ...string) {
	t.Helper()
	require.Eventually(t, func() bool { return slices.Equal(r.reachOf(), want) }, wait, poll)
	assert.Equal(t, want, r.reachOf())
}

func (r *recorder) resyncCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.resyncs
}

// node starts a bus on url with a recorder attached, closed when the test ends.
func node(t *testing.T, url string, opts ...func(*bus.NATSOptions)) (*bus.NATS, *recorder) {
	t.Helper()
	o := bus.NATSOptions{URL: url, Heartbeat: beat, HeartbeatTimeout: time.Minute}
	for _, f := range opts {
		f(&o)
	}
	b, err := bus.NewNATS(o)
	require.NoError(t, err)
	r := &recorder{}
	b.Attach(r)
	t.Cleanup(func() { assert.NoError(t, b.Close()) })
	return b, r
}

// knows waits until b sees identity online on another node (or not).
func knows(t *testing.T, b *bus.NATS, identity string, online bool) {
	t.Helper()
	require.Eventually(t, func() bool { return b.OnlineElsewhere(identity) == online }, wait, poll,
		"%s online elsewhere should become %v", identity, online)
}

func TestNATSCarriesDeliveriesAndSignalsToEveryOtherNode(t *testing.T) {
	url := natstest.Start(t)
	a, ra := node(t, url)
	_, rb := node(t, url)
	_, rc := node(t, url)

	// Count the messages on the deliver subject: one batch, one message.
	spy, err := nats.Connect(url)
	require.NoError(t, err)
	t.Cleanup(spy.Close)
	var msgs sync.WaitGroup
	msgs.Add(1)
	sub, err := spy.Subscribe("convo.bus.deliver", func(*nats.Msg) { msgs.Done() })
	require.NoError(t, err)
	require.NoError(t, spy.Flush())

	ds := []store.Delivery{
		{Identity: "alice", Offset: 1, Event: wire.EventMessageAdded, Payload: wire.RawJSON(`{"n":1}`), At: time.Now()},
		{Identity: "bob", Offset: 4, Event: wire.EventMessageAdded, Payload: wire.RawJSON(`{"n":1}`), At: time.Now()},
		{Identity: "alice", Offset: 2, Event: wire.EventMessageAdded, Payload: wire.RawJSON(`{"n":2}`), At: time.Now()},
	}
	a.Deliver(ds)
	a.Signal([]string{"bob", "carol"}, &wire.Frame{Type: wire.TypeSignal, Event: wire.SignalTyping, Data: wire.RawJSON(`{}`)})
	a.SignalUser("alice", &wire.Frame{Type: wire.TypeSignal, Event: wire.SignalUserUpdated, Data: wire.RawJSON(`{}`)})

	for _, r := range []*recorder{rb, rc} {
		require.Eventually(t, func() bool {
			r.mu.Lock()
			defer r.mu.Unlock()
			return len(r.deliveries) == 3 && len(r.signals) == 1 && len(r.users) == 1
		}, wait, poll)
		r.mu.Lock()
		for i, d := range r.deliveries {
			assert.Equal(t, ds[i].Identity, d.Identity)
			assert.Equal(t, ds[i].Offset, d.Offset)
			assert.JSONEq(t, string(ds[i].Payload), string(d.Payload))
			assert.True(t, ds[i].At.Equal(d.At))
		}
		assert.Equal(t, []string{"typing>bob,carol"}, r.signals)
		assert.Equal(t, []string{"alice:userUpdated"}, r.users)
		assert.Zero(t, r.resyncs, "nothing was lost")
		r.mu.Unlock()
	}
	msgs.Wait()
	n, _, err := sub.Pending()
	require.NoError(t, err)
	assert.Zero(t, n, "three deliveries travelled as one message")
	ra.mu.Lock()
	assert.Empty(t, ra.deliveries, "a node does not hear itself")
	assert.Empty(t, ra.signals)
	ra.mu.Unlock()
}

func TestNATSPresenceIsClusterWide(t *testing.T) {
	url := natstest.Start(t)
	a, ra := node(t, url)
	b, rb := node(t, url)

	assert.True(t, a.Up("alice"), "first connection anywhere")
	knows(t, b, "alice", true)
	assert.False(t, b.Up("alice"), "alice is already online on A")
	knows(t, a, "alice", true)
	assert.False(t, a.Down("alice"), "still connected to B")
	knows(t, b, "alice", false)
	assert.True(t, b.Down("alice"), "gone from both")
	knows(t, a, "alice", false)

	// Each node heard each transition the other caused, once.
	reaches(t, rb, "alice+")
	reaches(t, ra, "alice-")

	// A node that joins later learns who is online from the others' state.
	assert.True(t, a.Up("bob"))
	c, rc := node(t, url)
	knows(t, c, "bob", true)
	reaches(t, rc, "bob+")
	assert.False(t, c.OnlineElsewhere("alice"))
}

func TestNATSGoodbyeAndSilentNodeExpiry(t *testing.T) {
	url := natstest.Start(t)
	watcher, rw := node(t, url, expiring)

	// A node that closes says goodbye: its users go offline at once.
	polite, err := bus.NewNATS(bus.NATSOptions{URL: url, Heartbeat: time.Hour, HeartbeatTimeout: 2 * time.Hour})
	require.NoError(t, err)
	polite.Up("carol")
	knows(t, watcher, "carol", true)
	require.NoError(t, polite.Close())
	knows(t, watcher, "carol", false) // well before its hour-long timeout
	reaches(t, rw, "carol+", "carol-")
	assert.False(t, polite.Up("x"), "a closed bus does nothing")

	// A node whose link dies says nothing: its users go offline after the timeout.
	nc, err := nats.Connect(url, nats.NoEcho())
	require.NoError(t, err)
	mute, err := bus.NewNATS(bus.NATSOptions{Conn: nc, Heartbeat: beat, HeartbeatTimeout: timeout})
	require.NoError(t, err)
	mute.Up("dave")
	knows(t, watcher, "dave", true)
	nc.Close()
	cut := time.Now()
	knows(t, watcher, "dave", false)
	assert.GreaterOrEqual(t, time.Since(cut), timeout-beat, "not before the heartbeat timeout")
	reaches(t, rw, "carol+", "carol-", "dave+", "dave-")
	require.NoError(t, mute.Close(), "closing after the caller closed its connection is fine")
}

func TestNATSGapInASequenceMeansCatchUp(t *testing.T) {
	url := natstest.Start(t)
	_, r := node(t, url)
	raw, err := nats.Connect(url)
	require.NoError(t, err)
	t.Cleanup(raw.Close)
	// A foreign node "X" publishing by hand: messages 1 and 2 arrive, 3 is "lost".
	send := func(seq uint64, kind byte, body ...byte) {
		msg := append([]byte{1, kind, 1, 'X', byte(seq)}, body...)
		require.NoError(t, raw.Publish("convo.bus.presence", msg))
		require.NoError(t, raw.Flush())
	}
	send(1, 'h')
	send(2, '+', 1, 'e')
	require.Eventually(t, func() bool { return len(r.reachOf()) == 1 }, wait, poll)
	assert.Zero(t, r.resyncCount())
	send(4, 'h')
	require.Eventually(t, func() bool { return r.resyncCount() == 1 }, wait, poll, "the gap makes local connections catch up")
	reaches(t, r, "e+")
}

func TestNATSOutageAndRestart(t *testing.T) {
	ns := natstest.StartT(t)
	a, ra := node(t, ns.URL(), expiring)
	b, rb := node(t, ns.URL(), expiring)
	a.Up("alice")
	knows(t, b, "alice", true)

	ns.Shutdown()
	// While NATS is down nothing blocks, and each side declares the other dead.
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.Deliver([]store.Delivery{{Identity: "bob", Offset: 1, Event: wire.EventMessageAdded, Payload: wire.RawJSON(`{}`)}})
		a.Up("amy")
	}()
	select {
	case <-done:
	case <-time.After(wait):
		t.Fatal("publishing during an outage blocked")
	}
	knows(t, b, "alice", false)
	reaches(t, rb, "alice+", "alice-")

	require.NoError(t, ns.Restart())
	// Back: both sides catch up from the store and relearn presence.
	require.Eventually(t, func() bool { return ra.resyncCount() > 0 && rb.resyncCount() > 0 }, wait, poll)
	knows(t, b, "alice", true)
	knows(t, b, "amy", true)
	a.Deliver([]store.Delivery{{Identity: "bob", Offset: 2, Event: wire.EventMessageAdded, Payload: wire.RawJSON(`{}`)}})
	require.Eventually(t, func() bool {
		rb.mu.Lock()
		defer rb.mu.Unlock()
		return len(rb.deliveries) == 1 && rb.deliveries[0].Offset == 2
	}, wait, poll, "the delivery during the outage is gone from the bus (the store has it); later ones flow")
}
