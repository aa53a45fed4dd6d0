//go:build js && wasm

package jsapi

import (
	"sync"
	"syscall/js"
	"time"

	"github.com/convo-sdk/convo/core"
	"github.com/convo-sdk/convo/internal/jsonc"
	"github.com/convo-sdk/convo/wire"
)

// JS↔Go value conversion: Go values on their way out to JS, and the JS values that the
// argument decoders (args_js.go) turn into Go ones.

var (
	jsObject  = js.Global().Get("Object")
	jsArray   = js.Global().Get("Array")
	jsPromise = js.Global().Get("Promise")
	jsError   = js.Global().Get("Error")
	jsDate    = js.Global().Get("Date")
	jsJSON    = js.Global().Get("JSON")
	jsMap     = js.Global().Get("Map")
	console   = js.Global().Get("console")
)

// toJS converts a Go value emitted by core, or returned by a method, to its JS form.
func toJS(v any) any {
	switch x := v.(type) {
	case nil:
		return js.Undefined()
	case js.Value:
		return x
	case *core.Client:
		return reg.jsOf(x)
	case *core.Conversation:
		return reg.wrap(x, classes.conversation)
	case *core.Message:
		return reg.wrap(x, classes.message)
	case *core.Participant:
		return reg.wrap(x, classes.participant)
	case *core.User:
		return reg.wrap(x, classes.user)
	case *core.Media:
		return reg.wrap(x, classes.media)
	case core.ConnectionState:
		return string(x)
	case core.InitFailure:
		return map[string]any{"error": connectionErrorValue(true, x.Err)}
	case core.ConnectionError:
		e := jsError.New(x.Message)
		e.Set("terminal", x.Terminal)
		e.Set("message", x.Message)
		e.Set("errorCode", int(x.Code))
		e.Set("code", int(x.Code))
		return e
	case core.ConversationUpdate:
		return updateArgs("conversation", x.Conversation, x.UpdateReasons)
	case core.ParticipantUpdate:
		return updateArgs("participant", x.Participant, x.UpdateReasons)
	case core.MessageUpdate:
		return updateArgs("message", x.Message, x.UpdateReasons)
	case core.UserUpdate:
		return updateArgs("user", x.User, x.UpdateReasons)
	case core.PushNotification:
		return pushNotificationValue(x)
	case time.Duration:
		return x.Seconds()
	case string, bool, int, int64, float64:
		return x
	}
	return js.Undefined()
}

// updateArgs is the argument of an *Updated event: {kind: object, updateReasons}.
func updateArgs(kind string, obj any, reasons []string) map[string]any {
	return map[string]any{kind: toJS(obj), "updateReasons": stringsAny(reasons)}
}

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
func jsonValue(raw wire.RawJSON) js.Value {
	if len(raw) == 0 {
		return js.Null()
	}
	return jsJSON.Call("parse", string(raw))
}

// jsonOf serialises a JS value with JSON.stringify, for attributes going to the server.
// undefined is no value (nil).
func jsonOf(v js.Value, what string) (wire.RawJSON, error) {
	if v.IsUndefined() {
		return nil, nil
	}
	var out wire.RawJSON
	err := catchJS(func() {
		s := jsJSON.Call("stringify", v)
		if s.Type() != js.TypeString {
			panic(argError("%s cannot be serialised to JSON", what))
		}
		out = wire.RawJSON(s.String())
	})
	if err != nil {
		return nil, argError("%s cannot be serialised to JSON: %v", what, err)
	}
	return out, nil
}

// jsMapFrom turns a JSON object into a JS Map of its entries, in their order.
func jsMapFrom(raw wire.RawJSON) js.Value {
	m := jsMap.New()
	d := jsonc.NewDecoder(raw)
	for n := 0; d.Member(n); n++ {
		k := string(d.Key)
		if v := d.RawValue(); v != nil {
			m.Call("set", k, jsonValue(v))
		}
	}
	return m
}

// jsURLMap turns sid → URL into a JS Map.
func jsURLMap(urls map[string]string) js.Value {
	m := jsMap.New()
	for k, v := range urls {
		m.Call("set", k, v)
	}
	return m
}

// optString is s, or null when empty.
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

// stringPtr is *s, or null.
func stringPtr(s *string) any {
	if s == nil {
		return js.Null()
	}
	return *s
}

// indexValue is *i, or null.
func indexValue(i *int64) any {
	if i == nil {
		return js.Null()
	}
	return *i
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

func stringsAny(ss []string) []any { return jsList(ss, asAny[string]) }
