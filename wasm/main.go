//go:build js && wasm

// Command wasm is the convo browser SDK: it installs the JS API and hands it to the loader.
//
// The loader passes a one-time global name as the first argument; the function stored there
// receives the API object (and, on `rethrow`, the loader may supply its exception wrapper).
package main

import (
	"os"
	"runtime/debug"
	"syscall/js"

	"github.com/convo-sdk/convo/jsapi"
)

// gcPercent trades GC work for memory: wasm linear memory only grows, so the heap's peak
// (live data plus GC headroom) is what a page keeps. Measured in web/e2e's TestBenchMemory.
const gcPercent = 50

func main() {
	debug.SetGCPercent(gcPercent)
	if len(os.Args) < 2 {
		js.Global().Get("console").Call("error", "convo: started without a boot key; load it through the package's index.js")
		return
	}
	boot := js.Global().Get(os.Args[1])
	if boot.Type() != js.TypeFunction {
		js.Global().Get("console").Call("error", "convo: the boot key names no function; load it through the package's index.js")
		return
	}
	api := jsapi.Install(boot.Get("hooks"))
	boot.Invoke(api)
	select {} // the API lives as long as the page
}
