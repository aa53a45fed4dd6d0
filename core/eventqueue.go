package core

import (
	"bytes"
	"context"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
)

// eventQueue runs functions one at a time, in the order they were pushed, on its own
// goroutine. Server events are applied and emitted there, so the read loop never waits for a
// listener, and a listener may call blocking client methods (their replies still arrive).
type eventQueue struct {
	mu     sync.Mutex
	items  []func()
	signal chan struct{}
	// runner is the id of the goroutine running the queue, so that a wait for the queue made
	// from a listener (which would wait for itself) can tell and return instead.
	runner atomic.Uint64
}

func newEventQueue() *eventQueue {
	return &eventQueue{signal: make(chan struct{}, 1)}
}

// push never blocks: the queue grows instead.
func (q *eventQueue) push(fn func()) {
	q.mu.Lock()
	q.items = append(q.items, fn)
	q.mu.Unlock()
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

// run drains the queue until ctx ends; what is still queued then is dropped.
func (q *eventQueue) run(ctx context.Context) {
	q.runner.Store(goroutineID())
	for {
		q.mu.Lock()
		batch := q.items
		q.items = nil
		q.mu.Unlock()
		for _, fn := range batch {
			if ctx.Err() != nil {
				return
			}
			fn()
		}
		if len(batch) > 0 {
			continue
		}
		select {
		case <-q.signal:
		case <-ctx.Done():
			return
		}
	}
}

// hold keeps what is pushed after it from running until release is called or ctx ends.
// release may be called more than once.
func (q *eventQueue) hold(ctx context.Context) (release func()) {
	ch := make(chan struct{})
	q.push(func() {
		select {
		case <-ch:
		case <-ctx.Done():
		}
	})
	var once sync.Once
	return func() { once.Do(func() { close(ch) }) }
}

// flush waits until everything pushed before it has run, or ctx ends. On the queue's own
// goroutine (a listener calling a method) it returns at once: what is queued runs after the
// listener returns.
func (q *eventQueue) flush(ctx context.Context) {
	if q.onQueue() {
		return
	}
	done := make(chan struct{})
	q.push(func() { close(done) })
	select {
	case <-done:
	case <-ctx.Done():
	}
}

func (q *eventQueue) onQueue() bool {
	id := q.runner.Load()
	return id != 0 && id == goroutineID()
}

// goroutineID reads the calling goroutine's id from its stack header ("goroutine 7 [...").
// Go offers no other way; it is only read when a call waits for the queue.
func goroutineID() uint64 {
	var buf [32]byte
	b := bytes.TrimPrefix(buf[:runtime.Stack(buf[:], false)], []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i > 0 {
		b = b[:i]
	}
	id, _ := strconv.ParseUint(string(b), 10, 64)
	return id
}
