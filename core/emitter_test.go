package core

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorder collects the calls listeners receive, in order.
type recorder struct {
	mu    sync.Mutex
	calls []string
}

func (r *recorder) fn(name string) func(...any) {
	return func(args ...any) {
		r.mu.Lock()
		defer r.mu.Unlock()
		s := name
		for _, a := range args {
			s += ":" + a.(string)
		}
		r.calls = append(r.calls, s)
	}
}

func TestEmitterCallsListenersInOrderWithArguments(t *testing.T) {
	e := NewEmitter()
	var r recorder
	e.On("x", r.fn("a"))
	e.On("x", r.fn("b"))
	e.Add("x", Listener{Key: "p", Fn: r.fn("p")}, AddOptions{Prepend: true})
	assert.True(t, e.Emit("x", "1"))
	assert.False(t, e.Emit("nobody"))
	assert.Equal(t, []string{"p:1", "a:1", "b:1"}, r.calls)
}

func TestEmitterOnceRunsOnceEvenWhenReentered(t *testing.T) {
	e := NewEmitter()
	var r recorder
	calls := 0
	e.Once("x", func(...any) {
		calls++
		e.Emit("x") // re-entrant emit must not call this listener again
	})
	e.On("x", r.fn("on"))
	e.Emit("x")
	e.Emit("x")
	assert.Equal(t, 1, calls)
	assert.Equal(t, []string{"on", "on", "on"}, r.calls)
}

func TestEmitterRemoveTakesTheMostRecentlyAddedCopy(t *testing.T) {
	e := NewEmitter()
	var r recorder
	e.Add("x", Listener{Key: "k", Fn: r.fn("first")}, AddOptions{})
	e.Add("x", Listener{Key: "other", Fn: r.fn("other")}, AddOptions{})
	e.Add("x", Listener{Key: "k", Fn: r.fn("second")}, AddOptions{})
	require.True(t, e.Remove("x", func(k any) bool { return k == "k" }))
	e.Emit("x")
	assert.Equal(t, []string{"first", "other"}, r.calls)
	assert.Equal(t, []any{"k", "other"}, e.Listeners("x"))
	assert.False(t, e.Remove("x", func(k any) bool { return k == "missing" }))
}

func TestEmitterEmitUsesASnapshotOfListeners(t *testing.T) {
	e := NewEmitter()
	var r recorder
	var offB func()
	e.On("x", func(...any) {
		offB()                  // removed during the emit: still called this time
		e.On("x", r.fn("late")) // added during the emit: not called this time
	})
	offB = e.On("x", r.fn("b"))
	e.Emit("x")
	assert.Equal(t, []string{"b"}, r.calls)
	e.Emit("x")
	assert.Equal(t, []string{"b", "late"}, r.calls)
}

func TestEmitterReplayGivesTheLatestValueFirst(t *testing.T) {
	e := NewEmitter()
	var r recorder
	e.OnWithReplay("x", r.fn("early")) // nothing recorded yet: no replay call
	e.Emit("x", "1")
	e.Emit("x", "2")
	e.RemoveAll() // recorded values survive
	e.OnWithReplay("x", r.fn("late"))
	assert.Equal(t, []string{"early:1", "early:2", "late:2"}, r.calls)
	e.Emit("x", "3")
	assert.Equal(t, []string{"early:1", "early:2", "late:2", "late:3"}, r.calls)
}

func TestEmitterOnceWithReplayIsSatisfiedByARecordedValue(t *testing.T) {
	e := NewEmitter()
	var r recorder
	e.Emit("x", "1")
	added := e.Add("x", Listener{Key: 1, Fn: r.fn("once")}, AddOptions{Once: true, Replay: true})
	assert.False(t, added)
	e.Emit("x", "2")
	assert.Equal(t, []string{"once:1"}, r.calls)

	// Without a recorded value it waits for the next emit, once.
	assert.True(t, e.Add("y", Listener{Key: 2, Fn: r.fn("y")}, AddOptions{Once: true, Replay: true}))
	e.Emit("y", "a")
	e.Emit("y", "b")
	assert.Equal(t, []string{"once:1", "y:a"}, r.calls)
}

func TestEmitterPanickingListenerDoesNotStopTheOthers(t *testing.T) {
	e := NewEmitter()
	var r recorder
	var reported []any
	e.OnListenerPanic = func(event string, v any) { reported = append(reported, v) }
	e.On("x", func(...any) { panic("boom") })
	e.On("x", r.fn("after"))
	assert.NotPanics(t, func() { e.Emit("x") })
	assert.Equal(t, []string{"after"}, r.calls)
	assert.Equal(t, []any{"boom"}, reported)
}

func TestEmitterWarnsOnceAboveMaxListeners(t *testing.T) {
	e := NewEmitter()
	var warnings []string
	e.OnWarning = func(msg string) { warnings = append(warnings, msg) }
	e.SetMaxListeners(2)
	for range 4 {
		e.On("x", func(...any) {})
	}
	require.Len(t, warnings, 1)
	assert.Contains(t, warnings[0], `3 "x" listeners`)
	assert.Equal(t, 4, e.ListenerCount("x"))
	assert.Equal(t, []string{"x"}, e.EventNames())
	assert.Equal(t, 2, e.MaxListeners())
}

func BenchmarkEmitterDispatch(b *testing.B) {
	e := NewEmitter()
	n := 0
	for range 3 {
		e.On("messageAdded", func(...any) { n++ })
	}
	b.ReportAllocs()
	for b.Loop() {
		e.Emit("messageAdded", 1)
	}
}
