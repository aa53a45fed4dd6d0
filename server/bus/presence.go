package bus

import (
	"sort"
	"time"
)

// presence is one node's view of which nodes hold connections of which identities. Each
// node tells the others its own changes (kindUp, kindDown) and, when asked, its whole set
// (kindState); every message carries the sender's sequence number, so a receiver that
// misses one notices the gap and asks for the set again. An identity is online while at
// least one live node holds it, so every node derives the same transitions and signals
// them to its own connections only: each connection hears each change once. A node that
// says nothing for the heartbeat timeout is declared dead and its identities go offline.
//
// presence is not safe for concurrent use; the NATS bus guards it.
type presence struct {
	// fresh is when this node stops being new: until then a node first heard mid-stream
	// is one that was running before us, not one whose messages we missed.
	fresh time.Time
	local map[string]struct{}
	peers map[string]*peer
	nodes map[string]int // identity → nodes holding it, this one included
}

type peer struct {
	ids     map[string]struct{}
	seq     uint64              // sequence number of its last message
	seen    time.Time           // when its last message arrived
	pending map[string]struct{} // a state being received in chunks; nil when none
	stale   bool                // its set may be incomplete: ask for its state
	asked   time.Time           // when its state was last asked for
}

// change is a cluster-wide reachability transition.
type change struct {
	identity string
	online   bool
}

func newPresence(fresh time.Time) *presence {
	return &presence{fresh: fresh, local: map[string]struct{}{}, peers: map[string]*peer{}, nodes: map[string]int{}}
}

func (p *presence) inc(id string) bool {
	p.nodes[id]++
	return p.nodes[id] == 1
}

func (p *presence) dec(id string) bool {
	if p.nodes[id] <= 1 {
		delete(p.nodes, id)
		return true
	}
	p.nodes[id]--
	return false
}

// up records identity's first local connection; true when it came online.
func (p *presence) up(id string) bool {
	if _, ok := p.local[id]; ok {
		return false
	}
	p.local[id] = struct{}{}
	return p.inc(id)
}

// down records that identity's last local connection closed; true when it went offline.
func (p *presence) down(id string) bool {
	if _, ok := p.local[id]; !ok {
		return false
	}
	delete(p.local, id)
	return p.dec(id)
}

func (p *presence) elsewhere(id string) bool {
	n := p.nodes[id]
	if _, ok := p.local[id]; ok {
		n--
	}
	return n > 0
}

// localIDs lists this node's identities, sorted (for a stable state message).
func (p *presence) localIDs() []string {
	ids := make([]string, 0, len(p.local))
	for id := range p.local {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// observe notes a message numbered seq from node. lost reports that messages from node
// were missed (a gap, or a node first heard mid-stream once this one is no longer new):
// events may be lost. A node first heard at seq 1 has just started: its set is empty;
// any other first heard is stale until its state arrives.
func (p *presence) observe(node string, seq uint64, now time.Time) (lost bool) {
	q := p.peers[node]
	if q == nil {
		q = &peer{ids: map[string]struct{}{}, seq: seq, seen: now, stale: seq != 1}
		p.peers[node] = q
		return q.stale && now.After(p.fresh)
	}
	q.seen = now
	if seq != q.seq+1 {
		q.pending, q.stale = nil, true
		lost = true
	}
	q.seq = seq
	return lost
}

// needState reports whether node's state should be asked for now: it is stale and was not
// asked for within retry. It records the ask.
func (p *presence) needState(node string, now time.Time, retry time.Duration) bool {
	q := p.peers[node]
	if q == nil || !q.stale || now.Sub(q.asked) < retry {
		return false
	}
	q.asked = now
	return true
}

func (p *presence) peerUp(node, id string) []change {
	q := p.peers[node]
	if _, ok := q.ids[id]; ok {
		return nil
	}
	q.ids[id] = struct{}{}
	if p.inc(id) {
		return []change{{id, true}}
	}
	return nil
}

func (p *presence) peerDown(node, id string) []change {
	q := p.peers[node]
	if _, ok := q.ids[id]; !ok {
		return nil
	}
	delete(q.ids, id)
	if p.dec(id) {
		return []change{{id, false}}
	}
	return nil
}

// peerState takes one chunk of node's whole set; the last chunk replaces what was known.
// Chunks after a missed first one are ignored (the gap made the node stale).
func (p *presence) peerState(node string, flags byte, ids []string) []change {
	q := p.peers[node]
	if flags&stateFirst != 0 {
		q.pending = make(map[string]struct{}, len(ids))
	}
	if q.pending == nil {
		return nil
	}
	for _, id := range ids {
		q.pending[id] = struct{}{}
	}
	if flags&stateLast == 0 {
		return nil
	}
	var cs []change
	for id := range q.ids {
		if _, ok := q.pending[id]; !ok && p.dec(id) {
			cs = append(cs, change{id, false})
		}
	}
	for id := range q.pending {
		if _, ok := q.ids[id]; !ok && p.inc(id) {
			cs = append(cs, change{id, true})
		}
	}
	q.ids, q.pending, q.stale, q.asked = q.pending, nil, false, time.Time{}
	return cs
}

// drop forgets node (it said goodbye or was declared dead).
func (p *presence) drop(node string) []change {
	q := p.peers[node]
	if q == nil {
		return nil
	}
	delete(p.peers, node)
	var cs []change
	for id := range q.ids {
		if p.dec(id) {
			cs = append(cs, change{id, false})
		}
	}
	return cs
}

// expire drops the nodes not heard from within timeout.
func (p *presence) expire(now time.Time, timeout time.Duration) (dead []string, cs []change) {
	for node, q := range p.peers {
		if now.Sub(q.seen) > timeout {
			dead = append(dead, node)
			cs = append(cs, p.drop(node)...)
		}
	}
	return dead, cs
}

// stalePeers lists the nodes whose state should be asked for again now.
func (p *presence) stalePeers(now time.Time, retry time.Duration) []string {
	var out []string
	for node := range p.peers {
		if p.needState(node, now, retry) {
			out = append(out, node)
		}
	}
	return out
}
