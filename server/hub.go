package server

import (
	"sync"

	"github.com/convo-sdk/convo/server/store"
)

// hub knows the live connections of each identity and hands them committed events. Pushing
// never blocks: each connection buffers a bounded queue and reads what it dropped back from
// the store, so a slow client cannot hold up the hub or anyone else.
type hub struct {
	mu     sync.Mutex
	closed bool
	byID   map[string]map[*conn]struct{}
}

func newHub() *hub { return &hub{byID: make(map[string]map[*conn]struct{})} }

// add registers c; false once the hub is closed.
func (h *hub) add(c *conn) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	set := h.byID[c.identity]
	if set == nil {
		set = make(map[*conn]struct{})
		h.byID[c.identity] = set
	}
	set[c] = struct{}{}
	return true
}

func (h *hub) remove(c *conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if set := h.byID[c.identity]; set != nil {
		delete(set, c)
		if len(set) == 0 {
			delete(h.byID, c.identity)
		}
	}
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
