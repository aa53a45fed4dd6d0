package server

import (
	"sync"

	"github.com/convo-sdk/convo/core/wire"
	"github.com/convo-sdk/convo/server/store"
)

// hub knows the live connections of each identity and hands them committed events and
// ephemeral signals. Pushing never blocks: each connection buffers a bounded queue and reads
// what it dropped back from the store, so a slow client cannot hold up the hub or anyone
// else. It also keeps the user subscriptions of each connection (user.subscribe).
type hub struct {
	mu     sync.Mutex
	closed bool
	byID   map[string]map[*conn]struct{}
	// subscribers: identity → connections subscribed to that user; subsOf: a connection's
	// subscriptions, oldest first.
	subscribers map[string]map[*conn]struct{}
	subsOf      map[*conn][]string
}

func newHub() *hub {
	return &hub{
		byID:        make(map[string]map[*conn]struct{}),
		subscribers: make(map[string]map[*conn]struct{}),
		subsOf:      make(map[*conn][]string),
	}
}

// maxSubscriptions is how many users one connection may subscribe to; subscribing to one
// more drops the oldest subscription, as the vendor SDK does.
const maxSubscriptions = 100

// add registers c. It fails once the hub is closed (CodeUnavailable) or when c's identity
// already has max connections (CodeTooManySessions). first reports that c is the identity's
// only connection (it just came online).
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
	return len(set) == 1, nil
}

// remove unregisters c and drops its subscriptions. last reports that c was the
// identity's last connection (it went offline).
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
		return true
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

// online reports whether identity has a live connection.
func (h *hub) online(identity string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.byID[identity]) > 0
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

// deliver pushes each delivery to its identity's connections.
func (h *hub) deliver(ds []store.Delivery) {
	if len(ds) == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, d := range ds {
		for c := range h.byID[d.Identity] {
			c.push(d)
		}
	}
}

// signal sends an ephemeral frame to every live connection of the identities.
func (h *hub) signal(identities []string, f *wire.Frame) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, id := range identities {
		for c := range h.byID[id] {
			c.signal(f)
		}
	}
}

// signalUser sends a user's news to the connections subscribed to it and to the user's own
// connections, each once.
func (h *hub) signalUser(identity string, f *wire.Frame, except *conn) {
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
