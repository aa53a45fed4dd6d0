//go:build js && wasm

package jsapi

import (
	"fmt"
	"strings"
	"sync"
	"syscall/js"
)

// handleKey is the non-enumerable property that links a JS object to its Go object.
const handleKey = "__convoHandle"

var (
	jsObject  = js.Global().Get("Object")
	jsPromise = js.Global().Get("Promise")
	jsError   = js.Global().Get("Error")
	jsDate    = js.Global().Get("Date")
	jsJSON    = js.Global().Get("JSON")
	console   = js.Global().Get("console")
)

// registry maps JS objects to Go objects and back, so one Go object is always the same JS
// object (apps compare them with ===).
//
// Objects of a weak class (class.weak) are held by JS only through a WeakRef: a wrapper no JS
// code holds can be collected, and a FinalizationRegistry then tells Go (release) to drop its
// entry, which frees the Go object unless core still holds it. Until then the same Go object
// keeps returning the same wrapper. Other objects are held for the life of the page.
type registry struct {
	mu      sync.Mutex
	next    int
	byID    map[int]any // a live wrapper's Go object, so methods find it
	objects map[any]wrapped

	// last is the weak wrapper returned most recently, held strongly: the emits of one
	// event (conversation, then client) hand out the same wrapper without a JS call.
	lastGo any
	lastJS js.Value
}

// wrapped is the registry's entry for one Go object: obj for a strong one, or the id its
// wrapper carries for a weak one (obj is then undefined: holding it would pin it).
type wrapped struct {
	id   int
	obj  js.Value
	weak bool
}

var reg = &registry{byID: make(map[int]any), objects: make(map[any]wrapped)}

// wrap returns the JS object for goObj, creating it from class the first time (or again,
// after a weak wrapper was collected).
func (r *registry) wrap(goObj any, c *class) js.Value {
	r.mu.Lock()
	defer r.mu.Unlock()
	if obj, ok := r.liveLocked(goObj); ok {
		return obj
	}
	r.next++
	id := r.next
	r.byID[id] = goObj
	var obj js.Value
	switch {
	case c.weak:
		args := []any{c.proto, id}
		if c.values != nil {
			args = append(append(args, c.fieldNames), c.values(goObj)...)
		}
		obj = jsHelpers.Call("makeWeak", args...)
		r.objects[goObj] = wrapped{id: id, weak: true}
		r.lastGo, r.lastJS = goObj, obj
	case c.values == nil:
		obj = jsHelpers.Call("make", c.proto, id)
	default:
		// One call builds the object with its plain fields, so reading them stays in JS.
		obj = jsHelpers.Call("make", append([]any{c.proto, id, c.fieldNames}, c.values(goObj)...)...)
	}
	if !c.weak {
		r.objects[goObj] = wrapped{id: id, obj: obj}
	}
	return obj
}

// liveLocked returns goObj's JS object if it has one that is alive. r.mu must be held.
func (r *registry) liveLocked(goObj any) (js.Value, bool) {
	w, ok := r.objects[goObj]
	switch {
	case !ok:
		return js.Undefined(), false
	case !w.weak:
		return w.obj, true
	case r.lastGo == goObj:
		return r.lastJS, true
	}
	obj := jsHelpers.Call("deref", w.id)
	if obj.IsUndefined() {
		// Collected; its release is still to come and will find a newer id here.
		delete(r.byID, w.id)
		delete(r.objects, goObj)
		return obj, false
	}
	r.lastGo, r.lastJS = goObj, obj
	return obj, true
}

// release drops the entries of collected weak wrappers (ids from the FinalizationRegistry).
func (r *registry) release(ids js.Value) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, n := 0, ids.Length(); i < n; i++ {
		id := ids.Index(i).Int()
		goObj, ok := r.byID[id]
		if !ok {
			continue
		}
		delete(r.byID, id)
		if w, ok := r.objects[goObj]; ok && w.id == id {
			delete(r.objects, goObj)
		}
	}
}

// refresh copies goObj's plain fields to its JS object again, if it has one, after they
// changed.
func (r *registry) refresh(goObj any, c *class) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c.values == nil {
		return
	}
	if obj, ok := r.liveLocked(goObj); ok {
		jsHelpers.Call("refresh", append([]any{obj, c.fieldNames}, c.values(goObj)...)...)
	}
}

// attach links an existing JS object (the `this` of a constructor call) to goObj.
func (r *registry) attach(obj js.Value, goObj any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.attachLocked(obj, goObj)
}

func (r *registry) attachLocked(obj js.Value, goObj any) {
	r.next++
	id := r.next
	r.byID[id] = goObj
	r.objects[goObj] = wrapped{id: id, obj: obj}
	jsHelpers.Call("attach", obj, id)
}

