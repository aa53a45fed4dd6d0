//go:build js && wasm

package jsapi

import (
	"errors"
	"fmt"
	"syscall/js"

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

// connectionErrorValue shapes an error as the vendor's ConnectionError: an Error with
// terminal, message and errorCode.
func connectionErrorValue(terminal bool, err error) js.Value {
	e := errorValue(err)
	e.Set("terminal", terminal)
	e.Set("errorCode", e.Get("code"))
	return e
}

// thrown is a panic value that guardSync turns into an exception for the caller.
type thrown struct{ err js.Value }

// typeError is a TypeError to throw for a misuse that is not an argument's fault (a method
// called on the wrong object, new on a class only the SDK creates).
func typeError(format string, args ...any) thrown {
	return thrown{err: js.Global().Get("TypeError").New(fmt.Sprintf(format, args...))}
}

// guardSync keeps a Go panic from killing the wasm instance: a thrown value, a refused
// argument, an error or any other panic becomes an exception for the caller (see rethrowing).
func guardSync(where string, fn func(this js.Value, args []js.Value) any) func(js.Value, []js.Value) any {
	return func(this js.Value, args []js.Value) (result any) {
		defer func() {
			if r := recover(); r != nil {
				result = throwValue(where, r)
			}
		}()
		return fn(this, args)
	}
}

// recoverArgument, deferred by the work of a Promise method, turns a refused argument into
// the error the Promise rejects with. Other panics go on (see promise).
func recoverArgument(where string, err *error) {
	if r := recover(); r != nil {
		bad, ok := r.(badArgument)
		if !ok {
			panic(r)
		}
		*err = argError("%s: %s", where, bad.msg)
	}
}

// rethrower wraps a Go function in a plain JS function that throws the error carried by a
// throw marker: Go cannot throw into JS itself. The loader supplies it (see Install); without
// one it is built here.
var rethrower js.Value

const rethrowerSource = `return function (fn) {
	return function (...args) {
		const r = fn.apply(this, args);
		if (r !== null && typeof r === "object" && Object.prototype.hasOwnProperty.call(r, "__convoThrow")) throw r.__convoThrow;
		return r;
	};
}`

func rethrowing(f js.Func) js.Value {
	ensureRethrower()
	return rethrower.Invoke(f.Value)
}

func ensureRethrower() {
	if rethrower.IsUndefined() {
		rethrower = js.Global().Get("Function").New(rethrowerSource).Invoke()
	}
}

// throwMarker tags a return value that the rethrowing wrapper throws as an exception.
const throwMarker = "__convoThrow"

// throwValue is the throw marker for a panic in where: a refused argument throws a TypeError
// with code CodeClientArgument, an error its coded Error, anything else an internal error.
func throwValue(where string, r any) js.Value {
	var err js.Value
	switch v := r.(type) {
	case thrown:
		err = v.err
	case badArgument:
		err = argTypeError(where + ": " + v.msg)
	case error:
		err = errorValue(v)
	default:
		err = jsError.New(fmt.Sprintf("convo: internal error in %s: %v", where, v))
		err.Set("code", int(wire.CodeInternal))
	}
	marker := jsObject.New()
	marker.Set(throwMarker, err)
	return marker
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
