package core

import (
	"fmt"
	"slices"
	"sync"
)

// DefaultMaxListeners is the per-event listener count above which an Emitter warns once, as
// Node's EventEmitter does. It is a leak hint, not a limit.
const DefaultMaxListeners = 10

// Listener is one registered callback. Key identifies it for removal and listing: jsapi uses
// the JS function, Go callers get a unique key from On, Once, OnWithReplay or an event's
// Listen. Fn receives the emitted arguments.
type Listener struct {
	Key any
	Fn  func(args ...any)
}

type entry struct {
	Listener
	once bool
}

// Emitter is the string-named event emitter behind Client, Conversation, Message, Participant
// and User, each of which hands it out through its Emitter method (see EventSource). Core
// emits on it through the declarations in events.go.
// It follows Node's EventEmitter (listener order, once, prepend, removal of the most recently
// added copy, a snapshot of listeners per emit) and adds replay: every emit records its
// arguments per event name, and a replay listener receives the latest ones synchronously
// before it is added. Recorded values survive RemoveAllListeners.
//
// Listeners run on the goroutine that emits; a listener that panics is reported through
// OnListenerPanic and the remaining listeners still run.
type Emitter struct {
	mu        sync.Mutex
	listeners map[string][]*entry
	latest    map[string][]any
	max       int
	warned    map[string]bool

	// OnListenerPanic, if set, receives a listener's panic value. Set it before use.
	OnListenerPanic func(event string, recovered any)
	// OnWarning, if set, receives the max-listeners warning. Set it before use.
	OnWarning func(msg string)
}

// NewEmitter returns an emitter with Node's default of 10 listeners before a warning.
func NewEmitter() *Emitter {
	return &Emitter{max: DefaultMaxListeners}
}

// AddOptions say how a listener is added.
type AddOptions struct {
	Once    bool // removed before its first call
	Prepend bool // added in front of the existing listeners
	Replay  bool // first called with the latest recorded arguments, if any
}

// Add registers l for event and reports whether it was added: a once+replay listener that
// was satisfied by a recorded value is not added.
func (e *Emitter) Add(event string, l Listener, opts AddOptions) bool {
	if opts.Replay {
		e.mu.Lock()
		args, ok := e.latest[event]
		e.mu.Unlock()
		if ok {
			e.call(event, l.Fn, args)
			if opts.Once {
				return false
			}
		}
	}
	e.mu.Lock()
	if e.listeners == nil {
		e.listeners = make(map[string][]*entry)
	}
	en := &entry{Listener: l, once: opts.Once}
	list := e.listeners[event]
	if opts.Prepend {
		list = append([]*entry{en}, list...)
	} else {
		list = append(list, en)
	}
	e.listeners[event] = list
	warn := e.max > 0 && len(list) > e.max && !e.warned[event]
	if warn {
		if e.warned == nil {
			e.warned = make(map[string]bool)
		}
		e.warned[event] = true
	}
	limit, onWarn := e.max, e.OnWarning
	e.mu.Unlock()
	if warn && onWarn != nil {
		onWarn(fmt.Sprintf("possible emitter leak: %d %q listeners added, more than the limit of %d; raise it with setMaxListeners", len(list), event, limit))
	}
	return true
}

// On adds fn for event and returns a function that removes it.
func (e *Emitter) On(event string, fn func(args ...any)) (off func()) {
	return e.listen(event, fn, AddOptions{})
}

// Once adds fn for a single call of event and returns a function that removes it.
func (e *Emitter) Once(event string, fn func(args ...any)) (off func()) {
	return e.listen(event, fn, AddOptions{Once: true})
}

// OnWithReplay calls fn with the latest arguments of event, if it was ever emitted, then
// adds it. It returns a function that removes it.
func (e *Emitter) OnWithReplay(event string, fn func(args ...any)) (off func()) {
	return e.listen(event, fn, AddOptions{Replay: true})
}

// listen adds fn for event under a key of its own, as opts say, and returns a function that
// removes it.
func (e *Emitter) listen(event string, fn func(args ...any), opts AddOptions) (off func()) {
	key := new(byte)
	e.Add(event, Listener{Key: key, Fn: fn}, opts)
	return func() { e.Remove(event, func(k any) bool { return k == key }) }
}

// Remove removes the most recently added listener of event whose key matches, as Node's
// removeListener does, and reports whether one was found.
func (e *Emitter) Remove(event string, match func(key any) bool) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	list := e.listeners[event]
	for i := len(list) - 1; i >= 0; i-- {
		if match(list[i].Key) {
			e.listeners[event] = append(list[:i:i], list[i+1:]...)
			if len(e.listeners[event]) == 0 {
				delete(e.listeners, event)
			}
			return true
		}
	}
	return false
}

// RemoveAll removes every listener of the named events, or of all events when none is
// named. Recorded replay values stay.
func (e *Emitter) RemoveAll(events ...string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(events) == 0 {
		e.listeners = nil
		return
	}
	for _, ev := range events {
		delete(e.listeners, ev)
	}
}

// Emit records args as the latest value of event and calls a snapshot of its listeners in
// order. It reports whether there were listeners.
func (e *Emitter) Emit(event string, args ...any) bool {
	e.mu.Lock()
	if e.latest == nil {
		e.latest = make(map[string][]any)
	}
	e.latest[event] = args
	list := e.listeners[event]
	snapshot := make([]*entry, len(list))
	copy(snapshot, list)
	// Once listeners leave before any call, so a re-entrant emit cannot call them twice.
	if slices.ContainsFunc(list, func(en *entry) bool { return en.once }) {
		kept := list[:0:0]
		for _, en := range list {
			if !en.once {
				kept = append(kept, en)
			}
		}
		if len(kept) == 0 {
			delete(e.listeners, event)
		} else {
			e.listeners[event] = kept
		}
	}
	e.mu.Unlock()
	for _, en := range snapshot {
		e.call(event, en.Fn, args)
	}
	return len(snapshot) > 0
}

func (e *Emitter) call(event string, fn func(...any), args []any) {
	defer func() {
		if r := recover(); r != nil {
			e.mu.Lock()
			report := e.OnListenerPanic
			e.mu.Unlock()
			if report != nil {
				report(event, r)
			}
		}
	}()
	fn(args...)
}

// Listeners returns the keys of event's listeners in call order.
func (e *Emitter) Listeners(event string) []any {
	e.mu.Lock()
	defer e.mu.Unlock()
	list := e.listeners[event]
	keys := make([]any, len(list))
	for i, en := range list {
		keys[i] = en.Key
	}
	return keys
}

// ListenerCount returns how many listeners event has.
func (e *Emitter) ListenerCount(event string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.listeners[event])
}

// EventNames returns the events that have listeners, in no particular order.
func (e *Emitter) EventNames() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	names := make([]string, 0, len(e.listeners))
	for name := range e.listeners {
		names = append(names, name)
	}
	return names
}

// SetMaxListeners sets the per-event count above which Add warns; 0 disables the warning.
func (e *Emitter) SetMaxListeners(n int) {
	e.mu.Lock()
	e.max = n
	e.mu.Unlock()
}

// MaxListeners returns the current warning threshold.
func (e *Emitter) MaxListeners() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.max
}

// Latest returns the arguments of the most recent emit of event.
func (e *Emitter) Latest(event string) ([]any, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	args, ok := e.latest[event]
	return args, ok
}
