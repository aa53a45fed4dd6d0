package server

import (
	"bytes"
	"encoding/json"
	"sync"
	"unsafe"

	"github.com/convo-sdk/convo/server/bus"
	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/wire"
)

// hub knows the live connections of each identity on this node and hands them committed
// events and ephemeral signals. Pushing never blocks: each connection buffers a bounded
// queue and reads what it dropped back from the store, so a slow client cannot hold up the
// hub or anyone else. It also keeps the user subscriptions of each connection
// (user.subscribe); they stay on this node, and user signals travel to every node.
//
// deliver, signal and signalUser push to local connections and hand the same to the bus
// for the other nodes; what they send comes back through busReceiver to the *Here
// methods. With bus.Local (one node) the bus part costs nothing.
type hub struct {
	bus    bus.Bus
	mu     sync.Mutex
	closed bool
	byID   map[string]map[*conn]struct{}
	// subscribers: identity → connections subscribed to that user; subsOf: a connection's
	// subscriptions, oldest first.
	subscribers map[string]map[*conn]struct{}
	subsOf      map[*conn][]string
}

func newHub(b bus.Bus) *hub {
	return &hub{
		bus:         b,
		byID:        make(map[string]map[*conn]struct{}),
		subscribers: make(map[string]map[*conn]struct{}),
		subsOf:      make(map[*conn][]string),
	}
}

// maxSubscriptions is how many users one connection may subscribe to; subscribing to one
// more drops the oldest subscription, as the vendor SDK does.
const maxSubscriptions = 100

// add registers c. It fails once the hub is closed (CodeUnavailable) or when c's identity
// already has max connections on this node (CodeTooManySessions): the cap is per node, so
// a cluster of n nodes lets an identity hold up to n×max. first reports that c made the
// identity come online across the cluster (no connection anywhere before).
func (h *hub) add(c *conn, max int) (first bool, _ *wire.Error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false, wire.Errorf(wire.CodeUnavailable, "server is shutting down; reconnect later")
	}
	set := h.byID[c.identity]
	if max > 0 && len(set) >= max {
		return false, wire.Errorf(wire.CodeTooManySessions, "%q already has %d connections, the limit; close one first", c.identity, len(set))
	}
	if set == nil {
		set = make(map[*conn]struct{})
		h.byID[c.identity] = set
	}
	set[c] = struct{}{}
	if len(set) == 1 {
		// Under h.mu, so the bus sees this node's ups and downs of an identity in order.
		return h.bus.Up(c.identity), nil
	}
	return false, nil
}

// remove unregisters c and drops its subscriptions. last reports that c was the
// identity's last connection in the cluster (it went offline).
func (h *hub) remove(c *conn) (last bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, id := range h.subsOf[c] {
		h.dropSubscriber(id, c)
	}
	delete(h.subsOf, c)
	set := h.byID[c.identity]
	if _, ok := set[c]; !ok {
		return false
	}
	delete(set, c)
	if len(set) == 0 {
		delete(h.byID, c.identity)
		return h.bus.Down(c.identity)
	}
	return false
}

func (h *hub) dropSubscriber(identity string, c *conn) {
	if set := h.subscribers[identity]; set != nil {
		delete(set, c)
		if len(set) == 0 {
			delete(h.subscribers, identity)
		}
	}
}

// online reports whether identity has a live connection on any node.
func (h *hub) online(identity string) bool {
	h.mu.Lock()
	here := len(h.byID[identity]) > 0
	h.mu.Unlock()
	return here || h.bus.OnlineElsewhere(identity)
}

// watched reports whether a change of identity's record concerns a connection here: one
// of its own, or one subscribed to it.
func (h *hub) watched(identity string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.byID[identity]) > 0 || len(h.subscribers[identity]) > 0
}

// subscribe subscribes c to identity (again: it becomes the newest) and returns the
// subscription evicted to stay within maxSubscriptions, if any.
func (h *hub) subscribe(c *conn, identity string) (evicted string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	subs := h.subsOf[c]
	for i, id := range subs {
		if id == identity {
			subs = append(subs[:i], subs[i+1:]...)
			break
		}
	}
	if len(subs) >= maxSubscriptions {
		evicted, subs = subs[0], subs[1:]
		h.dropSubscriber(evicted, c)
	}
	h.subsOf[c] = append(subs, identity)
	set := h.subscribers[identity]
	if set == nil {
		set = make(map[*conn]struct{})
		h.subscribers[identity] = set
	}
	set[c] = struct{}{}
	return evicted
}

