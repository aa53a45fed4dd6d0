//go:build js && wasm

package jsapi

import (
	"context"
	"sync"

	"github.com/convo-sdk/convo/core"
)

// jsUnsent is the Go object behind an UnsentMessage. Its core message is made on the first
// send and reused, so a retried send is the same message.
type jsUnsent struct {
	b    jsBuilder
	mu   sync.Mutex
	core *core.UnsentMessage
}

func newUnsentMessageClass() *class {
	c := newClass("UnsentMessage", nil)
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
	c.async("send", func(s any, a *args) (any, error) { return u(s).send(a.ctx) }).cancellable()
	return c
}

// send converts the media (once) and sends; it returns the message's index.
func (u *jsUnsent) send(ctx context.Context) (any, error) {
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
}
