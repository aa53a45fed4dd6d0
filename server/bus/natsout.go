package bus

import "sync"

// outboxBytes bounds what waits for NATS; beyond it messages are dropped (and recovered).
const outboxBytes = 64 << 20

// outbox numbers this node's messages and queues them for one publisher goroutine, so no
// Bus method waits for NATS: a stuck socket would otherwise hold up the hub and every
// request. A message that does not fit is dropped but keeps its number, so the other
// nodes see the gap and read the store.
type outbox struct {
	mu       sync.Mutex
	seq      uint64
	q        []outMsg
	bytes    int
	closed   bool
	dropping bool // logged the current overflow
	wake     chan struct{}
	done     chan struct{} // closed when the publisher has sent everything and stopped
}

type outMsg struct {
	subject string
	data    []byte
}

func (o *outbox) init() {
	o.wake = make(chan struct{}, 1)
	o.done = make(chan struct{})
}

// close stops taking messages and waits until the queued ones are handed to NATS.
func (o *outbox) close() {
	o.mu.Lock()
	o.closed = true
	o.mu.Unlock()
	o.poke()
	<-o.done
}

func (o *outbox) poke() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// send numbers a message and queues it for NATS.
func (b *NATS) send(subject string, kind byte, body []byte) {
	o := &b.out
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return
	}
	o.seq++
	if o.bytes+len(body) > outboxBytes {
		if !o.dropping {
			o.dropping = true
			b.log.Warn("NATS is not keeping up; dropping bus messages, other nodes will read the store")
		}
		return
	}
	o.dropping = false
	e := encoder{b: make([]byte, 0, len(body)+32)}
	e.header(kind, b.self, o.seq)
	e.b = append(e.b, body...)
	o.q = append(o.q, outMsg{subject, e.b})
	o.bytes += len(e.b)
	o.poke()
}

// publisher hands queued messages to NATS in order. A failed publish (NATS unreachable:
// no reconnect buffer) loses the message, and its number tells the others.
func (b *NATS) publisher() {
	o := &b.out
	defer close(o.done)
	failing := false
	for range o.wake {
		o.mu.Lock()
		q, closed := o.q, o.closed
		o.q, o.bytes = nil, 0
		o.mu.Unlock()
		for _, m := range q {
			err := b.nc.Publish(m.subject, m.data)
			switch {
			case err != nil && !failing:
				failing = true
				b.log.Warn("publishing to NATS failed; other nodes will catch up from the store", "err", err)
			case err == nil && failing:
				failing = false
				b.log.Info("publishing to NATS works again")
			}
		}
		if closed {
			return
		}
	}
}

// maxBody is the room for a message body under the server's max payload.
func (b *NATS) maxBody() int {
	mp := int(b.nc.MaxPayload())
	if mp <= 0 {
		mp = 1 << 20 // the server default, until it said otherwise
	}
	return mp - 256 // header: version, kind, node id, sequence
}

// sendSmall sends a signal; one too large for a message is dropped, as signals may be.
func (b *NATS) sendSmall(subject string, kind byte, body []byte) {
	if len(body) > b.maxBody() {
		b.log.Warn("signal too large for the bus; dropped", "bytes", len(body))
		return
	}
	b.send(subject, kind, body)
}
