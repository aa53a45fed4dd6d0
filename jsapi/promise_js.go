//go:build js && wasm

package jsapi

import (
	"context"
	"fmt"
	"syscall/js"

	"github.com/convo-sdk/convo/core"
	"github.com/convo-sdk/convo/wire"
)

// The Promise helpers. Methods get their Promise through class.async; these are the
// primitives it uses, and the few other places that settle a Promise from Go.

// background is the context of calls made from JS: they end on their own timeouts or when
// the client shuts down, or, for a CancellablePromise, when it is cancelled.
var background = context.Background()

// promise runs fn on a new goroutine and returns a Promise of its result. A js.Func callback
// must never block (the JS event loop would stop), so every asynchronous call goes through
// here or cancellable.
func promise(fn func(ctx context.Context) (any, error)) js.Value {
	executor := js.FuncOf(func(_ js.Value, args []js.Value) any {
		go settle(background, fn, args[0], args[1])
		return nil
	})
	p := jsPromise.New(executor)
	executor.Release()
	return p
}

// cancellable is promise as a CancellablePromise: its cancel() cancels the context fn
// receives, and the promise then rejects with a coded Error.
func cancellable(fn func(ctx context.Context) (any, error)) js.Value {
	ctx, cancel := context.WithCancel(background)
	onCancel := js.FuncOf(func(js.Value, []js.Value) any { cancel(); return nil })
	executor := js.FuncOf(func(_ js.Value, args []js.Value) any {
		go func() {
			defer onCancel.Release()
			defer cancel()
			settle(ctx, func(ctx context.Context) (any, error) {
				v, err := fn(ctx)
				if ctx.Err() == context.Canceled && err != nil {
					err = wire.Errorf(core.CodeClientTimeout, "cancelled")
				}
				return v, err
			}, args[0], args[1])
		}()
		return nil
	})
	defer executor.Release()
	return classes.cancellablePromise.ctor.New(executor, onCancel)
}

// settle runs fn and resolves or rejects with its outcome; a panic rejects as an internal
// error instead of killing the wasm instance.
func settle(ctx context.Context, fn func(ctx context.Context) (any, error), resolve, reject js.Value) {
	defer func() {
		if r := recover(); r != nil {
			reject.Invoke(errorValue(fmt.Errorf("convo: internal error: %v", r)))
		}
	}()
	v, err := fn(ctx)
	if err != nil {
		reject.Invoke(errorValue(err))
		return
	}
	resolve.Invoke(v)
}

// rejected returns an already rejected promise.
func rejected(err error) js.Value { return jsPromise.Call("reject", errorValue(err)) }

// awaitJS waits for a JS promise. Only call it from a goroutine of our own, never inside a
// js.Func callback: the event loop that settles the promise must keep running.
func awaitJS(p js.Value) (js.Value, error) {
	type result struct {
		v   js.Value
		err error
	}
	ch := make(chan result, 1)
	onOK := js.FuncOf(func(_ js.Value, args []js.Value) any { ch <- result{v: arg(args, 0)}; return nil })
	onErr := js.FuncOf(func(_ js.Value, args []js.Value) any {
		e := arg(args, 0)
		msg := "rejected"
		if isObject(e) && e.Get("message").Type() == js.TypeString {
			msg = e.Get("message").String()
		}
		ch <- result{err: fmt.Errorf("%s", msg)}
		return nil
	})
	defer onOK.Release()
	defer onErr.Release()
	if err := catchJS(func() { p.Call("then", onOK, onErr) }); err != nil {
		return js.Undefined(), err
	}
	r := <-ch
	return r.v, r.err
}
