//go:build js && wasm

package jsapi

import (
	"syscall/js"

	"github.com/convo-sdk/convo/core"
)

func newContentTemplateClass() *class {
	return newRecordClass("ContentTemplate", "sid", "friendlyName", "variables", "variants", "dateCreated", "dateUpdated")
}

func contentTemplateValue(t core.ContentTemplate) js.Value {
	return record(classes.contentTemplate, map[string]any{
		"sid": t.Sid, "friendlyName": t.FriendlyName, "variables": jsList(t.Variables, contentVariableValue),
		"variants": jsMapFrom(t.Variants), "dateCreated": dateValue(t.DateCreated), "dateUpdated": dateValue(t.DateUpdated),
	})
}

// newContentVariableClass builds ContentTemplateVariable, the one record class apps
// construct themselves: new ContentTemplateVariable(name, value).
func newContentVariableClass() *class {
	c := newConstructibleClass("ContentTemplateVariable", "name, value", func(this js.Value, a *args) {
		setRecord(this, map[string]any{"name": a.string(0, "name"), "value": optionalValue(a.at(1))})
	}).recordFields("name", "value")
	c.function("copyWithValue", func(this js.Value, a *args) any {
		return c.ctor.New(this.Get("name"), optionalValue(a.at(0)))
	})
	return c
}

// optionalValue decodes the value argument of ContentTemplateVariable: a string, or null.
func optionalValue(v js.Value) any {
	if v, ok := decodeOptionalString(v, "value"); ok {
		return v
	}
	return js.Null()
}

// contentVariableValue makes a ContentTemplateVariable.
func contentVariableValue(v core.ContentVariable) any {
	return classes.contentVariable.ctor.New(v.Name, v.Value)
}
