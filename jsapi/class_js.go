//go:build js && wasm

package jsapi

import (
	"context"
	"strings"
	"syscall/js"
)

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

// newClass creates a class whose objects only the SDK creates: `new Name()` throws. parent,
// if set, becomes the prototype's parent.
func newClass(name string, parent *class) *class {
	return newClassWith(name, "", nil, parent)
}

// newConstructibleClass creates a class that apps construct: construct runs for
// `new Name(...)` with the new object as this; params names its parameters in argument
// errors ("new Name(params): ...").
func newConstructibleClass(name, params string, construct func(this js.Value, a *args)) *class {
	return newClassWith(name, params, construct, nil)
}

func newClassWith(name, params string, construct func(this js.Value, a *args), parent *class) *class {
	c := &class{name: name}
	allClasses = append(allClasses, c)
	ctor := func(this js.Value, list []js.Value) any {
		if construct == nil {
			panic(typeError("%s objects are created by the SDK, not with new", name))
		}
		construct(this, newArgs(background, list))
		return nil
	}
	fn := js.FuncOf(guardSync("new "+name+"("+params+")", ctor))
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

// method adds a synchronous prototype method. fn receives the Go object behind `this` and
// the arguments; a refused argument throws a TypeError.
func (c *class) method(name string, fn func(self any, a *args) any) {
	c.add(name, 'm', func(this js.Value, list []js.Value) any {
		return fn(c.self(name, this), newArgs(background, list))
	})
}

// async adds a prototype method that returns a Promise. fn runs on a goroutine of its own (a
// js.Func callback must never block the event loop), reads its arguments and does the work;
// the Promise resolves with its result or rejects with its error as a coded Error, a refused
// argument included. Chained .cancellable() makes the Promise a CancellablePromise.
func (c *class) async(name string, fn func(self any, a *args) (any, error)) *asyncMethod {
	m := &asyncMethod{}
	where := c.name + "." + name
	c.add(name, 'm', func(this js.Value, list []js.Value) any {
		self := c.self(name, this)
		run := func(ctx context.Context) (v any, err error) {
			defer recoverArgument(where, &err)
			return fn(self, newArgs(ctx, list))
		}
		if m.isCancellable {
			return cancellable(run)
		}
		return promise(run)
	})
	return m
}

// asyncSelf is async for a method that resolves with the object itself, as the vendor's
// update methods do.
func (c *class) asyncSelf(name string, fn func(self any, a *args) error) *asyncMethod {
	return c.async(name, func(self any, a *args) (any, error) {
		if err := fn(self, a); err != nil {
			return nil, err
		}
		return toJS(self), nil
	})
}

// asyncMethod is a method added by class.async.
type asyncMethod struct{ isCancellable bool }

// cancellable makes the method return a CancellablePromise whose cancel() cancels the
// context of its work (args.ctx), where the vendor's method returns one.
func (m *asyncMethod) cancellable() { m.isCancellable = true }

// self returns the Go object behind this, the receiver of method name.
func (c *class) self(name string, this js.Value) any {
	self, ok := reg.lookup(this)
	if !ok {
		panic(typeError("%s.%s called on an object that is not a %s", c.name, name, c.name))
	}
	return self
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

// function adds a prototype method that works on this as a JS value, for classes whose
// objects have no Go object (record classes).
func (c *class) function(name string, fn func(this js.Value, a *args) any) {
	c.add(name, 'm', func(this js.Value, list []js.Value) any { return fn(this, newArgs(background, list)) })
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
// must follow every change. Names starting with "date" hold Unix milliseconds (or null) and
// read as a fresh Date each time.
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

// statics adds constructor properties whose value is their name: the event names.
func (c *class) statics(names ...string) {
	for _, n := range names {
		c.ctor.Set(n, n)
	}
}

// staticMethod adds a synchronous function property of the constructor.
func (c *class) staticMethod(name string, fn func(a *args) any) {
	f := js.FuncOf(guardSync(c.name+"."+name, func(_ js.Value, list []js.Value) any { return fn(newArgs(background, list)) }))
	c.funcs = append(c.funcs, f)
	c.ctor.Set(name, rethrowing(f))
}

// Record classes: immutable values the SDK hands out (receipts, templates, descriptors, ...).
// Their instances are plain objects with the class's prototype (so instanceof holds) and
// their fields as read-only properties reading the frozen record the instance was made with.

// recordKey holds a record object's fields.
const recordKey = "__convoValue"

// newRecordClass makes a record class whose objects only the SDK creates.
func newRecordClass(name string, fieldNames ...string) *class {
	return newClass(name, nil).recordFields(fieldNames...)
}

// recordFields adds a getter per field name, reading the instance's record.
func (c *class) recordFields(names ...string) *class {
	for _, f := range names {
		g := js.FuncOf(func(this js.Value, _ []js.Value) any {
			if v := this.Get(recordKey); isObject(v) {
				return v.Get(f)
			}
			return js.Undefined()
		})
		c.funcs = append(c.funcs, g)
		jsObject.Call("defineProperty", c.proto, f, map[string]any{"get": g.Value, "enumerable": true, "configurable": true})
	}
	return c
}

// record makes an instance of a record class with the given fields.
func record(c *class, fields map[string]any) js.Value {
	obj := jsObject.Call("create", c.proto)
	setRecord(obj, fields)
	return obj
}

// setRecord stores an instance's fields where its class's getters read them.
func setRecord(obj js.Value, fields map[string]any) {
	jsObject.Call("defineProperty", obj, recordKey, map[string]any{"value": jsObject.Call("freeze", js.ValueOf(fields))})
}
