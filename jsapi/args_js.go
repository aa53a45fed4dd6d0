//go:build js && wasm

package jsapi

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"syscall/js"
	"unicode/utf8"

	"github.com/convo-sdk/convo/core"
	"github.com/convo-sdk/convo/wire"
)

// The argument decoders. Every method reads its arguments through them, so one kind of
// argument follows one rule and fails with one message wherever it appears:
//
//	string          a string (empty allowed)
//	nonEmptyString  a string that is not empty
//	optionalString  a string, or undefined/null for none
//	index           a non-negative integer (message indexes, anchors)
//	optionalIndex   an index, or undefined/null for none
//	pageSize        an integer from 1 to wire.MaxPageSize, or undefined/null for the default
//	direction       "backwards" or "forward", or undefined/null for "backwards"
//	json            any value JSON.stringify accepts; undefined for none
//	attributes      json, with undefined meaning {} (the update methods replace attributes)
//	options         an object, or undefined/null for none; its fields decode by the same rules
//	stringList      an array of strings
//	mediaSids       an array of Media objects or media sids
//	media           FormData, a Blob or File, or {contentType, filename, media}
//	function        a function
//
// A decoder that refuses its argument panics with a badArgument; the method's guard turns it
// into an Error with code CodeClientArgument and the message "Class.method: what must be ...".
// A synchronous method or a constructor throws it as a TypeError (see throwValue); a Promise
// method's promise rejects with it (see class.async and recoverArgument).

// badArgument is the panic of a decoder that refused an argument.
type badArgument struct{ msg string }

func refuse(format string, args ...any) badArgument {
	return badArgument{msg: fmt.Sprintf(format, args...)}
}

// argError is an argument problem as a coded error, for a Promise's rejection.
func argError(format string, args ...any) error {
	return wire.Errorf(core.CodeClientArgument, format, args...)
}

// argTypeError is an argument problem as a TypeError carrying the same code, for a throw.
func argTypeError(msg string) js.Value {
	e := js.Global().Get("TypeError").New(msg)
	e.Set("code", int(core.CodeClientArgument))
	return e
}

// args are the arguments of one call from JS, with the context its work runs under
// (cancelled by a CancellablePromise's cancel()).
type args struct {
	ctx  context.Context
	list []js.Value
}

func newArgs(ctx context.Context, list []js.Value) *args { return &args{ctx: ctx, list: list} }

// at returns argument i, or undefined when absent.
func (a *args) at(i int) js.Value { return arg(a.list, i) }

// The decoders applied to argument i; what names it in a refusal.

func (a *args) string(i int, what string) string { return decodeString(a.at(i), what) }
func (a *args) nonEmptyString(i int, what string) string {
	return decodeNonEmptyString(a.at(i), what)
}
func (a *args) optionalString(i int, what string) (string, bool) {
	return decodeOptionalString(a.at(i), what)
}
func (a *args) index(i int, what string) int64              { return decodeIndex(a.at(i), what) }
func (a *args) optionalIndex(i int, what string) *int64     { return decodeOptionalIndex(a.at(i), what) }
func (a *args) pageSize(i int, what string) int             { return decodePageSize(a.at(i), what) }
func (a *args) direction(i int, what string) core.Direction { return decodeDirection(a.at(i), what) }
func (a *args) json(i int, what string) wire.RawJSON        { return decodeJSON(a.at(i), what) }
func (a *args) attributes(i int) wire.RawJSON               { return decodeAttributes(a.at(i), "attributes") }
func (a *args) options(i int, what string) options          { return decodeOptions(a.at(i), what) }
func (a *args) stringList(i int, what string) []string      { return decodeStringList(a.at(i), what) }
func (a *args) mediaSids(i int, what string) []string       { return decodeMediaSids(a.at(i), what) }
func (a *args) media(i int, what string) js.Value           { return decodeMedia(a.at(i), what) }
func (a *args) function(i int, what string) js.Value        { return decodeFunction(a.at(i), what) }
func (a *args) eventName(i int) string                      { return decodeString(a.at(i), "eventName") }
func (a *args) optionalEventName(i int) (string, bool) {
	return decodeOptionalString(a.at(i), "eventName")
}
func (a *args) rest(from int) []js.Value { return a.list[min(from, len(a.list)):] }

