//go:build js && wasm

package jsapi

import (
	"sync"
	"syscall/js"
)

// afterResult releases a call's held events on a later macrotask. The call's promise is
// resolved right after the core method returns, in the same turn of Go, so by the time a
// timer fires every reaction to it (an app's `await` and what follows it synchronously) has
// run, as with the vendor, whose events arrive in a network message after its REST reply.
//
// One timer serves every release pending at once; the js.Func is made once.
var afterResult = struct {
	mu      sync.Mutex
	pending []func()
	armed   bool
	fire    js.Func
}{}

func init() {
	afterResult.fire = js.FuncOf(func(js.Value, []js.Value) any {
		afterResult.mu.Lock()
		due := afterResult.pending
		afterResult.pending, afterResult.armed = nil, false
		afterResult.mu.Unlock()
		for _, release := range due {
			release()
		}
		return nil
	})
}

func releaseAfterResult(release func()) {
	afterResult.mu.Lock()
	afterResult.pending = append(afterResult.pending, release)
	arm := !afterResult.armed
	afterResult.armed = true
	afterResult.mu.Unlock()
	if arm {
		js.Global().Call("setTimeout", afterResult.fire, 0)
	}
}
