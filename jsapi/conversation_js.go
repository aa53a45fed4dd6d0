//go:build js && wasm

package jsapi

import (
	"syscall/js"

	"github.com/convo-sdk/convo/core"
	"github.com/convo-sdk/convo/wire"
)

func newConversationClass(parent *class) *class {
	c := newClass("Conversation", parent)
	cv := func(self any) *core.Conversation { return self.(*core.Conversation) }
	c.statics(core.ConversationEventMessageAdded.Name(), core.ConversationEventParticipantJoined.Name(),
		core.ConversationEventParticipantLeft.Name(), core.ConversationEventParticipantUpdated.Name(),
		core.ConversationEventMessageRemoved.Name(), core.ConversationEventMessageUpdated.Name(),
		core.ConversationEventTypingStarted.Name(), core.ConversationEventTypingEnded.Name(),
		core.ConversationEventUpdated.Name(), core.ConversationEventRemoved.Name())

	c.getter("sid", func(self any) any { return cv(self).Sid() })
	c.getter("friendlyName", func(self any) any { return optString(cv(self).FriendlyName()) })
	c.getter("uniqueName", func(self any) any { return optString(cv(self).UniqueName()) })
	c.getter("createdBy", func(self any) any { return cv(self).CreatedBy() })
	c.getter("dateCreated", func(self any) any { return dateValue(cv(self).DateCreated()) })
	c.getter("dateUpdated", func(self any) any { return dateValue(cv(self).DateUpdated()) })
	c.getter("attributes", func(self any) any { return jsonValue(cv(self).AttributesJSON()) })
	c.getter("status", func(self any) any { return cv(self).Status() })
	c.getter("lastMessage", func(self any) any {
		lm := cv(self).LastMessage()
		if lm == nil {
			return js.Undefined()
		}
		return map[string]any{"index": lm.Index, "dateCreated": dateValue(lm.DateCreated)}
	})
	c.getter("state", func(self any) any {
		s := cv(self).State()
		return map[string]any{"current": s.Current, "dateUpdated": dateValue(s.DateUpdated)}
	})
	c.getter("notificationLevel", func(self any) any { return cv(self).NotificationLevel() })
	c.getter("lastReadMessageIndex", func(self any) any { return indexValue(cv(self).LastReadMessageIndex()) })
	c.getter("bindings", func(self any) any { return jsonValue(cv(self).BindingsJSON()) })
	c.getter("limits", func(self any) any {
		l := cv(self).Limits()
		return map[string]any{
			"mediaAttachmentsCountLimit": l.MediaAttachmentsCountLimit, "mediaAttachmentSizeLimitInMb": l.MediaAttachmentSizeLimitInMb,
			"mediaAttachmentsTotalSizeLimitInMb": l.MediaAttachmentsTotalSizeLimitInMb,
			"emailHistoriesAllowedContentTypes":  stringsAny(l.EmailHistoriesAllowedContentTypes),
			"emailBodiesAllowedContentTypes":     stringsAny(l.EmailBodiesAllowedContentTypes),
		}
	})

	// Membership.
	c.asyncSelf("join", func(s any, a *args) error { return cv(s).Join(a.ctx) })
	c.asyncSelf("leave", func(s any, a *args) error { return cv(s).Leave(a.ctx) })
	c.asyncSelf("delete", func(s any, a *args) error { return cv(s).Delete(a.ctx) })
	c.async("add", func(s any, a *args) (any, error) {
		return nil, cv(s).Add(a.ctx, a.string(0, "identity"), a.json(1, "attributes"))
	})
	c.async("addNonChatParticipant", func(s any, a *args) (any, error) {
		return nil, cv(s).AddNonChatParticipant(a.ctx, a.string(0, "proxyAddress"), a.string(1, "address"),
			a.json(2, "attributes"), a.json(3, "bindingOptions"))
	})
	c.async("removeParticipant", func(s any, a *args) (any, error) {
		v := a.at(0)
		target := ""
		if v.Type() == js.TypeString {
			target = v.String()
		} else if p, ok := reg.lookup(v); ok {
			if part, ok := p.(*core.Participant); ok {
				target = part.Sid()
			}
		}
		if target == "" {
			panic(refuse("participant must be an identity, a participant sid or a Participant, got %s", describe(v)))
		}
		return nil, cv(s).RemoveParticipant(a.ctx, target)
	})
	c.async("getParticipants", func(s any, a *args) (any, error) {
		ps, err := cv(s).GetParticipants(a.ctx)
		if err != nil {
			return nil, err
		}
		return jsList(ps, toJSOf[*core.Participant]), nil
	})
	c.async("getParticipantBySid", func(s any, a *args) (any, error) {
		return participantOrNull(cv(s).GetParticipantBySid(a.ctx, a.string(0, "participantSid")))
	})
	c.async("getParticipantByIdentity", func(s any, a *args) (any, error) {
		return participantOrNull(cv(s).GetParticipantByIdentity(a.ctx, a.string(0, "identity")))
	})
	c.async("getParticipantsCount", func(s any, a *args) (any, error) { return cv(s).GetParticipantsCount(a.ctx) })

	// The conversation's own fields.
	c.async("getAttributes", func(s any, _ *args) (any, error) { return jsonValue(cv(s).AttributesJSON()), nil })
	c.asyncSelf("updateAttributes", func(s any, a *args) error {
		return cv(s).Update(a.ctx, core.UpdateConversationOptions{Attributes: a.attributes(0)})
	})
	c.asyncSelf("updateFriendlyName", func(s any, a *args) error {
		name := a.string(0, "friendlyName")
		return cv(s).Update(a.ctx, core.UpdateConversationOptions{FriendlyName: &name})
	})
	c.asyncSelf("updateUniqueName", func(s any, a *args) error {
		name, _ := a.optionalString(0, "uniqueName") // null removes it
		return cv(s).Update(a.ctx, core.UpdateConversationOptions{UniqueName: &name})
	})
	c.async("setUserNotificationLevel", func(s any, a *args) (any, error) {
		return nil, cv(s).SetUserNotificationLevel(a.ctx, a.string(0, "notificationLevel"))
	})

	// Messages.
	c.async("sendMessage", func(s any, a *args) (any, error) {
		b := jsBuilder{conv: cv(s), attrs: a.json(1, "messageAttributes")}
		if subject, ok := a.options(2, "emailOptions").optionalString("subject"); ok {
			b.subject = &subject
		}
		switch msg := a.at(0); {
		case msg.Type() == js.TypeString:
			text := msg.String()
			b.body = &text
		case msg.IsNull():
		case isMediaArg(msg):
			b.media = []pendingMedia{{category: wire.MediaCategoryMedia, value: msg}}
		default:
			panic(refuse("message must be a string, null, FormData, a Blob or {contentType, filename, media}, got %s", describe(msg)))
		}
		return (&jsUnsent{b: b}).send(a.ctx)
	}).cancellable()
	c.method("prepareMessage", func(s any, _ *args) any { return reg.wrap(&jsBuilder{conv: cv(s)}, classes.messageBuilder) })
	c.async("getMessages", func(s any, a *args) (any, error) {
		p, err := cv(s).GetMessages(a.ctx, a.pageSize(0, "pageSize"), a.optionalIndex(1, "anchor"), a.direction(2, "direction"))
		if err != nil {
			return nil, err
		}
		return paginatorValue(p), nil
	})
	c.async("getMessagesCount", func(s any, a *args) (any, error) { return cv(s).GetMessagesCount(a.ctx) })
	c.async("getMessageRecipients", func(s any, a *args) (any, error) {
		pageSize := a.options(0, "options").pageSize("pageSize")
		if pageSize == 0 {
			pageSize = wire.DefaultMessagePageSize
		}
		return recipientsPage(a, cv(s), pageSize, nil)
	})
	c.async("typing", func(s any, a *args) (any, error) { return nil, cv(s).Typing(a.ctx) })

	// The read horizon: each call resolves with the unread count.
	c.async("advanceLastReadMessageIndex", func(s any, a *args) (any, error) {
		index := a.index(0, "index")
		return cv(s).SetReadHorizon(a.ctx, core.ReadAdvance, &index)
	})
	c.async("updateLastReadMessageIndex", func(s any, a *args) (any, error) {
		if index := a.optionalIndex(0, "index"); index != nil {
			return cv(s).SetReadHorizon(a.ctx, core.ReadSet, index)
		}
		return cv(s).SetReadHorizon(a.ctx, core.ReadNone, nil)
	})
	c.async("setAllMessagesRead", func(s any, a *args) (any, error) {
		return cv(s).SetReadHorizon(a.ctx, core.ReadAll, nil)
	})
	c.async("setAllMessagesUnread", func(s any, a *args) (any, error) {
		return cv(s).SetReadHorizon(a.ctx, core.ReadNone, nil)
	})
	c.async("getUnreadMessagesCount", func(s any, a *args) (any, error) {
		n, err := cv(s).GetUnreadMessagesCount(a.ctx)
		if err != nil {
			return nil, err
		}
		return indexValue(n), nil
	})
	return c
}