// options is a decoded options object: its fields decode by the rules of the decoders above,
// named "options.field" in their messages. The zero value (no object given) has no fields.
type options struct {
	v    js.Value
	what string
}

func (o options) field(name string) (js.Value, string) {
	if !isObject(o.v) {
		return js.Undefined(), o.what + "." + name
	}
	return o.v.Get(name), o.what + "." + name
}

func (o options) optionalString(name string) (string, bool) {
	return decodeOptionalString(o.field(name))
}
func (o options) pageSize(name string) int { return decodePageSize(o.field(name)) }

// optionalBool is the option's value, or def when it is absent (undefined or null).
func (o options) optionalBool(name string, def bool) bool {
	v, what := o.field(name)
	switch v.Type() {
	case js.TypeUndefined, js.TypeNull:
		return def
	case js.TypeBoolean:
		return v.Bool()
	}
	panic(refuse("%s must be a boolean, got %s", what, describe(v)))
}
func (o options) json(name string) wire.RawJSON { return decodeJSON(o.field(name)) }

func decodeString(v js.Value, what string) string {
	if v.Type() != js.TypeString {
		panic(refuse("%s must be a string, got %s", what, describe(v)))
	}
	return v.String()
}

func decodeNonEmptyString(v js.Value, what string) string {
	if v.Type() != js.TypeString || v.String() == "" {
		panic(refuse("%s must be a non-empty string, got %s", what, describe(v)))
	}
	return v.String()
}

func decodeOptionalString(v js.Value, what string) (string, bool) {
	if absent(v) {
		return "", false
	}
	if v.Type() != js.TypeString {
		panic(refuse("%s must be a string or null, got %s", what, describe(v)))
	}
	return v.String(), true
}

func decodeIndex(v js.Value, what string) int64 {
	if v.Type() == js.TypeNumber && !v.IsNaN() {
		if f := v.Float(); f >= 0 && f <= 1<<53 && f == float64(int64(f)) {
			return int64(f)
		}
	}
	panic(refuse("%s must be a non-negative integer, got %s", what, describe(v)))
}

func decodeOptionalIndex(v js.Value, what string) *int64 {
	if absent(v) {
		return nil
	}
	if v.Type() == js.TypeNumber && !v.IsNaN() {
		if f := v.Float(); f >= 0 && f <= 1<<53 && f == float64(int64(f)) {
			i := int64(f)
			return &i
		}
	}
	panic(refuse("%s must be a non-negative integer or null, got %s", what, describe(v)))
}

// decodePageSize returns 0 for an absent page size: core's default.
func decodePageSize(v js.Value, what string) int {
	if absent(v) {
		return 0
	}
	if v.Type() == js.TypeNumber && !v.IsNaN() {
		if f := v.Float(); f >= 1 && f <= wire.MaxPageSize && f == float64(int(f)) {
			return int(f)
		}
	}
	panic(refuse("%s must be an integer from 1 to %d, got %s", what, wire.MaxPageSize, describe(v)))
}

func decodeDirection(v js.Value, what string) core.Direction {
	if absent(v) {
		return core.Backwards
	}
	if v.Type() == js.TypeString {
		if d := core.Direction(v.String()); d == core.Backwards || d == core.Forward {
			return d
		}
	}
	panic(refuse("%s must be %q or %q, got %s", what, core.Backwards, core.Forward, describe(v)))
}

