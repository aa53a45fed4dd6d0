//go:build js && wasm

package jsapi

import (
	"context"
	"encoding/json"
	"sync"
	"syscall/js"

	"github.com/convo-sdk/convo/core"
	"github.com/convo-sdk/convo/wire"
)

// jsBuilder is the Go object behind a MessageBuilder. Media arguments stay JS values until
// sending, because reading a Blob is asynchronous.
type jsBuilder struct {
	conv    *core.Conversation
	body    *string
	subject *string
	attrs   json.RawMessage
	media   []pendingMedia
	content string
	vars    []wire.ContentVariable
}

type pendingMedia struct {
	category    string
	contentType string // for email parts: the declared type
	value       js.Value
}

// jsUnsent is the Go object behind an UnsentMessage. Its core message is made on the first
// send and reused, so a retried send is the same message.
type jsUnsent struct {
	b    jsBuilder
	mu   sync.Mutex
	core *core.UnsentMessage
}

func newBuilderValue(conv *core.Conversation) js.Value {
	return reg.wrap(&jsBuilder{conv: conv}, classes.builder)
}

func newBuilderClass() *class {
	c := newClass("MessageBuilder", nil, nil)
	b := func(self any) *jsBuilder { return self.(*jsBuilder) }
	ret := func(self any) any { return reg.jsOf(self) }
	c.method("setBody", func(self any, args []js.Value) any {
		s, err := stringArg(args, 0, "text")
		if err != nil {
			panic(err)
		}
		b(self).body = &s
		return ret(self)
	})
	c.method("setSubject", func(self any, args []js.Value) any {
		s, err := stringArg(args, 0, "subject")
		if err != nil {
			panic(err)
		}
		b(self).subject = &s
		return ret(self)
	})
	c.method("setAttributes", func(self any, args []js.Value) any {
		attrs, err := jsonOf(arg(args, 0), "attributes")
		if err != nil {
			panic(err)
		}
		b(self).attrs = attrs
		return ret(self)
	})
	emailPart := func(category string) func(any, []js.Value) any {
		return func(self any, args []js.Value) any {
			ct, err := stringArg(args, 0, "contentType")
			if err != nil {
				panic(err)
			}
			if !isMediaArg(arg(args, 1)) {
				panic(argError("the email part must be FormData or {contentType, filename, media}, got %s", describe(arg(args, 1))))
			}
			b(self).media = append(b(self).media, pendingMedia{category: category, contentType: ct, value: arg(args, 1)})
			return ret(self)
		}
	}
	c.method("setEmailBody", emailPart(wire.MediaCategoryBody))
	c.method("setEmailHistory", emailPart(wire.MediaCategoryHistory))
	c.method("addMedia", func(self any, args []js.Value) any {
		if !isMediaArg(arg(args, 0)) {
			panic(argError("addMedia needs FormData, a Blob or File, or {contentType, filename, media}, got %s", describe(arg(args, 0))))
		}
		b(self).media = append(b(self).media, pendingMedia{category: wire.MediaCategoryMedia, value: arg(args, 0)})
		return ret(self)
	})
	c.method("setContentTemplate", func(self any, args []js.Value) any {
		sid, err := stringArg(args, 0, "contentSid")
		if err != nil {
			panic(err)
		}
		var vars []wire.ContentVariable
		if v := arg(args, 1); !v.IsUndefined() && !v.IsNull() {
			if !js.Global().Get("Array").Call("isArray", v).Bool() {
				panic(argError("contentVariables must be an array of ContentTemplateVariable, got %s", describe(v)))
			}
			for i := 0; i < v.Length(); i++ {
				e := v.Index(i)
				if !isObject(e) || e.Get("name").Type() != js.TypeString {
					panic(argError("contentVariables[%d] must be a ContentTemplateVariable", i))
				}
				value := ""
				if e.Get("value").Type() == js.TypeString {
					value = e.Get("value").String()
				}
				vars = append(vars, wire.ContentVariable{Name: e.Get("name").String(), Value: value})
			}
		}
		b(self).content, b(self).vars = sid, vars
		return ret(self)
	})
	c.method("build", func(self any, _ []js.Value) any {
		copied := *b(self)
		copied.media = append([]pendingMedia(nil), copied.media...)
		return reg.wrap(&jsUnsent{b: copied}, classes.unsent)
	})
	c.method("buildAndSend", func(self any, _ []js.Value) any {
		copied := *b(self)
		return (&jsUnsent{b: copied}).send()
	})
	return c
}

func newUnsentClass() *class {
	c := newClass("UnsentMessage", nil, nil)
	u := func(self any) *jsUnsent { return self.(*jsUnsent) }
	c.getter("text", func(self any) any { return stringPtr(u(self).b.body) })
	c.getter("attributes", func(self any) any { return jsonValue(u(self).b.attrs) })
	c.getter("mediaContent", func(self any) any {
		return jsList(u(self).b.media, func(m pendingMedia) any { return []any{m.category, m.value} })
	})
	c.getter("emailOptions", func(self any) any {
		if s := u(self).b.subject; s != nil {
			return map[string]any{"subject": *s}
		}
		return map[string]any{}
	})
	c.getter("contentSid", func(self any) any { return optString(u(self).b.content) })
	c.getter("contentVariables", func(self any) any {
		return jsList(u(self).b.vars, contentVariableValue)
	})
	c.method("send", func(self any, _ []js.Value) any { return u(self).send() })
	return c
}

// send converts the media (once) and sends; the CancellablePromise resolves to the index.
func (u *jsUnsent) send() js.Value {
	return cancellable(func(ctx context.Context) (any, error) {
		u.mu.Lock()
		if u.core == nil {
			builder := u.b.conv.PrepareMessage()
			if u.b.body != nil {
				builder.SetBody(*u.b.body)
			}
			if u.b.subject != nil {
				builder.SetSubject(*u.b.subject)
			}
			builder.SetAttributes(u.b.attrs).SetContentTemplate(u.b.content, u.b.vars)
			for _, m := range u.b.media {
				up, err := mediaUpload(m.value, m.category)
				if err != nil {
					u.mu.Unlock()
					return nil, err
				}
				if m.contentType != "" {
					up.ContentType = m.contentType
				}
				builder.AddMedia(up)
			}
			u.core = builder.Build()
		}
		msg := u.core
		u.mu.Unlock()
		return msg.Send(ctx, nil)
	})
}