// jsOf returns the JS object of a Go object already wrapped or attached.
func (r *registry) jsOf(goObj any) js.Value {
	r.mu.Lock()
	defer r.mu.Unlock()
	obj, _ := r.liveLocked(goObj)
	return obj
}

// lookup returns the Go object behind a JS object.
func (r *registry) lookup(obj js.Value) (any, bool) {
	if obj.Type() != js.TypeObject {
		return nil, false
	}
	h := obj.Get(handleKey)
	if h.Type() != js.TypeNumber {
		return nil, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	v, ok := r.byID[h.Int()]
	return v, ok
}

// class is a JS class built from Go: a constructor function and its prototype.
type class struct {
	name  string
	ctor  js.Value
	proto js.Value
	funcs []js.Func // kept alive for the life of the program

	// Plain fields (see fields): their names (a JS array) and their values, in that order.
	fieldNames js.Value
	values     func(self any) []any

	// weak: the registry holds this class's objects weakly (see registry); for objects
	// there may be many of that JS can drop, such as messages and pages.
	weak bool

	// Methods and getters wait here to be defined on the prototype in one call (define).
	pendingNames []string
	pendingKinds []byte // 'm' a method, 'g' a getter
	pendingFns   []any  // js.Value of each js.Func
}

// newClass creates a class. construct runs for `new Name(...)`; nil makes the constructor
// refuse, for classes only the SDK creates. parent, if set, becomes the prototype's parent.
func newClass(name string, construct func(this js.Value, args []js.Value) any, parent *class) *class {
	c := &class{name: name}
	allClasses = append(allClasses, c)
	if construct == nil {
		construct = func(js.Value, []js.Value) any {
			panic(typeError("%s objects are created by the SDK, not with new", name))
		}
	}
	fn := js.FuncOf(guardSync(name, construct))
	c.funcs = append(c.funcs, fn)
	c.ctor = rethrowing(fn)
	jsObject.Call("defineProperty", c.ctor, "name", map[string]any{"value": name})
	c.proto = c.ctor.Get("prototype")
	if parent != nil {
		jsObject.Call("setPrototypeOf", c.proto, parent.proto)
		jsObject.Call("setPrototypeOf", c.ctor, parent.ctor)
	}
	return c
}

// method adds a prototype method. fn receives the Go object behind `this`.
func (c *class) method(name string, fn func(self any, args []js.Value) any) {
	c.add(name, 'm', func(this js.Value, args []js.Value) any {
		self, ok := reg.lookup(this)
		if !ok {
			panic(typeError("%s.%s called on an object that is not a %s", c.name, name, c.name))
		}
		return fn(self, args)
	})
}

// getter adds a read-only property computed from the Go object on every read.
func (c *class) getter(name string, fn func(self any) any) {
	c.add(name, 'g', func(this js.Value, _ []js.Value) any {
		self, ok := reg.lookup(this)
		if !ok {
			return js.Undefined()
		}
		return fn(self)
	})
}

func (c *class) add(name string, kind byte, fn func(this js.Value, args []js.Value) any) {
	f := js.FuncOf(guardSync(c.name+"."+name, fn))
	c.funcs = append(c.funcs, f)
	c.pendingNames = append(c.pendingNames, name)
	c.pendingKinds = append(c.pendingKinds, kind)
	c.pendingFns = append(c.pendingFns, f.Value)
	if classesDefined {
		c.define() // a class made after Install: at once
	}
}

var (
	allClasses     []*class // every class made, for defineClasses
	classesDefined bool     // defineClasses ran: methods and getters are defined as they come
)

// defineClasses defines the pending methods and getters of every class made so far.
func defineClasses() {
	for _, c := range allClasses {
		c.define()
	}
	classesDefined = true
}

// define puts the pending methods and getters on the prototype. One JS call for them all:
// defining each from Go took a handful of calls across the boundary (the descriptor object,
// its properties, the rethrowing wrapper, defineProperty), about 2,000 when the SDK starts.
func (c *class) define() {
	if len(c.pendingNames) == 0 {
		return
	}
	ensureRethrower()
	jsHelpers.Call("define", c.proto, strings.Join(c.pendingNames, ","), string(c.pendingKinds), c.pendingFns, rethrower)
	c.pendingNames, c.pendingKinds, c.pendingFns = nil, nil, nil
}

// fields adds read-only properties whose values values(self) computes, in the order of
// names, when the JS object is created and again on registry.refresh. Their getters run in JS
// (a call into Go per read costs more than the read itself on a hot listener path), so refresh
// must follow every change. Names ending in "Date" or starting with "date" hold Unix
// milliseconds (or null) and read as a fresh Date each time, as the Go getters did.
func (c *class) fields(names []string, values func(self any) []any) {
	arr := make([]any, len(names))
	for i, n := range names {
		arr[i] = n
		kind := "value"
		if strings.HasPrefix(n, "date") {
			kind = "date"
		}
		jsObject.Call("defineProperty", c.proto, n, map[string]any{"get": jsHelpers.Call("getter", n, kind), "configurable": true, "enumerable": true})
	}
	c.fieldNames = js.ValueOf(arr)
	c.values = values
}

// static adds a property of the constructor.
func (c *class) static(name string, v any) {
	c.ctor.Set(name, v)
}

// staticMethod adds a function property of the constructor.
func (c *class) staticMethod(name string, fn func(args []js.Value) any) {
	f := js.FuncOf(guardSync(c.name+"."+name, func(_ js.Value, args []js.Value) any { return fn(args) }))
	c.funcs = append(c.funcs, f)
	c.ctor.Set(name, rethrowing(f))
}

// thrown is a panic value that guardSync turns into an exception for the caller.
type thrown struct{ err js.Value }

func typeError(format string, args ...any) thrown {
	return thrown{err: js.Global().Get("TypeError").New(fmt.Sprintf(format, args...))}
}

// guardSync keeps a Go panic from killing the wasm instance: a thrown value, or any other
// panic, is reported to the caller as an Error (see throwing in the loader) and logged.
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

// jsHelpers are the JS halves of object creation and plain fields (see class.fields).
var jsHelpers = js.Global().Get("Function").New(`
const handle = "` + handleKey + `", data = "__convoFields";
// Weak wrappers by id; the ids of collected ones go to Go in one call per batch.
const refs = new Map();
let release = null, dead = [];
const flush = () => { const ids = dead; dead = []; if (release !== null) release(ids); };
const collected = new FinalizationRegistry((id) => {
	refs.delete(id);
	if (dead.push(id) === 1) setTimeout(flush, 0);
});
const record = (names, values) => {
	const f = {};
	for (let i = 0; i < names.length; i++) f[names[i]] = values[i];
	return f;
};
return {
	make(proto, id, names, ...values) {
		const o = Object.create(proto);
		Object.defineProperty(o, handle, { value: id });
		if (names !== undefined) Object.defineProperty(o, data, { value: record(names, values), writable: true });
		return o;
	},
	makeWeak(proto, id, names, ...values) {
		const o = this.make(proto, id, names, ...values);
		refs.set(id, new WeakRef(o));
		collected.register(o, id);
		return o;
	},
	deref(id) { const r = refs.get(id); return r === undefined ? undefined : r.deref(); },
	onRelease(fn) { release = fn; },
	attach(o, id) { Object.defineProperty(o, handle, { value: id }); },
	refresh(o, names, ...values) { Object.defineProperty(o, data, { value: record(names, values) }); },
	define(proto, names, kinds, fns, rethrow) {
		names = names.split(",");
		for (let i = 0; i < names.length; i++) {
			Object.defineProperty(proto, names[i], kinds[i] === "m"
				? { value: rethrow(fns[i]), writable: true, configurable: true }
				: { get: fns[i], configurable: true, enumerable: true });
		}
	},
	getter(name, kind) {
		const get = kind === "date"
			? { [name]() { const f = this[data]; if (f === undefined) return undefined; const t = f[name]; return t === null ? null : new Date(t); } }
			: { [name]() { const f = this[data]; return f === undefined ? undefined : f[name]; } };
		return Object.getOwnPropertyDescriptor(get, name).value;
	},
};`).Invoke()

// The FinalizationRegistry hands the ids of collected weak wrappers to reg.release. The
// function lives as long as the page.
func init() {
	jsHelpers.Call("onRelease", js.FuncOf(func(_ js.Value, args []js.Value) any {
		reg.release(args[0])
		return nil
	}))
}

// rethrower wraps a Go function in a plain JS function that throws the error carried by a
// throw marker. The loader supplies it (see Install); without one it is built here.
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

// throwMarker tags a return value that the loader's wrapper rethrows as an exception:
// Go cannot throw into JS itself.
const throwMarker = "__convoThrow"

func throwValue(where string, r any) js.Value {
	var err js.Value
	switch v := r.(type) {
	case thrown:
		err = v.err
	case error:
		err = errorValue(v)
	default:
		err = jsError.New(fmt.Sprintf("convo: internal error in %s: %v", where, v))
		err.Set("code", 50000)
	}
	marker := jsObject.New()
	marker.Set(throwMarker, err)
	return marker
}
