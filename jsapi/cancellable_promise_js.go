//go:build js && wasm

package jsapi

import "syscall/js"

// newCancellablePromiseClass builds CancellablePromise: a Promise subclass with cancel(),
// made by cancellable (promise_js.go) for the methods registered with .cancellable(). It is
// made from functions (not class syntax) so no JS source has to be evaluated: the constructor
// returns a real Promise re-prototyped to this class, and .then() on it makes more of them
// through Promise's species lookup, as with a subclass.
func newCancellablePromiseClass() *class {
	c := &class{name: "CancellablePromise"}
	var proto js.Value
	ctor := js.FuncOf(guardSync("new CancellablePromise(executor, onCancel)", func(this js.Value, list []js.Value) any {
		a := newArgs(background, list)
		p := jsPromise.New(a.function(0, "executor"))
		jsObject.Call("setPrototypeOf", p, proto)
		if onCancel := a.at(1); onCancel.Type() == js.TypeFunction {
			p.Set(cancelKey, onCancel)
		}
		return p
	}))
	c.funcs = append(c.funcs, ctor)
	c.ctor = rethrowing(ctor)
	jsObject.Call("defineProperty", c.ctor, "name", map[string]any{"value": "CancellablePromise"})
	proto = jsObject.Call("create", jsPromise.Get("prototype"))
	jsObject.Call("defineProperty", proto, "constructor", map[string]any{"value": c.ctor, "writable": true, "configurable": true})
	c.ctor.Set("prototype", proto)
	jsObject.Call("setPrototypeOf", c.ctor, jsPromise)
	c.proto = proto
	cancel := js.FuncOf(func(this js.Value, _ []js.Value) any {
		if fn := this.Get(cancelKey); fn.Type() == js.TypeFunction {
			fn.Invoke()
		}
		return nil
	})
	c.funcs = append(c.funcs, cancel)
	jsObject.Call("defineProperty", proto, "cancel", map[string]any{"value": cancel.Value, "writable": true, "configurable": true})
	return c
}

// cancelKey holds a CancellablePromise's cancel hook.
const cancelKey = "__convoCancel"
