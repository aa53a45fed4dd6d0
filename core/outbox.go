package core

import (
	"context"
	"sync"
	"time"

	"github.com/convo-sdk/convo/wire"
)

// outbox sends requests that must reach the server in the order they were made, even across
// disconnections, throttling and short database outages: message sends. One request is in
// flight at a time, kept until its reply; after a reconnect it is written again, and a
// throttled one (or one the server could not store yet) is retried after a backoff before
// anything behind it goes. Each carries an idempotency key, so a request
// written twice is stored once. (One at a time costs little: the server takes 30 writes a
// second per conversation.)
type outbox struct {
	c      *Client
	mu     sync.Mutex
	queue  []*outItem
	wakeup chan struct{}
}

type outItem struct {
	op        string
	args      wire.Encoder
	out       wire.Decodable
	done      chan error // receives the outcome once
	session   *session   // where it was last written; nil when it must be (re)written
	replyCh   chan reply
	gone      bool      // the caller stopped waiting before it was written
	throttled int       // how many times the server said "too fast" or "unavailable"
	notBefore time.Time // when a throttled request may go again
}

func newOutbox(c *Client) *outbox {
	return &outbox{c: c, wakeup: make(chan struct{}, 1)}
}

func (o *outbox) wake() {
	select {
	case o.wakeup <- struct{}{}:
	default:
	}
}

// submit queues a request and waits for its outcome. If ctx ends before the request was
// written it is withdrawn; after that the outcome is unknown and reported as such.
func (o *outbox) submit(ctx context.Context, op string, args wire.Encoder, out wire.Decodable) error {
	it := &outItem{op: op, args: args, out: out, done: make(chan error, 1)}
	o.mu.Lock()
	o.queue = append(o.queue, it)
	o.mu.Unlock()
	o.wake()
	select {
	case err := <-it.done:
		return err
	case <-ctx.Done():
		o.mu.Lock()
		written := it.session != nil
		if !written {
			it.gone = true
		}
		o.mu.Unlock()
		o.wake()
		if written {
			return wire.Errorf(CodeClientTimeout, "%s: no reply in time; it may still be applied", op)
		}
		return o.c.callError(op, ctx.Err())
	case <-o.c.ctx.Done():
		return errShutdown
	}
}

// run writes queued requests in order whenever a connection is live and completes them as
// replies arrive. It ends with the client.
func (o *outbox) run() {
	ctx := o.c.ctx
	for {
		s, err := o.c.currentSession(ctx)
		if err != nil {
			o.failAll(errShutdown)
			return
		}
		o.flush(s)
		select {
		case <-o.wakeup:
		case <-s.lost:
		case <-ctx.Done():
			o.failAll(errShutdown)
			return
		}
		o.collect()
	}
}

// flush writes the first queued request, unless it is in flight on s already or must wait
// out a throttling backoff.
func (o *outbox) flush(s *session) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, it := range o.queue {
		if it.gone {
			continue
		}
		if it.session == s {
			return // in flight: its reply comes first
		}
		if wait := time.Until(it.notBefore); wait > 0 {
			time.AfterFunc(wait, o.wake)
			return
		}
		id := o.c.nextID.Add(1)
		ch, err := s.send(o.c.ctx, id, it.op, it.args)
		if err == errLost {
			return // the connection broke: everything from here goes out after reconnecting
		}
		if err != nil {
			it.done <- err // refused before sending (too large): the next one may go
			it.gone = true
			continue
		}
		it.session, it.replyCh = s, ch
		go func(ch chan reply) { // forward the reply as a wake-up; the item keeps its channel
			r := <-ch
			ch <- r
			o.wake()
		}(ch)
		return
	}
}

// collect completes the requests whose replies arrived and marks the lost ones for rewriting.
func (o *outbox) collect() {
	o.mu.Lock()
	defer o.mu.Unlock()
	kept := o.queue[:0]
	for _, it := range o.queue {
		if it.gone {
			continue
		}
		if it.replyCh == nil {
			kept = append(kept, it)
			continue
		}
		select {
		case r := <-it.replyCh:
			if r.err == errLost {
				it.session, it.replyCh = nil, nil
				kept = append(kept, it)
				continue
			}
			// Throttled, or the server's database is briefly out of reach: the same request
			// (same idempotency key) goes again after a backoff, so it is stored once.
			if code := wire.CodeOf(r.err); code == wire.CodeRateLimited || code == wire.CodeUnavailable {
				it.session, it.replyCh = nil, nil
				it.notBefore = time.Now().Add(throttleBackoff(it.throttled))
				it.throttled++
				kept = append(kept, it)
				continue
			}
			err := r.err
			if err == nil {
				err = decodeResult(it.op, r.data, it.out)
			}
			it.done <- err
		default:
			kept = append(kept, it)
		}
	}
	o.queue = kept
}

func (o *outbox) failAll(err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, it := range o.queue {
		if !it.gone {
			it.done <- err
		}
	}
	o.queue = nil
}
