//go:build js && wasm

package jsapi

import (
	"sync"
	"syscall/js"
)

// afterResult releases a call's held events on a later macrotask. The call's promise is
// resolved right after the core method returns, in the same turn of Go, so by the time that
// task runs every reaction to it (an app's `await` and what follows it synchronously) has
// run, as with the vendor, whose events arrive in a network message after its REST reply.
//
// In a page the task is a MessageChannel message: browsers throttle timers in hidden tabs
// (to a second or more), which would hold every event that long. Elsewhere (Node, where an
// open port would keep the process alive) it is a timer. One task serves every release
// pending at once; the js.Func is made once.
var afterResult = struct {
	mu      sync.Mutex
	pending []func()
	armed   bool
	fire    js.Func
	post    func()
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
	g := js.Global()
	if mc := g.Get("MessageChannel"); mc.Type() == js.TypeFunction && g.Get("document").Type() == js.TypeObject {
		ch := mc.New()
		ch.Get("port1").Set("onmessage", afterResult.fire)
		port := ch.Get("port2")
		afterResult.post = func() { port.Call("postMessage", nil) }
		return
	}
	afterResult.post = func() { g.Call("setTimeout", afterResult.fire, 0) }
}

func releaseAfterResult(release func()) {
	afterResult.mu.Lock()
	afterResult.pending = append(afterResult.pending, release)
	arm := !afterResult.armed
	afterResult.armed = true
	afterResult.mu.Unlock()
	if arm {
		afterResult.post()
	}
}
