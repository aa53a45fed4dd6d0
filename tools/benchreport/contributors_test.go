package main

import "testing"

func TestPackageOf(t *testing.T) {
	for sym, want := range map[string]string{
		"encoding_json.__decodeState_.convertNumber":          "encoding_json",
		"github.com_convo_sdk_convo_jsapi.newUserClass.func4": "github.com_convo_sdk_convo_jsapi",
		"nhooyr.io_websocket.Dial":                            "nhooyr.io_websocket",
		"runtime.gcStart":                                     "runtime",
		"fmt.__pp_.doPrintf":                                  "fmt",
		"runtime.gcStart_m":                                   "runtime",
		"golang.org_x_text_unicode.Lookup":                    "golang.org_x_text_unicode",
		"memeqbody":                                           "memeqbody",
	} {
		if got := packageOf(sym); got != want {
			t.Errorf("packageOf(%q) = %q, want %q", sym, got, want)
		}
	}
}

func TestWasmFunctionSizesRejectsGarbage(t *testing.T) {
	for _, b := range [][]byte{nil, []byte("not wasm"), []byte("\x00asm\x01\x00\x00\x00\x0a\xff")} {
		if _, _, err := wasmFunctionSizes(b); err == nil {
			t.Errorf("wasmFunctionSizes(%q) accepted garbage", b)
		}
	}
}
