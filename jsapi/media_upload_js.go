//go:build js && wasm

package jsapi

import (
	"syscall/js"

	"github.com/convo-sdk/convo/core"
	"github.com/convo-sdk/convo/wire"
)

// Media going out: the media arguments of a message being sent (see decodeMedia) read into
// core uploads, once the message is sent.

// bytesOf reads the bytes of a Blob, an ArrayBuffer, a typed array (Node's Buffer too) or a
// string (as UTF-8). It may await, so it runs on a goroutine.
func bytesOf(v js.Value) ([]byte, string, string, error) {
	switch {
	case v.Type() == js.TypeString:
		return []byte(v.String()), "", "", nil
	case instanceOf(v, "Blob"):
		buf, err := awaitJS(v.Call("arrayBuffer"))
		if err != nil {
			return nil, "", "", err
		}
		name := ""
		if n := v.Get("name"); n.Type() == js.TypeString {
			name = n.String()
		}
		b, err := copyBytes(js.Global().Get("Uint8Array").New(buf))
		return b, v.Get("type").String(), name, err
	case instanceOf(v, "ArrayBuffer"):
		b, err := copyBytes(js.Global().Get("Uint8Array").New(v))
		return b, "", "", err
	case isObject(v) && js.Global().Get("ArrayBuffer").Call("isView", v).Bool():
		b, err := copyBytes(js.Global().Get("Uint8Array").New(v.Get("buffer"), v.Get("byteOffset"), v.Get("byteLength")))
		return b, "", "", err
	}
	return nil, "", "", argError("media content must be a string, Blob, File, ArrayBuffer or typed array, got %s", describe(v))
}

func copyBytes(u8 js.Value) ([]byte, error) {
	n := u8.Get("length").Int()
	if n > wire.DefaultMaxMediaBytes {
		return nil, wire.Errorf(wire.CodeTooLarge, "media is %d bytes; the limit is %d", n, wire.DefaultMaxMediaBytes)
	}
	b := make([]byte, n)
	js.CopyBytesToGo(b, u8)
	return b, nil
}

// mediaUpload converts a media argument as the vendor SDK accepts it: FormData (its first
// file), a Blob or File, or SendMediaOptions {contentType, filename, media}. It may await.
func mediaUpload(v js.Value, category string) (core.MediaUpload, error) {
	up := core.MediaUpload{Category: category}
	switch {
	case instanceOf(v, "FormData"):
		var file js.Value
		iter := v.Call("values")
		for {
			next := iter.Call("next")
			if next.Get("done").Bool() {
				break
			}
			if instanceOf(next.Get("value"), "Blob") {
				file = next.Get("value")
				break
			}
		}
		if file.IsUndefined() {
			return up, argError("the FormData holds no file")
		}
		return mediaUpload(file, category)
	case instanceOf(v, "Blob"):
		data, ctype, name, err := bytesOf(v)
		if err != nil {
			return up, err
		}
		up.Data, up.ContentType, up.Filename = data, ctype, name
	case isObject(v):
		data, ctype, name, err := bytesOf(v.Get("media"))
		if err != nil {
			return up, err
		}
		up.Data, up.ContentType, up.Filename = data, ctype, name
		if ct := v.Get("contentType"); ct.Type() == js.TypeString {
			up.ContentType = ct.String()
		}
		if fn := v.Get("filename"); fn.Type() == js.TypeString {
			up.Filename = fn.String()
		}
	default:
		return up, argError("media must be FormData, a Blob or File, or {contentType, filename, media}, got %s", describe(v))
	}
	if up.ContentType == "" {
		up.ContentType = "application/octet-stream"
	}
	return up, nil
}
