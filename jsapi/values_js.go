//go:build js && wasm

package jsapi

import (
	"context"
	"encoding/json"
	"syscall/js"

	"github.com/convo-sdk/convo/core"
	"github.com/convo-sdk/convo/wire"
)

// Value classes: immutable records the SDK hands out. Their instances are plain objects with
// the class's prototype (so instanceof holds) and their fields as read-only properties.
var values struct {
	aggregatedReceipt, detailedReceipt, contentTemplate, contentVariable, pushNotification,
	channelMetadata, emailRecipient, unknownRecipient, notificationTypes, restPaginator,
	cancellable *class
}

// newValueClass makes a class whose fields are read-only getters on the prototype, reading
// the record the instance was made with.
func newValueClass(name string, fields ...string) *class {
	c := newClass(name, nil, nil)
	for _, f := range fields {
		f := f
		g := js.FuncOf(func(this js.Value, _ []js.Value) any {
			if v := this.Get(valueKey); isObject(v) {
				return v.Get(f)
			}
			return js.Undefined()
		})
		c.funcs = append(c.funcs, g)
		jsObject.Call("defineProperty", c.proto, f, map[string]any{"get": g.Value, "enumerable": true, "configurable": true})
	}
	return c
}

// valueKey holds a value object's record.
const valueKey = "__convoValue"

func newValueClasses() {
	values.aggregatedReceipt = newValueClass("AggregatedDeliveryReceipt", "total", "sent", "delivered", "read", "undelivered", "failed")
	values.detailedReceipt = newValueClass("DetailedDeliveryReceipt", "sid", "messageSid", "conversationSid",
		"channelMessageSid", "participantSid", "status", "errorCode", "dateCreated", "dateUpdated")
	values.contentTemplate = newValueClass("ContentTemplate", "sid", "friendlyName", "variables", "variants", "dateCreated", "dateUpdated")
	values.pushNotification = newValueClass("PushNotification", "title", "body", "sound", "badge", "action", "type", "data")
	values.channelMetadata = newValueClass("ChannelMetadata", "type", "data")
	values.emailRecipient = newValueClass("EmailRecipientDescriptor", "type", "messageSid", "level", "name", "address")
	values.unknownRecipient = newValueClass("UnknownRecipientDescriptor", "type", "messageSid", "rawData")
	values.restPaginator = newValueClass("RestPaginator", "items", "hasNextPage", "hasPrevPage")
	// Nothing in convo's API returns a RestPaginator (paginators are Paginator); the class is
	// exported for instanceof checks and its paging methods reject clearly.
	for _, name := range []string{"nextPage", "prevPage"} {
		name := name
		f := js.FuncOf(func(js.Value, []js.Value) any {
			return rejected(argError("RestPaginator.%s: there is no such page", name))
		})
		values.restPaginator.funcs = append(values.restPaginator.funcs, f)
		jsObject.Call("defineProperty", values.restPaginator.proto, name, map[string]any{"value": f.Value, "writable": true, "configurable": true})
	}

	values.notificationTypes = newClass("NotificationTypes", nil, nil)
	for name, v := range map[string]string{
		"TYPING_INDICATOR": wire.PushTypingIndicator, "NEW_MESSAGE": wire.PushNewMessage,
		"ADDED_TO_CONVERSATION": wire.PushAddedToConversation, "REMOVED_FROM_CONVERSATION": wire.PushRemovedFromConversation,
		"CONSUMPTION_UPDATE": wire.PushConsumptionUpdate,
	} {
		values.notificationTypes.static(name, v)
	}

	// ContentTemplateVariable is the one value class apps construct themselves.
	values.contentVariable = newClass("ContentTemplateVariable", func(this js.Value, args []js.Value) any {
		name := arg(args, 0)
		if name.Type() != js.TypeString {
			panic(typeError("new ContentTemplateVariable(name, value): name must be a string, got %s", name.Type()))
		}
		value := arg(args, 1)
		if !value.IsUndefined() && value.Type() != js.TypeString {
			panic(typeError("new ContentTemplateVariable(name, value): value must be a string, got %s", value.Type()))
		}
		setFields(this, map[string]any{"name": name, "value": orNull(value)})
		return nil
	}, nil)
	for _, f := range []string{"name", "value"} {
		f := f
		g := js.FuncOf(func(this js.Value, _ []js.Value) any { return this.Get(valueKey).Get(f) })
		values.contentVariable.funcs = append(values.contentVariable.funcs, g)
		jsObject.Call("defineProperty", values.contentVariable.proto, f, map[string]any{"get": g.Value, "enumerable": true, "configurable": true})
	}
	copyFn := js.FuncOf(guardSync("ContentTemplateVariable.copyWithValue", func(this js.Value, args []js.Value) any {
		return values.contentVariable.ctor.New(this.Get("name"), arg(args, 0))
	}))
	values.contentVariable.funcs = append(values.contentVariable.funcs, copyFn)
	jsObject.Call("defineProperty", values.contentVariable.proto, "copyWithValue",
		map[string]any{"value": rethrowing(copyFn), "writable": true, "configurable": true})

	values.cancellable = newCancellableClass()
}

