package core

import (
	"bytes"
	"context"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// eventQueue runs functions one at a time, in the order they were pushed, on its own
// goroutine. Server events are applied and emitted there, so the read loop never waits for a
// listener, and a listener may call blocking client methods (their replies still arrive).
//
// A hold (see call_order.go) stops the queue at its place until it is released; what was
// pushed behind it waits, except urgent items (the client's own news: connection state,
// connection errors, token timers), which run at once, so that a call waiting out a
// disconnection cannot keep an app from hearing that it is offline.
type eventQueue struct {
	mu      sync.Mutex
	items   []queued
	signal  chan struct{}
	stopped chan struct{} // closed when run returns
	// runner is the id of the goroutine running the queue, so that a wait for the queue made
	// from a listener (which would wait for itself) can tell and return instead.
	runner atomic.Uint64
}

type queued struct {
	fn     func()
	urgent bool
	held   chan struct{} // a hold: the queue stops here until it is closed
}

func newEventQueue() *eventQueue {
	return &eventQueue{signal: make(chan struct{}, 1), stopped: make(chan struct{})}
}

// push never blocks: the queue grows instead.
func (q *eventQueue) push(fn func()) { q.add(queued{fn: fn}) }

// pushUrgent queues fn to run in order, or at once while the queue is held.
func (q *eventQueue) pushUrgent(fn func()) { q.add(queued{fn: fn, urgent: true}) }

func (q *eventQueue) add(it queued) {
	q.mu.Lock()
	q.items = append(q.items, it)
	q.mu.Unlock()
	q.wake()
}

func (q *eventQueue) wake() {
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

// run drains the queue until ctx ends; what is still queued then is dropped.
func (q *eventQueue) run(ctx context.Context) {
	defer close(q.stopped)
	q.runner.Store(goroutineID())
	var backlog []queued // what waits, in order; backlog[0] is an unreleased hold when non-empty
	for {
		q.mu.Lock()
		backlog = append(backlog, q.items...)
		q.items = nil
		q.mu.Unlock()
		i := 0
		for ; i < len(backlog); i++ {
			if ctx.Err() != nil {
				return
			}
			it := backlog[i]
			if it.held != nil && !isClosed(it.held) {
				break
			}
			backlog[i] = queued{}
			if it.fn != nil {
				it.fn()
			}
		}
		backlog = backlog[i:]
		if len(backlog) == 0 {
			backlog = nil
			select {
			case <-q.signal:
			case <-ctx.Done():
				return
			}
			continue
		}
		// Held: run the urgent items behind the hold now, keep the others in order.
		kept := backlog[:1]
		for _, it := range backlog[1:] {
			if it.urgent {
				it.fn()
			} else {
				kept = append(kept, it)
			}
		}
		clear(backlog[len(kept):])
		backlog = kept
		select {
		case <-backlog[0].held:
		case <-q.signal:
		case <-ctx.Done():
			return
		}
	}
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// hold keeps what is pushed after it (urgent items aside) from running until release is
// called, or for at most limit (0: no limit). release may be called more than once.
func (q *eventQueue) hold(limit time.Duration) (release func()) {
	ch := make(chan struct{})
	q.add(queued{held: ch})
	var once sync.Once
	open := func() {
		once.Do(func() {
			close(ch)
			q.wake()
		})
	}
	if limit <= 0 {
		return open
	}
	t := time.AfterFunc(limit, open)
	return func() {
		t.Stop()
		open()
	}
}

// flush waits until everything pushed before it has run, ctx ends or the queue stops. On the
// queue's own goroutine (a listener calling a method) it returns at once: what is queued runs
// after the listener returns.
func (q *eventQueue) flush(ctx context.Context) { q.run1(ctx, func() {}) }

// run1 queues fn and waits until it has run; it reports false when ctx ended or the queue
// stopped first. On the queue's own goroutine fn runs at once.
func (q *eventQueue) run1(ctx context.Context, fn func()) bool {
	if q.onQueue() {
		fn()
		return true
	}
	done := make(chan struct{})
	q.push(func() {
		fn()
		close(done)
	})
	select {
	case <-done:
		return true
	case <-ctx.Done():
	case <-q.stopped:
	}
	return false
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
