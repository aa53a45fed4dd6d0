//go:build js && wasm

package jsapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"syscall/js"
	"time"

	"github.com/convo-sdk/convo/core"
	"github.com/convo-sdk/convo/wire"
)

// errorValue turns a Go error into a JS Error with a numeric code: the code of a *wire.Error,
// otherwise CodeInternal.
func errorValue(err error) js.Value {
	var we *wire.Error
	e := jsError.New(err.Error())
	if errors.As(err, &we) {
		e = jsError.New(we.Message)
		e.Set("code", int(we.Code))
	} else {
		e.Set("code", int(wire.CodeInternal))
	}
	e.Set("name", "ConvoError")
	return e
}

// argError is an argument problem, reported as a rejected promise or a thrown TypeError.
func argError(format string, args ...any) error {
	return wire.Errorf(core.CodeClientArgument, format, args...)
}

// promise runs fn on a new goroutine and returns a Promise of its result. A js.Func callback
// must never block (the JS event loop would stop), so every async method goes through here.
func promise(fn func() (any, error)) js.Value {
	executor := js.FuncOf(func(_ js.Value, args []js.Value) any {
		resolve, reject := args[0], args[1]
		go func() {
			defer func() {
				if r := recover(); r != nil {
					reject.Invoke(errorValue(fmt.Errorf("convo: internal error: %v", r)))
				}
			}()
			v, err := fn()
			if err != nil {
				reject.Invoke(errorValue(err))
				return
			}
			resolve.Invoke(v)
		}()
		return nil
	})
	p := jsPromise.New(executor)
	executor.Release()
	return p
}

// rejected returns an already rejected promise.
func rejected(err error) js.Value { return jsPromise.Call("reject", errorValue(err)) }

func dateValue(t time.Time) any {
	if t.IsZero() {
		return js.Null()
	}
	return jsDate.New(float64(t.UnixMilli()))
}

// dateMillis is t in Unix milliseconds, or null for the zero time (see class.fields).
func dateMillis(t time.Time) any {
	if t.IsZero() {
		return js.Null()
	}
	return float64(t.UnixMilli())
}

// jsonValue parses JSON into a fresh JS value (attributes are plain JS values).
func jsonValue(raw json.RawMessage) js.Value {
	if len(raw) == 0 {
		return js.Null()
	}
	return jsJSON.Call("parse", string(raw))
}

// jsonOf serialises a JS value with JSON.stringify, for attributes going to the server.
func jsonOf(v js.Value, what string) (json.RawMessage, error) {
	if v.IsUndefined() {
		return nil, nil
	}
	var out json.RawMessage
	err := catchJS(func() {
		s := jsJSON.Call("stringify", v)
		if s.Type() != js.TypeString {
			panic(argError("%s cannot be serialised to JSON", what))
		}
		out = json.RawMessage(s.String())
	})
	if err != nil {
		return nil, argError("%s cannot be serialised to JSON: %v", what, err)
	}
	return out, nil
}

// catchJS runs fn and returns a JS exception or a panic as an error.
func catchJS(fn func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			switch v := r.(type) {
			case error:
				err = v
			case js.Value:
				err = js.Error{Value: v}
			default:
				err = fmt.Errorf("%v", v)
			}
		}
	}()
	fn()
	return nil
}

func optString(s string) any {
	if s == "" {
		return js.Null()
	}
	return s
}

// sharedString is optString for values many objects repeat (a message's author and
// participant sid): the JS string is made once and reused. Handing JS a Go string decodes
// it anew and gives its reference a finalizer, at every call.
func sharedString(s string) any {
	if s == "" {
		return js.Null()
	}
	jsStrings.mu.Lock()
	defer jsStrings.mu.Unlock()
	if v, ok := jsStrings.m[s]; ok {
		return v
	}
	if len(jsStrings.m) >= maxSharedStrings {
		clear(jsStrings.m) // the dropped values are released as the GC finds them
	}
	v := js.ValueOf(s)
	jsStrings.m[s] = v
	return v
}

// maxSharedStrings bounds sharedString's cache.
const maxSharedStrings = 4096

var jsStrings = struct {
	mu sync.Mutex
	m  map[string]js.Value
}{m: map[string]js.Value{}}

func stringPtr(s *string) any {
	if s == nil {
		return js.Null()
	}
	return *s
}

// arg returns args[i], or undefined when absent.
func arg(args []js.Value, i int) js.Value {
	if i < len(args) {
		return args[i]
	}
	return js.Undefined()
}

// stringArg reads a required string argument.
func stringArg(args []js.Value, i int, name string) (string, error) {
	v := arg(args, i)
	if v.Type() != js.TypeString {
		return "", argError("%s must be a string, got %s", name, v.Type())
	}
	return v.String(), nil
}

// isObject reports whether v is a non-null object.
func isObject(v js.Value) bool { return v.Type() == js.TypeObject }

// optionalStringField reads obj[name] when obj is an object and the field is set.
func optionalStringField(obj js.Value, name, what string) (string, error) {
	if !isObject(obj) {
		return "", nil
	}
	v := obj.Get(name)
	switch v.Type() {
	case js.TypeUndefined, js.TypeNull:
		return "", nil
	case js.TypeString:
		return v.String(), nil
	}
	return "", argError("%s.%s must be a string, got %s", what, name, v.Type())
}

// jsList converts each item for JS: the []any that js.ValueOf makes an Array of.
func jsList[T any](items []T, conv func(T) any) []any {
	out := make([]any, len(items))
	for i, it := range items {
		out[i] = conv(it)
	}
	return out
}

// asAny is the identity conversion, for jsList over values js.ValueOf takes as they are.
func asAny[T any](v T) any { return v }

// toJSOf is toJS for a typed item, for jsList.
func toJSOf[T any](v T) any { return toJS(v) }
