//go:build js && wasm

package jsapi

import (
	"errors"
	"syscall/js"

	"github.com/convo-sdk/convo/core"
	"github.com/hack-pad/safejs"
)

// emitterOf returns the core emitter of an emitter-class Go object.
func emitterOf(self any) *core.Emitter {
	if src, ok := self.(core.EventSource); ok {
		return src.Emitter()
	}
	panic(typeError("not an event emitter"))
}

// newEmitterClass builds ReplayEventEmitter: Node's EventEmitter methods plus replay, on the
// prototype that Client, Conversation, Message, Participant and User inherit.
func newEmitterClass() *class {
	c := newClass("ReplayEventEmitter", nil)
	adder := func(opts core.AddOptions) func(self any, a *args) any {
		return func(self any, a *args) any {
			event, fn := a.eventName(0), a.function(1, "listener")
			emitterOf(self).Add(event, jsListener(self, fn), opts)
			return toJS(self)
		}
	}
	c.method("on", adder(core.AddOptions{}))
	c.method("addListener", adder(core.AddOptions{}))
	c.method("once", adder(core.AddOptions{Once: true}))
	c.method("prependListener", adder(core.AddOptions{Prepend: true}))
	c.method("prependOnceListener", adder(core.AddOptions{Prepend: true, Once: true}))
	c.method("onWithReplay", adder(core.AddOptions{Replay: true}))
	c.method("addListenerWithReplay", adder(core.AddOptions{Replay: true}))
	c.method("onceWithReplay", adder(core.AddOptions{Replay: true, Once: true}))
	remove := func(self any, a *args) any {
		event, fn := a.eventName(0), a.function(1, "listener")
		emitterOf(self).Remove(event, func(k any) bool {
			v, ok := k.(js.Value)
			return ok && v.Equal(fn)
		})
		return toJS(self)
	}
	c.method("off", remove)
	c.method("removeListener", remove)
	c.method("removeAllListeners", func(self any, a *args) any {
		if event, ok := a.optionalEventName(0); ok {
			emitterOf(self).RemoveAll(event)
		} else {
			emitterOf(self).RemoveAll()
		}
		return toJS(self)
	})
	list := func(self any, a *args) any {
		return emitterOf(self).Listeners(a.eventName(0))
	}
	c.method("listeners", list)
	c.method("rawListeners", list)
	c.method("listenerCount", func(self any, a *args) any {
		return emitterOf(self).ListenerCount(a.eventName(0))
	})
	c.method("eventNames", func(self any, _ *args) any {
		return stringsAny(emitterOf(self).EventNames())
	})
	c.method("emit", func(self any, a *args) any {
		return emitterOf(self).Emit(a.eventName(0), jsList(a.rest(1), asAny[js.Value])...)
	})
	c.method("setMaxListeners", func(self any, a *args) any {
		// Node's rule and error: any number but a negative one or NaN, else a RangeError.
		n := a.at(0)
		if n.Type() != js.TypeNumber || n.Float() < 0 || n.IsNaN() {
			panic(thrown{err: js.Global().Get("RangeError").New("setMaxListeners needs a non-negative number")})
		}
		emitterOf(self).SetMaxListeners(n.Int())
		return toJS(self)
	})
	c.method("getMaxListeners", func(self any, _ *args) any {
		return emitterOf(self).MaxListeners()
	})
	return c
}

// jsListener adapts a JS function to a core listener. Arguments are converted to JS on each
// call; a listener that throws is reported on the console and the others still run.
func jsListener(self any, fn js.Value) core.Listener {
	return core.Listener{Key: fn, Fn: func(args ...any) {
		callArgs := make([]any, 0, len(args)+1)
		callArgs = append(callArgs, toJS(self))
		for _, a := range args {
			callArgs = append(callArgs, toJS(a))
		}
		if _, err := safejs.Safe(fn).Call("call", callArgs...); err != nil {
			console.Call("error", "convo: an event listener threw:", jsErrorOf(err))
		}
	}}
}

// jsErrorOf unwraps the JS exception behind a safejs error for the console.
func jsErrorOf(err error) any {
	var je js.Error
	if errors.As(err, &je) {
		return je.Value
	}
	return err.Error()
}