// contentVariableValue makes a ContentTemplateVariable.
func contentVariableValue(v wire.ContentVariable) any {
	return values.contentVariable.ctor.New(v.Name, v.Value)
}

// valueObject makes an instance of a value class with the given fields.
func valueObject(c *class, fields map[string]any) js.Value {
	obj := jsObject.Call("create", c.proto)
	setFields(obj, fields)
	return obj
}

// setFields stores an instance's record where its class's getters read it.
func setFields(obj js.Value, fields map[string]any) {
	jsObject.Call("defineProperty", obj, valueKey, map[string]any{"value": jsObject.Call("freeze", js.ValueOf(fields))})
}

func orNull(v js.Value) any {
	if v.IsUndefined() {
		return js.Null()
	}
	return v
}

func aggregatedReceiptValue(r *wire.AggregatedReceipt) any {
	if r == nil {
		return js.Null()
	}
	return valueObject(values.aggregatedReceipt, map[string]any{
		"total": r.Total, "sent": r.Sent, "delivered": r.Delivered, "read": r.Read,
		"undelivered": r.Undelivered, "failed": r.Failed,
	})
}

func detailedReceiptValue(r wire.DetailedReceipt) js.Value {
	return valueObject(values.detailedReceipt, map[string]any{
		"sid": r.Sid, "messageSid": r.MessageSid, "conversationSid": r.ConversationSid,
		"channelMessageSid": r.ChannelMessageSid, "participantSid": r.ParticipantSid, "status": r.Status,
		"errorCode": r.ErrorCode, "dateCreated": dateValue(r.DateCreated), "dateUpdated": dateValue(r.DateUpdated),
	})
}

func contentTemplateValue(t wire.ContentTemplate) js.Value {
	vars := jsList(t.Variables, contentVariableValue)
	variants := jsMapFrom(t.Variants)
	return valueObject(values.contentTemplate, map[string]any{
		"sid": t.Sid, "friendlyName": t.FriendlyName, "variables": vars, "variants": variants,
		"dateCreated": dateValue(t.DateCreated), "dateUpdated": dateValue(t.DateUpdated),
	})
}

// jsMapFrom turns a JSON object into a JS Map of its entries.
func jsMapFrom(raw json.RawMessage) js.Value {
	m := js.Global().Get("Map").New()
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) == nil {
		for k, v := range obj {
			m.Call("set", k, jsonValue(v))
		}
	}
	return m
}

func pushNotificationValue(n core.PushNotification) js.Value {
	badge := any(js.Null())
	if n.Badge != nil {
		badge = *n.Badge
	}
	data := map[string]any{}
	if n.Data.ConversationSid != "" {
		data["conversationSid"] = n.Data.ConversationSid
	}
	if n.Data.ConversationTitle != "" {
		data["conversationTitle"] = n.Data.ConversationTitle
	}
	if n.Data.MessageSid != "" {
		data["messageSid"] = n.Data.MessageSid
	}
	if n.Data.MessageIndex != nil {
		data["messageIndex"] = *n.Data.MessageIndex
	}
	if n.Data.MediaCount > 0 {
		data["mediaCount"] = n.Data.MediaCount
	}
	return valueObject(values.pushNotification, map[string]any{
		"title": optString(n.Title), "body": optString(n.Body), "sound": optString(n.Sound), "badge": badge,
		"action": optString(n.Action), "type": n.Type, "data": data,
	})
}