// unsubscribe drops c's subscription to identity; false when there was none.
func (h *hub) unsubscribe(c *conn, identity string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	subs := h.subsOf[c]
	for i, id := range subs {
		if id == identity {
			h.subsOf[c] = append(subs[:i], subs[i+1:]...)
			h.dropSubscriber(identity, c)
			return true
		}
	}
	return false
}

// deliver pushes each delivery to its identity's connections, here and on other nodes.
func (h *hub) deliver(ds []store.Delivery) {
	if len(ds) == 0 {
		return
	}
	h.deliverHere(ds)
	h.bus.Deliver(ds)
}

func (h *hub) deliverHere(ds []store.Delivery) {
	var shared sharedPayloads
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, d := range ds {
		set := h.byID[d.Identity]
		if len(set) == 0 {
			continue
		}
		q := queued{Delivery: d}
		q.Payload, q.compact = shared.compact(d.Payload)
		for c := range set {
			c.push(q)
		}
	}
}

// sharedPayloads compacts each payload of a batch of deliveries once: the members of a
// conversation share one payload, which each connection then splices into its frame as it
// is (see eventFrame) rather than compacting it again.
type sharedPayloads map[*byte]wire.RawJSON

// compact returns p compacted and true, or p and false when p is not valid JSON (the frame
// encoder then reports it). An empty payload is compact.
func (m *sharedPayloads) compact(p wire.RawJSON) (wire.RawJSON, bool) {
	if len(p) == 0 {
		return p, true
	}
	key := unsafe.SliceData(p)
	c, ok := (*m)[key]
	if !ok {
		var buf bytes.Buffer
		if json.Compact(&buf, p) == nil {
			c = buf.Bytes()
		}
		if *m == nil {
			*m = make(sharedPayloads)
		}
		(*m)[key] = c
	}
	if c == nil {
		return p, false
	}
	return c, true
}

// signal sends an ephemeral frame to every live connection of the identities, on every node.
func (h *hub) signal(identities []string, f *wire.Frame) {
	h.signalHere(identities, f)
	h.bus.Signal(identities, f)
}

func (h *hub) signalHere(identities []string, f *wire.Frame) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, id := range identities {
		for c := range h.byID[id] {
			c.signal(f)
		}
	}
}

// signalUser sends a user's news to the connections subscribed to it and to the user's own
// connections, each once, on every node; except (a connection here) is skipped.
func (h *hub) signalUser(identity string, f *wire.Frame, except *conn) {
	h.signalUserHere(identity, f, except)
	h.bus.SignalUser(identity, f)
}

// signalUserHere is signalUser for this node's connections only.
func (h *hub) signalUserHere(identity string, f *wire.Frame, except *conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.byID[identity] {
		if c != except {
			c.signal(f)
		}
	}
	for c := range h.subscribers[identity] {
		if c.identity != identity && c != except {
			c.signal(f)
		}
	}
}

// resync makes every connection here read its stream from the store.
func (h *hub) resync() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, set := range h.byID {
		for c := range set {
			c.resync()
		}
	}
}

// close refuses further connections and returns the live ones.
func (h *hub) close() []*conn {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	var all []*conn
	for _, set := range h.byID {
		for c := range set {
			all = append(all, c)
		}
	}
	return all
}

// busReceiver hands what other nodes send to this node's connections.
type busReceiver struct{ s *Server }

func (r busReceiver) Deliver(ds []store.Delivery)               { r.s.hub.deliverHere(ds) }
func (r busReceiver) Signal(identities []string, f *wire.Frame) { r.s.hub.signalHere(identities, f) }
func (r busReceiver) SignalUser(identity string, f *wire.Frame) {
	r.s.hub.signalUserHere(identity, f, nil)
}
func (r busReceiver) Resync() { r.s.hub.resync() }

// Reachability signals a change another node caused; it reads the user's record only when
// someone here will hear of it.
func (r busReceiver) Reachability(identity string, online bool) {
	if r.s.hub.watched(identity) {
		r.s.reachabilityChanged(identity, online, nil)
	}
}
