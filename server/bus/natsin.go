package bus

// The receiving side of the NATS bus: messages from other nodes, heartbeats, expiry and
// reconnection.

import (
	"time"

	"github.com/nats-io/nats.go"
)

// handle takes one message from another node.
func (b *NATS) handle(m *nats.Msg) {
	d := decoder{b: m.Data}
	h := d.header()
	if d.err != nil {
		b.log.Warn("corrupt bus message", "subject", m.Subject, "bytes", len(m.Data))
		return
	}
	if h.node == b.self {
		return // echo, when the caller's connection was dialled without NoEcho
	}
	b.life.RLock()
	defer b.life.RUnlock()
	if b.dead {
		return
	}
	now := time.Now()
	var cs []change
	var answer bool
	b.mu.Lock()
	lost := b.pres.observe(h.node, h.seq, now)
	switch h.kind {
	case kindUp:
		if id := d.str(); d.err == nil {
			cs = b.pres.peerUp(h.node, id)
		}
	case kindDown:
		if id := d.str(); d.err == nil {
			cs = b.pres.peerDown(h.node, id)
		}
	case kindState:
		flags, ids := decodeState(&d)
		if d.err == nil {
			cs = b.pres.peerState(h.node, flags, ids)
		}
	case kindBye:
		cs = b.pres.drop(h.node)
	case kindSync:
		target := d.str()
		answer = target == "" || target == b.self
	}
	ask := b.pres.needState(h.node, now, 2*b.beat)
	b.mu.Unlock()
	if ask {
		b.send(b.subj.presence, kindSync, encodeString(h.node))
	}
	if answer {
		b.sendState()
	}
	r := b.recv
	if r == nil {
		return // not attached yet: no local connection to tell
	}
	if lost {
		b.log.Info("missed messages from a node; local connections catch up from the store", "from", h.node)
		r.Resync()
	}
	switch h.kind {
	case kindDeliver:
		if ds := decodeDeliveries(&d); d.err == nil {
			r.Deliver(ds)
		}
	case kindSignal:
		if ids, f := decodeSignal(&d); d.err == nil {
			r.Signal(ids, f)
		}
	case kindUser:
		if id, f := decodeUserSignal(&d); d.err == nil {
			r.SignalUser(id, f)
		}
	}
	if d.err != nil {
		b.log.Warn("corrupt bus message", "subject", m.Subject, "from", h.node, "kind", string(h.kind))
	}
	for _, c := range cs {
		r.Reachability(c.identity, c.online)
	}
}

// sendState publishes this node's whole set, under the presence lock so that no change
// slips between the state and the changes after it.
func (b *NATS) sendState() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed.Load() {
		return
	}
	for _, body := range stateChunks(b.pres.localIDs(), b.maxBody()) {
		b.send(b.subj.presence, kindState, body)
	}
}

// heartbeats says this node is alive, declares silent nodes dead and asks again for the
// state of nodes that did not answer.
func (b *NATS) heartbeats() {
	defer close(b.done)
	t := time.NewTicker(b.beat)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case now := <-t.C:
			if b.nc.IsConnected() {
				// Skipped while disconnected: a number spent on nothing would only
				// make the others catch up for no loss.
				b.send(b.subj.presence, kindHeartbeat, nil)
			}
			b.tick(now)
		}
	}
}

func (b *NATS) tick(now time.Time) {
	b.life.RLock()
	defer b.life.RUnlock()
	if b.dead {
		return
	}
	b.mu.Lock()
	dead, cs := b.pres.expire(now, b.timeout)
	asks := b.pres.stalePeers(now, 2*b.beat)
	b.mu.Unlock()
	for _, node := range dead {
		b.log.Warn("node silent for longer than the heartbeat timeout; its users go offline", "peer", node, "timeout", b.timeout)
	}
	for _, node := range asks {
		b.send(b.subj.presence, kindSync, encodeString(node))
	}
	if b.recv != nil {
		for _, c := range cs {
			b.recv.Reachability(c.identity, c.online)
		}
	}
}

// reconnected runs when the NATS link is back: what other nodes sent meanwhile is lost, so
// local connections catch up from the store, and every node is asked for its state.
func (b *NATS) reconnected() {
	b.log.Info("NATS connection back; local connections catch up from the store")
	// A round trip first, so the server has our subscription again before the store is
	// read: anything committed later is either published to us or in the store.
	_ = b.nc.FlushTimeout(b.timeout)
	b.life.RLock()
	defer b.life.RUnlock()
	if b.dead {
		return
	}
	b.send(b.subj.presence, kindSync, encodeString(""))
	if b.recv != nil {
		b.recv.Resync()
	}
}
