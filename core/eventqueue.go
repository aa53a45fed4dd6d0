package core

import (
	"context"
	"sync"
)

// eventQueue runs functions one at a time, in the order they were pushed, on its own
// goroutine. Server events are applied and emitted there, so the read loop never waits for a
// listener, and a listener may call blocking client methods (their replies still arrive).
type eventQueue struct {
	mu     sync.Mutex
	items  []func()
	signal chan struct{}
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
