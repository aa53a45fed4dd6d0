//go:build js && wasm

package jsapi

import (
	"fmt"
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
	attrs   wire.RawJSON
	media   []pendingMedia
	content string
	vars    []core.ContentVariable
}

type pendingMedia struct {
	category    string
	contentType string // for email parts: the declared type
	value       js.Value
}

// copied is a copy of the builder that later changes to it leave alone.
func (b *jsBuilder) copied() jsBuilder {
	c := *b
	c.media = append([]pendingMedia(nil), b.media...)
	return c
}

func newMessageBuilderClass() *class {
	c := newClass("MessageBuilder", nil)
	b := func(self any) *jsBuilder { return self.(*jsBuilder) }
	// Each setter returns the builder, for chaining.
	setter := func(name string, set func(b *jsBuilder, a *args)) {
		c.method(name, func(self any, a *args) any {
			set(b(self), a)
			return reg.jsOf(self)
		})
	}
	setter("setBody", func(b *jsBuilder, a *args) {
		s := a.string(0, "text")
		b.body = &s
	})
	setter("setSubject", func(b *jsBuilder, a *args) {
		s := a.string(0, "subject")
		b.subject = &s
	})
	setter("setAttributes", func(b *jsBuilder, a *args) { b.attrs = a.json(0, "attributes") })
	emailPart := func(category string) func(*jsBuilder, *args) {
		return func(b *jsBuilder, a *args) {
			ct := a.string(0, "contentType")
			b.media = append(b.media, pendingMedia{category: category, contentType: ct, value: a.media(1, "emailPart")})
		}
	}
	setter("setEmailBody", emailPart(wire.MediaCategoryBody))
	setter("setEmailHistory", emailPart(wire.MediaCategoryHistory))
	setter("addMedia", func(b *jsBuilder, a *args) {
		b.media = append(b.media, pendingMedia{category: wire.MediaCategoryMedia, value: a.media(0, "mediaContent")})
	})
	setter("setContentTemplate", func(b *jsBuilder, a *args) {
		sid := a.string(0, "contentSid")
		var vars []core.ContentVariable
		if v := a.at(1); !absent(v) {
			if !isArray(v) {
				panic(refuse("contentVariables must be an array of ContentTemplateVariable, got %s", describe(v)))
			}
			for i := 0; i < v.Length(); i++ {
				e := v.Index(i)
				if !isObject(e) {
					panic(refuse("contentVariables[%d] must be a ContentTemplateVariable, got %s", i, describe(e)))
				}
				what := fmt.Sprintf("contentVariables[%d]", i)
				value, _ := decodeOptionalString(e.Get("value"), what+".value")
				vars = append(vars, core.ContentVariable{Name: decodeString(e.Get("name"), what+".name"), Value: value})
			}
		}
		b.content, b.vars = sid, vars
	})
	c.method("build", func(self any, _ *args) any {
		return reg.wrap(&jsUnsent{b: b(self).copied()}, classes.unsentMessage)
	})
	c.async("buildAndSend", func(s any, a *args) (any, error) {
		return (&jsUnsent{b: b(s).copied()}).send(a.ctx)
	}).cancellable()
	return c
}
