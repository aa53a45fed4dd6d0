//go:build js && wasm

package core

import (
	"context"
	"errors"
	"syscall/js"
)

// postMedia sends a file with XMLHttpRequest, which reports upload progress (fetch cannot),
// or with fetch where there is no XMLHttpRequest (Node). Going through the page's own HTTP
// stack also keeps net/http, and the TLS stack it drags in, out of the wasm.
func postMedia(ctx context.Context, url, contentType, token string, data []byte, progress UploadProgress) (int, []byte, error) {
	body := js.Global().Get("Uint8Array").New(len(data))
	js.CopyBytesToJS(body, data)
	if js.Global().Get("XMLHttpRequest").Type() == js.TypeFunction {
		return postXHR(ctx, url, contentType, token, body, int64(len(data)), progress)
	}
	return postFetch(ctx, url, contentType, token, body)
}

type httpResult struct {
	status int
	body   []byte
	err    error
}

func postXHR(ctx context.Context, url, contentType, token string, body js.Value, total int64, progress UploadProgress) (int, []byte, error) {
	xhr := js.Global().Get("XMLHttpRequest").New()
	done := make(chan httpResult, 1)
	var funcs []js.Func
	on := func(target js.Value, event string, fn func(js.Value)) {
		f := js.FuncOf(func(_ js.Value, args []js.Value) any { fn(args[0]); return nil })
		funcs = append(funcs, f)
		target.Call("addEventListener", event, f)
	}
	defer func() {
		for _, f := range funcs {
			f.Release()
		}
	}()
	if progress != nil {
		// Called from the event loop: hand the figures to a goroutine so the callback
		// returns at once.
		on(xhr.Get("upload"), "progress", func(e js.Value) {
			sent := int64(e.Get("loaded").Float())
			go progress(min(sent, total), total)
		})
	}
	on(xhr, "load", func(js.Value) {
		done <- httpResult{status: xhr.Get("status").Int(), body: []byte(xhr.Get("responseText").String())}
	})
	on(xhr, "error", func(js.Value) { done <- httpResult{err: errors.New("network error")} })
	on(xhr, "abort", func(js.Value) { done <- httpResult{err: errors.New("aborted")} })
	if err := jsTry(func() {
		xhr.Call("open", "POST", url)
		xhr.Call("setRequestHeader", "Content-Type", contentType)
		xhr.Call("setRequestHeader", "Authorization", "Bearer "+token)
		xhr.Call("send", body)
	}); err != nil {
		return 0, nil, err
	}
	select {
	case r := <-done:
		return r.status, r.body, r.err
	case <-ctx.Done():
		xhr.Call("abort")
		<-done
		return 0, nil, ctx.Err()
	}
}

func postFetch(ctx context.Context, url, contentType, token string, body js.Value) (int, []byte, error) {
	controller := js.Global().Get("AbortController").New()
	stop := context.AfterFunc(ctx, func() { controller.Call("abort") })
	defer stop()
	init := map[string]any{
		"method":  "POST",
		"body":    body,
		"headers": map[string]any{"Content-Type": contentType, "Authorization": "Bearer " + token},
		"signal":  controller.Get("signal"),
	}
	var p js.Value
	if err := jsTry(func() { p = js.Global().Call("fetch", url, init) }); err != nil {
		return 0, nil, err
	}
	res, err := awaitPromise(p)
	if err != nil {
		return 0, nil, err
	}
	text, err := awaitPromise(res.Call("text"))
	if err != nil {
		return 0, nil, err
	}
	return res.Get("status").Int(), []byte(text.String()), nil
}

// awaitPromise waits for a JS promise from a goroutine (never from a JS callback).
func awaitPromise(p js.Value) (js.Value, error) {
	done := make(chan httpResult, 1)
	var value js.Value
	ok := js.FuncOf(func(_ js.Value, args []js.Value) any {
		value = args[0]
		done <- httpResult{}
		return nil
	})
	fail := js.FuncOf(func(_ js.Value, args []js.Value) any {
		msg := "rejected"
		if e := args[0]; e.Type() == js.TypeObject && e.Get("message").Type() == js.TypeString {
			msg = e.Get("message").String()
		}
		done <- httpResult{err: errors.New(msg)}
		return nil
	})
	defer ok.Release()
	defer fail.Release()
	p.Call("then", ok, fail)
	r := <-done
	return value, r.err
}