// recipientsPage lists the recipients of a page of messages, newest page first.
func recipientsPage(a *args, conv *core.Conversation, pageSize int, anchor *int64) (any, error) {
	page, err := conv.GetMessages(a.ctx, pageSize, anchor, core.Backwards)
	if err != nil {
		return nil, err
	}
	var items []any
	for _, m := range page.Items {
		rs, err := m.GetMessageRecipients(a.ctx)
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			items = append(items, recipientValue(r))
		}
	}
	var prev func(*args) (js.Value, error)
	if page.HasPrevPage && len(page.Items) > 0 {
		before := page.Items[0].Index() - 1
		prev = func(a *args) (js.Value, error) {
			v, err := recipientsPage(a, conv, pageSize, &before)
			if err != nil {
				return js.Undefined(), err
			}
			return v.(js.Value), nil
		}
	}
	return reg.wrap(&jsPaginator{items: func() []any { return items }, hasPrev: prev != nil, prev: prev,
		next: func(*args) (js.Value, error) { return js.Undefined(), argError("there is no next page") }}, classes.paginator), nil
}

// participantOrNull is a participant lookup's result: null when there is none.
func participantOrNull(p *core.Participant, err error) (any, error) {
	if wire.CodeOf(err) == wire.CodeNotFound {
		return js.Null(), nil
	}
	if err != nil {
		return nil, err
	}
	return toJS(p), nil
}
