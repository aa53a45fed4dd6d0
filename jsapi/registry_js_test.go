//go:build js && wasm

package jsapi

import (
	"fmt"
	"runtime"
	"syscall/js"
	"testing"
	"weak"

	"github.com/stretchr/testify/require"
)

// weakTestClass is a weak class with one plain field, like Message.
var weakTestClass = func() *class {
	c := newClass("WeakTest", nil)
	c.weak = true
	c.fields([]string{"n"}, func(self any) []any {
		if n, ok := self.(*int); ok {
			return []any{*n}
		}
		return []any{-1}
	})
	return c
}()

// displaceLast makes the next wrap of any other object go through the JS WeakRef.
func displaceLast() { reg.wrap(new(int), weakTestClass) }

func TestWeakWrapperKeepsItsIdentityWhileReferenced(t *testing.T) {
	g := new(int)
	*g = 7
	w1 := reg.wrap(g, weakTestClass)
	js.Global().Set("__held", w1) // JS holds it
	defer js.Global().Delete("__held")
	displaceLast()
	w2 := reg.wrap(g, weakTestClass)
	require.True(t, w1.Equal(w2), "the same Go object must give the same wrapper while JS holds it")
	require.True(t, js.Global().Get("__held").Equal(w2))
	require.Equal(t, 7, w2.Get("n").Int())
	back, ok := reg.lookup(w2)
	require.True(t, ok)
	require.Same(t, g, back)
}

func TestCollectedWeakWrapperReleasesItsGoObject(t *testing.T) {
	g := new(int)
	w := reg.wrap(g, weakTestClass)
	id := w.Get(handleKey).Int()
	displaceLast()
	// What the FinalizationRegistry reports once the wrapper is collected.
	reg.release(js.ValueOf([]any{id}))
	reg.mu.Lock()
	byID := reg.byID[id]
	_, byObj := reg.objects[g]
	reg.mu.Unlock()
	require.Nil(t, byID)
	require.False(t, byObj)
	_, ok := reg.lookup(w)
	require.False(t, ok, "a released id no longer finds the Go object")

	wp := weak.Make(g)
	g = nil
	runtime.GC()
	runtime.GC()
	require.Nil(t, wp.Value(), "the registry must not keep a released Go object alive")
}

func TestWeakWrapperCollectedBeforeItsReleaseIsRecreated(t *testing.T) {
	g := new(int)
	old := reg.wrap(g, weakTestClass)
	oldID := old.Get(handleKey).Int()
	displaceLast()
	// The WeakRef is empty but the FinalizationRegistry has not reported yet.
	deref := jsHelpers.Get("deref")
	empty := js.FuncOf(func(js.Value, []js.Value) any { return js.Undefined() })
	defer empty.Release()
	jsHelpers.Set("deref", empty.Value)
	w := reg.wrap(g, weakTestClass)
	jsHelpers.Set("deref", deref)
	require.False(t, w.Equal(old))
	back, ok := reg.lookup(w)
	require.True(t, ok)
	require.Same(t, g, back)

	// The late release of the old id must leave the new wrapper's entry alone.
	reg.release(js.ValueOf([]any{oldID}))
	displaceLast()
	require.True(t, reg.wrap(g, weakTestClass).Equal(w))
	back, ok = reg.lookup(w)
	require.True(t, ok)
	require.Same(t, g, back)
}

// A released id is reused, and the Go object with a binding slot keeps its wrapper's id in
// the slot rather than in the registry's map.
func TestReleasedIDsAreReusedAndSlottedObjectsUseNoMapEntry(t *testing.T) {
	g := &slottedObj{}
	w := reg.wrap(g, weakTestClass)
	id := int32(w.Get(handleKey).Int())
	require.Equal(t, id, g.id, "the wrapper's id is in the object's slot")
	reg.mu.Lock()
	_, inMap := reg.objects[any(g)]
	reg.mu.Unlock()
	require.False(t, inMap)
	displaceLast()
	require.True(t, reg.wrap(g, weakTestClass).Equal(w), "the slot finds the same wrapper")

	reg.release(js.ValueOf([]any{int(id)}))
	require.Zero(t, g.id, "release clears the slot")
	_, ok := reg.lookup(w)
	require.False(t, ok)
	other := new(int)
	ow := reg.wrap(other, weakTestClass)
	require.Equal(t, int(id), ow.Get(handleKey).Int(), "the released id is reused")
	back, ok := reg.lookup(ow)
	require.True(t, ok)
	require.Same(t, other, back)
}

type slottedObj struct{ id int32 }

func (s *slottedObj) BindingID() *int32 { return &s.id }

// Strings many messages repeat cross into JS once; an empty one is null.
func TestSharedStringsAreMadeOnce(t *testing.T) {
	a, b := sharedString("alice").(js.Value), sharedString("alice").(js.Value)
	if a.String() != "alice" || !a.Equal(b) {
		t.Fatalf("got %v and %v", a, b)
	}
	if !js.Global().Get("Object").Call("is", a, b).Bool() {
		t.Fatal("not the same JS value")
	}
	if v := sharedString("").(js.Value); !v.IsNull() {
		t.Fatalf("empty: got %v, want null", v)
	}
	for i := range maxSharedStrings + 10 { // past the bound the cache starts over
		if got := sharedString(fmt.Sprint("id", i)).(js.Value).String(); got != fmt.Sprint("id", i) {
			t.Fatalf("got %q", got)
		}
	}
	if got := sharedString("alice").(js.Value).String(); got != "alice" {
		t.Fatalf("after the bound: got %q", got)
	}
}
