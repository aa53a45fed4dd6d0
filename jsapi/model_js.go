//go:build js && wasm

package jsapi

import (
	"syscall/js"

	"github.com/convo-sdk/convo/core"
	"github.com/convo-sdk/convo/wire"
)

func newConversationClass(parent *class) *class {
	c := newClass("Conversation", nil, parent)
	cv := func(self any) *core.Conversation { return self.(*core.Conversation) }
	c.getter("sid", func(self any) any { return cv(self).Sid() })
	c.getter("friendlyName", func(self any) any { return optString(cv(self).FriendlyName()) })
	c.getter("uniqueName", func(self any) any { return optString(cv(self).UniqueName()) })
	c.getter("createdBy", func(self any) any { return cv(self).CreatedBy() })
	c.getter("dateCreated", func(self any) any { return dateValue(cv(self).DateCreated()) })
	c.getter("dateUpdated", func(self any) any { return dateValue(cv(self).DateUpdated()) })
	c.getter("attributes", func(self any) any { return jsonValue(cv(self).AttributesJSON()) })
	c.getter("status", func(self any) any { return cv(self).Status() })
	c.getter("lastReadMessageIndex", func(any) any { return js.Null() })
	c.getter("lastMessage", func(self any) any {
		lm := cv(self).LastMessage()
		if lm == nil {
			return js.Undefined()
		}
		return map[string]any{"index": lm.Index, "dateCreated": dateValue(lm.DateCreated)}
	})
	for name, value := range map[string]string{
		"messageAdded": core.ConversationEventMessageAdded, "participantJoined": core.ConversationEventParticipantJoined,
	} {
		c.static(name, value)
	}

	c.method("join", func(self any, _ []js.Value) any {
		return promise(func() (any, error) {
			if err := cv(self).Join(background); err != nil {
				return nil, err
			}
			return toJS(cv(self)), nil
		})
	})
	c.method("add", func(self any, args []js.Value) any {
		identity, err := stringArg(args, 0, "identity")
		if err != nil {
			return rejected(err)
		}
		attrs, err := jsonOf(arg(args, 1), "attributes")
		if err != nil {
			return rejected(err)
		}
		return promise(func() (any, error) { return nil, cv(self).Add(background, identity, attrs) })
	})
	c.method("getParticipants", func(self any, _ []js.Value) any {
		return promise(func() (any, error) {
			ps, err := cv(self).GetParticipants(background)
			if err != nil {
				return nil, err
			}
			return jsList(ps, toJSOf[*core.Participant]), nil
		})
	})
	c.method("sendMessage", func(self any, args []js.Value) any {
		msg := arg(args, 0)
		attrs, err := jsonOf(arg(args, 1), "messageAttributes")
		if err != nil {
			return rejected(err)
		}
		var subject *string
		if o := arg(args, 2); isObject(o) && o.Get("subject").Type() == js.TypeString {
			s := o.Get("subject").String()
			subject = &s
		}
		b := jsBuilder{conv: cv(self), attrs: attrs, subject: subject}
		switch {
		case msg.Type() == js.TypeString:
			text := msg.String()
			b.body = &text
		case msg.IsNull():
		case isMediaArg(msg):
			b.media = []pendingMedia{{category: wire.MediaCategoryMedia, value: msg}}
		default:
			return rejected(argError("sendMessage: message must be a string, FormData, a Blob or {contentType, filename, media}, got %s", describe(msg)))
		}
		return (&jsUnsent{b: b}).send()
	})
	c.method("getMessages", func(self any, args []js.Value) any {
		pageSize := 0
		if v := arg(args, 0); v.Type() == js.TypeNumber {
			pageSize = v.Int()
		} else if !v.IsUndefined() && !v.IsNull() {
			return rejected(argError("getMessages: pageSize must be a number, got %s", v.Type()))
		}
		var anchor *int64
		if v := arg(args, 1); v.Type() == js.TypeNumber {
			a := int64(v.Int())
			anchor = &a
		} else if !v.IsUndefined() && !v.IsNull() {
			return rejected(argError("getMessages: anchor must be a number, got %s", v.Type()))
		}
		direction := wire.Backwards
		if v := arg(args, 2); v.Type() == js.TypeString {
			direction = v.String()
		} else if !v.IsUndefined() && !v.IsNull() {
			return rejected(argError("getMessages: direction must be \"backwards\" or \"forward\", got %s", v.Type()))
		}
		return promise(func() (any, error) {
			p, err := cv(self).GetMessages(background, pageSize, anchor, direction)
			if err != nil {
				return nil, err
			}
			return paginatorValue(p), nil
		})
	})
	extendConversationClass(c)
	return c
}

func newMessageClass(parent *class) *class {
	c := newClass("Message", nil, parent)
	c.weak = true // core's cache bound frees a message only once its wrapper is collected
	m := func(self any) *core.Message { return self.(*core.Message) }
	// The fields a messageAdded listener reads are copied to the JS object (see class.fields);
	// the hook set in constructClient refreshes them whenever the message changes.
	c.fields([]string{"sid", "index", "author", "body", "participantSid", "dateCreated", "dateUpdated"}, func(self any) []any {
		d := m(self).Data()
		return []any{m(self).Sid(), d.Index, sharedString(d.Author), stringPtr(d.Body), sharedString(d.ParticipantSid), dateMillis(d.DateCreated), dateMillis(d.DateUpdated)}
	})
	c.getter("attributes", func(self any) any { return jsonValue(m(self).AttributesJSON()) })
	c.getter("type", func(self any) any { return m(self).Type() })
	c.getter("conversation", func(self any) any { return toJS(m(self).Conversation()) })
	extendMessageClass(c)
	return c
}

func newParticipantClass(parent *class) *class {
	c := newClass("Participant", nil, parent)
	p := func(self any) *core.Participant { return self.(*core.Participant) }
	c.getter("sid", func(self any) any { return p(self).Sid() })
	c.getter("identity", func(self any) any { return optString(p(self).Identity()) })
	c.getter("type", func(self any) any { return p(self).Type() })
	c.getter("attributes", func(self any) any { return jsonValue(p(self).AttributesJSON()) })
	c.getter("dateCreated", func(self any) any { return dateValue(p(self).DateCreated()) })
	c.getter("dateUpdated", func(self any) any { return dateValue(p(self).DateUpdated()) })
	c.getter("conversation", func(self any) any { return toJS(p(self).Conversation()) })
	extendParticipantClass(c)
	return c
}

func newUserClass(parent *class) *class {
	c := newClass("User", nil, parent)
	u := func(self any) *core.User { return self.(*core.User) }
	c.getter("identity", func(self any) any { return u(self).Identity() })
	c.getter("friendlyName", func(self any) any { return optString(u(self).FriendlyName()) })
	c.getter("attributes", func(self any) any { return jsonValue(u(self).AttributesJSON()) })
	extendUserClass(c)
	return c
}
