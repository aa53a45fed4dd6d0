//go:build js && wasm

package jsapi

import (
	"context"
	"fmt"
	"syscall/js"

	"github.com/convo-sdk/convo/core"
	"github.com/convo-sdk/convo/wire"
)

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

func instanceOf(v js.Value, ctorName string) bool {
	ctor := js.Global().Get(ctorName)
	return isObject(v) && ctor.Type() == js.TypeFunction && v.InstanceOf(ctor)
}

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

func describe(v js.Value) string {
	if isObject(v) {
		if c := v.Get("constructor"); c.Type() == js.TypeFunction {
			return c.Get("name").String()
		}
	}
	return v.Type().String()
}

// isMediaArg tells media arguments (FormData, Blob/File, {contentType, media}) from text.
func isMediaArg(v js.Value) bool {
	return instanceOf(v, "FormData") || instanceOf(v, "Blob") || (isObject(v) && !v.Get("media").IsUndefined())
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

func newMediaClass() *class {
	c := newClass("Media", nil, nil)
	c.weak = true
	md := func(self any) *core.Media { return self.(*core.Media) }
	c.getter("sid", func(self any) any { return md(self).Sid() })
	c.getter("filename", func(self any) any { return optString(md(self).Filename()) })
	c.getter("contentType", func(self any) any { return md(self).ContentType() })
	c.getter("size", func(self any) any { return md(self).Size() })
	c.getter("category", func(self any) any { return md(self).Category() })
	c.method("getContentTemporaryUrl", func(self any, _ []js.Value) any {
		return cancellable(func(ctx context.Context) (any, error) {
			u, err := md(self).GetContentTemporaryURL(ctx)
			if err != nil {
				return nil, err
			}
			return u, nil
		})
	})
	return c
}

// mediaList converts core media to a JS array of Media objects.
func mediaList(ms []*core.Media) []any {
	return jsList(ms, func(m *core.Media) any { return reg.wrap(m, classes.media) })
}

// mediaSidsArg reads an array of Media objects or sids.
func mediaSidsArg(v js.Value, what string) ([]string, error) {
	if !js.Global().Get("Array").Call("isArray", v).Bool() {
		return nil, argError("%s must be an array, got %s", what, describe(v))
	}
	n := v.Length()
	sids := make([]string, 0, n)
	for i := 0; i < n; i++ {
		e := v.Index(i)
		if e.Type() == js.TypeString {
			sids = append(sids, e.String())
			continue
		}
		if m, ok := reg.lookup(e); ok {
			if md, ok := m.(*core.Media); ok {
				sids = append(sids, md.Sid())
				continue
			}
		}
		return nil, argError("%s[%d] must be a Media object or a media sid, got %s", what, i, describe(e))
	}
	return sids, nil
}
