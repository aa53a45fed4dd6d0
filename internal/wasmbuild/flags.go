// Package wasmbuild holds the flags the SDK's wasm is built with, so the Makefile, the
// browser tests and the bench build the same module.
package wasmbuild

import "strings"

// Flags are the `go build` flags of convo.wasm (GOOS=js GOARCH=wasm), beside `-o` and the
// package. The Makefile's GOFLAGS_WASM spells the same list (flags_test.go checks).
//
// Inlining is off everywhere but in the runtime: it makes the module about 50 KB brotli
// smaller (909,658 → 860,971 bytes), and delivery throughput measures the same, while
// turning it off in the runtime too (830,146 bytes) costs about a fifth of the throughput
// (docs/ARCHITECTURE.md, "The SDK's weight").
var Flags = []string{"-ldflags=-s -w", "-trimpath", "-gcflags=all=-l", "-gcflags=runtime="}

// SymbolFlags are Flags without the linker's stripping: the same code with its symbol names
// kept, for the bench's table of what each package weighs.
func SymbolFlags() []string {
	var out []string
	for _, f := range Flags {
		if !strings.HasPrefix(f, "-ldflags=") {
			out = append(out, f)
		}
	}
	return out
}