func channelMetadataValue(m *wire.ChannelMetadata) any {
	if m == nil {
		return js.Null()
	}
	return valueObject(values.channelMetadata, map[string]any{"type": m.Type, "data": jsonValue(m.Data)})
}

func recipientValue(r wire.Recipient) js.Value {
	if r.Type == "email" {
		return valueObject(values.emailRecipient, map[string]any{
			"type": r.Type, "messageSid": r.MessageSid, "level": r.Level, "name": r.Name, "address": r.Address,
		})
	}
	return valueObject(values.unknownRecipient, map[string]any{"type": r.Type, "messageSid": r.MessageSid, "rawData": jsonValue(r.RawData)})
}

// newCancellableClass builds CancellablePromise: a Promise subclass with cancel(). It is made
// from functions (not class syntax) so no JS source has to be evaluated: the constructor
// returns a real Promise re-prototyped to this class, and .then() on it makes more of them
// through Promise's species lookup, as with a subclass.
func newCancellableClass() *class {
	c := &class{name: "CancellablePromise"}
	var proto js.Value
	ctor := js.FuncOf(guardSync("CancellablePromise", func(this js.Value, args []js.Value) any {
		executor := arg(args, 0)
		if executor.Type() != js.TypeFunction {
			panic(typeError("CancellablePromise needs an executor function"))
		}
		p := jsPromise.New(executor)
		jsObject.Call("setPrototypeOf", p, proto)
		if onCancel := arg(args, 1); onCancel.Type() == js.TypeFunction {
			p.Set("__convoCancel", onCancel)
		}
		return p
	}))
	c.funcs = append(c.funcs, ctor)
	c.ctor = rethrowing(ctor)
	jsObject.Call("defineProperty", c.ctor, "name", map[string]any{"value": "CancellablePromise"})
	proto = jsObject.Call("create", jsPromise.Get("prototype"))
	jsObject.Call("defineProperty", proto, "constructor", map[string]any{"value": c.ctor, "writable": true, "configurable": true})
	c.ctor.Set("prototype", proto)
	jsObject.Call("setPrototypeOf", c.ctor, jsPromise)
	c.proto = proto
	cancel := js.FuncOf(func(this js.Value, _ []js.Value) any {
		if fn := this.Get("__convoCancel"); fn.Type() == js.TypeFunction {
			fn.Invoke()
		}
		return nil
	})
	c.funcs = append(c.funcs, cancel)
	jsObject.Call("defineProperty", proto, "cancel", map[string]any{"value": cancel.Value, "writable": true, "configurable": true})
	return c
}

// cancellable runs fn like promise does, as a CancellablePromise whose cancel() cancels the
// context fn receives; the promise then rejects with a coded Error.
func cancellable(fn func(ctx context.Context) (any, error)) js.Value {
	ctx, cancel := context.WithCancel(context.Background())
	onCancel := js.FuncOf(func(js.Value, []js.Value) any { cancel(); return nil })
	executor := js.FuncOf(func(_ js.Value, args []js.Value) any {
		resolve, reject := args[0], args[1]
		go func() {
			defer onCancel.Release()
			defer cancel()
			v, err := fn(ctx)
			if ctx.Err() == context.Canceled && err != nil {
				err = wire.Errorf(core.CodeClientTimeout, "cancelled")
			}
			if err != nil {
				reject.Invoke(errorValue(err))
				return
			}
			resolve.Invoke(v)
		}()
		return nil
	})
	defer executor.Release()
	return values.cancellable.ctor.New(executor, onCancel)
}

// jsURLMap turns sid → URL into a JS Map.
func jsURLMap(urls map[string]string) js.Value {
	m := js.Global().Get("Map").New()
	for k, v := range urls {
		m.Call("set", k, v)
	}
	return m
}
