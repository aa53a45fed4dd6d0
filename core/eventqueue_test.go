package core

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func runQueue(t *testing.T) *eventQueue {
	t.Helper()
	q := newEventQueue()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go q.run(ctx)
	return q
}

func TestHoldKeepsLaterItemsUntilReleased(t *testing.T) {
	q := runQueue(t)
	ran := make(chan string, 3)
	q.push(func() { ran <- "before" })
	release := q.hold(0)
	q.push(func() { ran <- "after" })
	assert.Equal(t, "before", <-ran)
	select {
	case got := <-ran:
		t.Fatalf("%q ran while held", got)
	case <-time.After(50 * time.Millisecond):
	}
	release()
	release() // twice is harmless
	assert.Equal(t, "after", <-ran)
}

func TestFlushWaitsForWhatWasQueuedBefore(t *testing.T) {
	q := runQueue(t)
	release := q.hold(0)
	done := make(chan struct{})
	var order []string
	q.push(func() { order = append(order, "queued") })
	go func() {
		q.flush(context.Background())
		close(done)
	}()
	select {
	case <-done:
		t.Fatal("flush returned while an earlier item was held")
	case <-time.After(50 * time.Millisecond):
	}
	release()
	<-done
	assert.Equal(t, []string{"queued"}, order)
}

func TestFlushFromTheQueueItselfReturnsAtOnce(t *testing.T) {
	q := runQueue(t)
	done := make(chan bool, 1)
	q.push(func() {
		assert.True(t, q.onQueue())
		q.flush(context.Background()) // would wait for itself
		done <- true
	})
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("flush on the queue's goroutine deadlocked")
	}
	assert.False(t, q.onQueue())
}

func TestGoroutineIDsDiffer(t *testing.T) {
	here := goroutineID()
	require.NotZero(t, here)
	other := make(chan uint64)
	go func() { other <- goroutineID() }()
	assert.NotEqual(t, here, <-other)
	assert.Equal(t, here, goroutineID())
}

func TestUrgentItemsRunWhileHeldAndOthersKeepTheirOrder(t *testing.T) {
	q := runQueue(t)
	ran := make(chan string, 8)
	release := q.hold(0)
	q.push(func() { ran <- "event 1" })
	q.pushUrgent(func() { ran <- "urgent" })
	second := q.hold(0)
	q.push(func() { ran <- "event 2" })
	q.pushUrgent(func() { ran <- "urgent behind two holds" })
	assert.Equal(t, "urgent", <-ran)
	assert.Equal(t, "urgent behind two holds", <-ran)
	second() // released out of order: the first hold still stops the queue
	select {
	case got := <-ran:
		t.Fatalf("%q ran while the first hold was on", got)
	case <-time.After(50 * time.Millisecond):
	}
	release()
	assert.Equal(t, "event 1", <-ran)
	assert.Equal(t, "event 2", <-ran)
	q.pushUrgent(func() { ran <- "urgent, not held" })
	q.push(func() { ran <- "event 3" })
	assert.Equal(t, "urgent, not held", <-ran)
	assert.Equal(t, "event 3", <-ran)
}

func TestAHoldWithALimitReleasesItself(t *testing.T) {
	q := runQueue(t)
	ran := make(chan string, 1)
	start := time.Now()
	release := q.hold(100 * time.Millisecond)
	defer release()
	q.push(func() { ran <- "event" })
	assert.Equal(t, "event", <-ran)
	assert.GreaterOrEqual(t, time.Since(start), 100*time.Millisecond)
}
