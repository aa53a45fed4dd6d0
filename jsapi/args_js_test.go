//go:build js && wasm

package jsapi

import (
	"syscall/js"
	"testing"

	"github.com/stretchr/testify/assert"
)

// refusal runs a decoder and returns the message it refused with, or "" when it accepted.
func refusal(decode func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = r.(badArgument).msg
		}
	}()
	decode()
	return ""
}

func TestIndexDecodersAcceptOnlyNonNegativeIntegers(t *testing.T) {
	for _, bad := range []any{1.5, -3, js.Global().Get("NaN"), "2", js.Null()} {
		v := js.ValueOf(bad)
		assert.Contains(t, refusal(func() { decodeIndex(v, "index") }), "index must be a non-negative integer, got", bad)
		if !v.IsNull() {
			assert.Contains(t, refusal(func() { decodeOptionalIndex(v, "anchor") }), "anchor must be a non-negative integer or null, got", bad)
		}
	}
	assert.Equal(t, int64(7), decodeIndex(js.ValueOf(7), "index"))
	assert.Nil(t, decodeOptionalIndex(js.Undefined(), "anchor"))
	assert.Equal(t, "index must be a non-negative integer, got number 1.5", refusal(func() { decodeIndex(js.ValueOf(1.5), "index") }))
}

func TestPageSizeAndDirectionDecoders(t *testing.T) {
	assert.Equal(t, 0, decodePageSize(js.Undefined(), "pageSize"))
	assert.Equal(t, 20, decodePageSize(js.ValueOf(20), "pageSize"))
	for _, bad := range []any{0, 1.5, -1, 101, "20"} {
		assert.Contains(t, refusal(func() { decodePageSize(js.ValueOf(bad), "pageSize") }), "pageSize must be an integer from 1 to 100", bad)
	}
	assert.Equal(t, "backwards", string(decodeDirection(js.Null(), "direction")))
	assert.Equal(t, `direction must be "backwards" or "forward", got string "up"`, refusal(func() { decodeDirection(js.ValueOf("up"), "direction") }))
}

func TestOptionsFieldsDecodeByTheSameRules(t *testing.T) {
	o := decodeOptions(js.ValueOf(map[string]any{"friendlyName": 5, "pageSize": 2.5}), "options")
	assert.Equal(t, "options.friendlyName must be a string or null, got number 5", refusal(func() { o.optionalString("friendlyName") }))
	assert.Contains(t, refusal(func() { o.pageSize("pageSize") }), "options.pageSize must be an integer from 1 to 100")
	assert.Equal(t, "options must be an object, got number 42", refusal(func() { decodeOptions(js.ValueOf(42), "options") }))
	s, ok := decodeOptions(js.Undefined(), "options").optionalString("friendlyName")
	assert.Equal(t, "", s)
	assert.False(t, ok)
}

func TestARefusedArgumentThrowsATypeErrorOrRejectsWithTheSameCode(t *testing.T) {
	r := eval(t, `
		const v = new api.ContentTemplateVariable("1", "a");
		try { v.copyWithValue(5); return "no throw"; } catch (e) { return [e.constructor.name, e.code, e.message].join("|"); }`)
	assert.Equal(t, "TypeError|60003|ContentTemplateVariable.copyWithValue: value must be a string or null, got number 5", r.String())

	var err error
	func() {
		defer recoverArgument("Conversation.getMessages", &err)
		decodeIndex(js.ValueOf(-3), "anchor")
	}()
	e := errorValue(err)
	assert.Equal(t, 60003, e.Get("code").Int())
	assert.Equal(t, "Conversation.getMessages: anchor must be a non-negative integer, got number -3", e.Get("message").String())
}
