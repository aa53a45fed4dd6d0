//go:build js && wasm

package jsapi

import (
	"syscall/js"

	"github.com/convo-sdk/convo/core"
)

func newParticipantClass(parent *class) *class {
	c := newClass("Participant", parent)
	p := func(self any) *core.Participant { return self.(*core.Participant) }
	c.statics(core.ParticipantEventTypingStarted.Name(), core.ParticipantEventTypingEnded.Name(), core.ParticipantEventUpdated.Name())
	c.getter("sid", func(self any) any { return p(self).Sid() })
	c.getter("identity", func(self any) any { return optString(p(self).Identity()) })
	c.getter("type", func(self any) any { return p(self).Type() })
	c.getter("attributes", func(self any) any { return jsonValue(p(self).AttributesJSON()) })
	c.getter("dateCreated", func(self any) any { return dateValue(p(self).DateCreated()) })
	c.getter("dateUpdated", func(self any) any { return dateValue(p(self).DateUpdated()) })
	c.getter("conversation", func(self any) any { return toJS(p(self).Conversation()) })
	c.getter("lastReadMessageIndex", func(self any) any { return indexValue(p(self).LastReadMessageIndex()) })
	c.getter("lastReadTimestamp", func(self any) any {
		if t := p(self).LastReadTimestamp(); t != nil {
			return dateValue(*t)
		}
		return js.Null()
	})
	c.getter("roleSid", func(self any) any { return p(self).RoleSid() })
	c.getter("bindings", func(self any) any { return jsonValue(p(self).BindingsJSON()) })
	c.getter("isTyping", func(self any) any { return p(self).IsTyping() })

	c.async("getUser", func(s any, a *args) (any, error) {
		u, err := p(s).GetUser(a.ctx)
		return toJS(u), err
	})
	c.async("remove", func(s any, a *args) (any, error) { return nil, p(s).Remove(a.ctx) })
	c.asyncSelf("updateAttributes", func(s any, a *args) error {
		return p(s).UpdateAttributes(a.ctx, a.attributes(0))
	})
	return c
}