// decodeJSON returns nil for undefined: no value.
func decodeJSON(v js.Value, what string) wire.RawJSON {
	raw, err := jsonOf(v, what)
	if err != nil {
		var we *wire.Error
		if errors.As(err, &we) {
			panic(badArgument{msg: we.Message})
		}
		panic(badArgument{msg: err.Error()})
	}
	return raw
}

// decodeAttributes is decodeJSON for new attributes: undefined replaces them with {}.
func decodeAttributes(v js.Value, what string) wire.RawJSON {
	if raw := decodeJSON(v, what); raw != nil {
		return raw
	}
	return wire.RawJSON("{}")
}

func decodeOptions(v js.Value, what string) options {
	if absent(v) {
		return options{v: js.Undefined(), what: what}
	}
	if !isObject(v) || isArray(v) {
		panic(refuse("%s must be an object, got %s", what, describe(v)))
	}
	return options{v: v, what: what}
}

func decodeStringList(v js.Value, what string) []string {
	if !isArray(v) {
		panic(refuse("%s must be an array of strings, got %s", what, describe(v)))
	}
	out := make([]string, v.Length())
	for i := range out {
		out[i] = decodeString(v.Index(i), fmt.Sprintf("%s[%d]", what, i))
	}
	return out
}

func decodeMediaSids(v js.Value, what string) []string {
	if !isArray(v) {
		panic(refuse("%s must be an array of Media objects or media sids, got %s", what, describe(v)))
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
		panic(refuse("%s[%d] must be a Media object or a media sid, got %s", what, i, describe(e)))
	}
	return sids
}

// decodeMedia checks the shape of a media argument; its content is read when it is sent
// (see mediaUpload), because reading a Blob is asynchronous.
func decodeMedia(v js.Value, what string) js.Value {
	if !isMediaArg(v) {
		panic(refuse("%s must be FormData, a Blob or File, or {contentType, filename, media}, got %s", what, describe(v)))
	}
	return v
}

func decodeFunction(v js.Value, what string) js.Value {
	if v.Type() != js.TypeFunction {
		panic(refuse("%s must be a function, got %s", what, describe(v)))
	}
	return v
}

// absent reports whether an optional argument was left out: undefined or null.
func absent(v js.Value) bool { return v.IsUndefined() || v.IsNull() }

// isObject reports whether v is a non-null object.
func isObject(v js.Value) bool { return v.Type() == js.TypeObject }

func isArray(v js.Value) bool { return jsArray.Call("isArray", v).Bool() }

// isMediaArg tells media arguments (FormData, Blob/File, {contentType, media}) from text.
func isMediaArg(v js.Value) bool {
	return instanceOf(v, "FormData") || instanceOf(v, "Blob") || (isObject(v) && !v.Get("media").IsUndefined())
}

func instanceOf(v js.Value, ctorName string) bool {
	ctor := js.Global().Get(ctorName)
	return isObject(v) && ctor.Type() == js.TypeFunction && v.InstanceOf(ctor)
}

// describe names a refused argument in a message: a number or a short string by its value,
// an object by its constructor, anything else by its type.
func describe(v js.Value) string {
	switch v.Type() {
	case js.TypeNumber:
		return "number " + strconv.FormatFloat(v.Float(), 'g', -1, 64)
	case js.TypeString:
		s := v.String()
		if n := utf8.RuneCountInString(s); n > 40 {
			return "a string of " + strconv.Itoa(n) + " characters"
		}
		return "string " + strconv.Quote(s)
	case js.TypeObject:
		if isArray(v) {
			return "Array"
		}
		if c := v.Get("constructor"); c.Type() == js.TypeFunction {
			if n := c.Get("name"); n.Type() == js.TypeString && n.String() != "" {
				return n.String()
			}
		}
		return "object"
	}
	return v.Type().String()
}

// arg returns args[i], or undefined when absent.
func arg(args []js.Value, i int) js.Value {
	if i < len(args) {
		return args[i]
	}
	return js.Undefined()
}
