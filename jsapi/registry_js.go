//go:build js && wasm

package jsapi

import (
	"sync"
	"syscall/js"
)

// handleKey is the non-enumerable property that links a JS object to its Go object.
const handleKey = "__convoHandle"

// registry maps JS objects to Go objects and back, so one Go object is always the same JS
// object (apps compare them with ===).
//
// Objects of a weak class (class.weak) are held by JS only through a WeakRef: a wrapper no JS
// code holds can be collected, and a FinalizationRegistry then tells Go (release) to drop its
// entry, which frees the Go object unless core still holds it. Until then the same Go object
// keeps returning the same wrapper. Other objects are held for the life of the page.
//
// A page that reads 100,000 messages makes as many wrappers, so an entry costs no map slot
// where it can: ids index a slice whose released slots are reused, and a Go object with a
// binding slot (core.Message) keeps its wrapper's id itself.
type registry struct {
	mu      sync.Mutex
	byID    []any   // by id, a live wrapper's Go object, so methods find it; byID[0] is unused
	free    []int32 // released ids, to reuse
	objects map[any]wrapped

	// last is the weak wrapper returned most recently, held strongly: the emits of one
	// event (conversation, then client) hand out the same wrapper without a JS call.
	lastGo any
	lastJS js.Value
}

// slotted is a Go object that keeps its weak wrapper's id (0 for none) instead of an entry
// in registry.objects; registry.mu guards the slot.
type slotted interface{ BindingID() *int32 }

// wrapped is the registry's entry for one Go object: obj for a strong one, or the id its
// wrapper carries for a weak one (obj is then undefined: holding it would pin it).
type wrapped struct {
	id   int32
	obj  js.Value
	weak bool
}

var reg = &registry{byID: make([]any, 1), objects: make(map[any]wrapped)}

// newIDLocked returns an id for goObj, a released one if there is one. r.mu must be held.
// An id is reused only after the FinalizationRegistry reported its wrapper collected, so no
// live JS object carries it.
func (r *registry) newIDLocked(goObj any) int32 {
	if n := len(r.free); n > 0 {
		id := r.free[n-1]
		r.free = r.free[:n-1]
		r.byID[id] = goObj
		return id
	}
	r.byID = append(r.byID, goObj)
	return int32(len(r.byID) - 1)
}

// wrap returns the JS object for goObj, creating it from class the first time (or again,
// after a weak wrapper was collected).
func (r *registry) wrap(goObj any, c *class) js.Value {
	r.mu.Lock()
	defer r.mu.Unlock()
	if obj, ok := r.liveLocked(goObj); ok {
		return obj
	}
	id := r.newIDLocked(goObj)
	var obj js.Value
	switch {
	case c.weak:
		args := []any{c.proto, id}
		if c.values != nil {
			args = append(append(args, c.fieldNames), c.values(goObj)...)
		}
		obj = jsHelpers.Call("makeWeak", args...)
		if s, ok := goObj.(slotted); ok {
			*s.BindingID() = id
		} else {
			r.objects[goObj] = wrapped{id: id, weak: true}
		}
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

// entryLocked returns goObj's entry, if it has one. r.mu must be held.
func (r *registry) entryLocked(goObj any) (wrapped, bool) {
	if s, ok := goObj.(slotted); ok {
		if id := *s.BindingID(); id != 0 {
			return wrapped{id: id, weak: true}, true
		}
	}
	w, ok := r.objects[goObj]
	return w, ok
}

// forgetLocked drops goObj's link to the wrapper id. r.mu must be held.
func (r *registry) forgetLocked(goObj any, id int32) {
	if s, ok := goObj.(slotted); ok {
		if p := s.BindingID(); *p == id {
			*p = 0
		}
	}
	if w, ok := r.objects[goObj]; ok && w.id == id {
		delete(r.objects, goObj)
	}
}

// liveLocked returns goObj's JS object if it has one that is alive. r.mu must be held.
func (r *registry) liveLocked(goObj any) (js.Value, bool) {
	w, ok := r.entryLocked(goObj)
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
		// Collected; its release is still to come and frees the id. The Go object is let go
		// now.
		r.byID[w.id] = nil
		r.forgetLocked(goObj, w.id)
		return obj, false
	}
	r.lastGo, r.lastJS = goObj, obj
	return obj, true
}

// release drops the entries of collected weak wrappers (ids from the FinalizationRegistry)
// and frees their ids.
func (r *registry) release(ids js.Value) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, n := 0, ids.Length(); i < n; i++ {
		id := int32(ids.Index(i).Int())
		if id <= 0 || int(id) >= len(r.byID) {
			continue
		}
		if goObj := r.byID[id]; goObj != nil {
			r.forgetLocked(goObj, id)
			r.byID[id] = nil
		}
		r.free = append(r.free, id)
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
	id := r.newIDLocked(goObj)
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
	if id := h.Int(); id > 0 && id < len(r.byID) && r.byID[id] != nil {
		return r.byID[id], true
	}
	return nil, false
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
