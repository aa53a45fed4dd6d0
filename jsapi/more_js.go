//go:build js && wasm

package jsapi

import (
	"context"
	"encoding/json"
	"syscall/js"
	"time"

	"github.com/convo-sdk/convo/core"
	"github.com/convo-sdk/convo/wire"
)

// async adds a method whose work (argument reading included) runs on a goroutine and whose
// result is a Promise.
func (c *class) async(name string, fn func(self any, args []js.Value) (any, error)) {
	c.method(name, func(self any, args []js.Value) any {
		return promise(func() (any, error) { return fn(self, args) })
	})
}

// asyncSelf adds a method that does fn's work on a goroutine and resolves to the object itself,
// as the vendor's update methods do.
func (c *class) asyncSelf(name string, fn func(self any, args []js.Value) error) {
	c.async(name, func(self any, args []js.Value) (any, error) {
		if err := fn(self, args); err != nil {
			return nil, err
		}
		return toJS(self), nil
	})
}

func optIndex(i *int64) any {
	if i == nil {
		return js.Null()
	}
	return *i
}

func indexArg(v js.Value, what string, nullable bool) (*int64, error) {
	switch {
	case v.Type() == js.TypeNumber && !v.IsNaN():
		f := v.Float()
		if f < 0 || f != float64(int64(f)) {
			return nil, argError("%s must be a non-negative integer, got %v", what, f)
		}
		i := int64(f)
		return &i, nil
	case nullable && (v.IsNull() || v.IsUndefined()):
		return nil, nil
	}
	return nil, argError("%s must be a number, got %s", what, describe(v))
}

func updateArgs(kind string, obj js.Value, reasons []string) map[string]any {
	return map[string]any{kind: obj, "updateReasons": jsList(reasons, asAny[string])}
}

func extendConversationClass(c *class) {
	cv := func(self any) *core.Conversation { return self.(*core.Conversation) }
	c.getter("state", func(self any) any {
		s := cv(self).State()
		return map[string]any{"current": s.Current, "dateUpdated": dateValue(s.DateUpdated)}
	})
	c.getter("notificationLevel", func(self any) any { return cv(self).NotificationLevel() })
	c.getter("lastReadMessageIndex", func(self any) any { return optIndex(cv(self).LastReadMessageIndex()) })
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
	for _, ev := range []string{"participantLeft", "participantUpdated", "messageRemoved", "messageUpdated", "typingStarted", "typingEnded", "updated", "removed"} {
		c.static(ev, ev)
	}
	c.asyncSelf("leave", func(s any, _ []js.Value) error { return cv(s).Leave(background) })
	c.asyncSelf("delete", func(s any, _ []js.Value) error { return cv(s).Delete(background) })
	c.async("getAttributes", func(s any, _ []js.Value) (any, error) { return jsonValue(cv(s).AttributesJSON()), nil })
	c.asyncSelf("updateAttributes", func(s any, args []js.Value) error {
		attrs, err := jsonOf(arg(args, 0), "attributes")
		if err != nil {
			return err
		}
		if attrs == nil {
			attrs = json.RawMessage("{}")
		}
		return cv(s).Update(background, wire.UpdateConversationArgs{Attributes: attrs})
	})
	c.asyncSelf("updateFriendlyName", func(s any, args []js.Value) error {
		name, err := stringArg(args, 0, "friendlyName")
		if err != nil {
			return err
		}
		return cv(s).Update(background, wire.UpdateConversationArgs{FriendlyName: &name})
	})
	c.asyncSelf("updateUniqueName", func(s any, args []js.Value) error {
		v := arg(args, 0)
		name := ""
		switch {
		case v.Type() == js.TypeString:
			name = v.String()
		case v.IsNull() || v.IsUndefined():
		default:
			return argError("uniqueName must be a string or null, got %s", describe(v))
		}
		return cv(s).Update(background, wire.UpdateConversationArgs{UniqueName: &name})
	})
	c.async("setUserNotificationLevel", func(s any, args []js.Value) (any, error) {
		level, err := stringArg(args, 0, "notificationLevel")
		if err != nil {
			return nil, err
		}
		return nil, cv(s).SetUserNotificationLevel(background, level)
	})
	read := func(mode string, needIndex, nullable bool) func(any, []js.Value) (any, error) {
		return func(s any, args []js.Value) (any, error) {
			var index *int64
			if needIndex {
				var err error
				if index, err = indexArg(arg(args, 0), "index", nullable); err != nil {
					return nil, err
				}
				if index == nil && mode == wire.ReadSet {
					return cv(s).SetReadHorizon(background, wire.ReadNone, nil)
				}
			}
			return cv(s).SetReadHorizon(background, mode, index)
		}
	}
	c.async("advanceLastReadMessageIndex", read(wire.ReadAdvance, true, false))
	c.async("updateLastReadMessageIndex", read(wire.ReadSet, true, true))
	c.async("setAllMessagesRead", read(wire.ReadAll, false, false))
	c.async("setAllMessagesUnread", read(wire.ReadNone, false, false))
	c.async("getUnreadMessagesCount", func(s any, _ []js.Value) (any, error) {
		n, err := cv(s).GetUnreadMessagesCount(background)
		if err != nil {
			return nil, err
		}
		return optIndex(n), nil
	})
	c.async("getMessagesCount", func(s any, _ []js.Value) (any, error) { return cv(s).GetMessagesCount(background) })
	c.async("getParticipantsCount", func(s any, _ []js.Value) (any, error) { return cv(s).GetParticipantsCount(background) })
	c.async("getParticipantBySid", func(s any, args []js.Value) (any, error) {
		sid, err := stringArg(args, 0, "participantSid")
		if err != nil {
			return nil, err
		}
		return participantOrNull(cv(s).GetParticipantBySid(background, sid))
	})
	c.async("getParticipantByIdentity", func(s any, args []js.Value) (any, error) {
		id, err := stringArg(args, 0, "identity")
		if err != nil {
			return nil, err
		}
		return participantOrNull(cv(s).GetParticipantByIdentity(background, id))
	})
	c.async("removeParticipant", func(s any, args []js.Value) (any, error) {
		v := arg(args, 0)
		target := ""
		if v.Type() == js.TypeString {
			target = v.String()
		} else if p, ok := reg.lookup(v); ok {
			if part, ok := p.(*core.Participant); ok {
				target = part.Sid()
			}
		}
		if target == "" {
			return nil, argError("removeParticipant needs an identity, a participant sid or a Participant, got %s", describe(v))
		}
		return nil, cv(s).RemoveParticipant(background, target)
	})
	c.async("addNonChatParticipant", func(s any, args []js.Value) (any, error) {
		proxy, err := stringArg(args, 0, "proxyAddress")
		if err != nil {
			return nil, err
		}
		address, err := stringArg(args, 1, "address")
		if err != nil {
			return nil, err
		}
		attrs, err := jsonOf(arg(args, 2), "attributes")
		if err != nil {
			return nil, err
		}
		bindings, err := jsonOf(arg(args, 3), "bindingOptions")
		if err != nil {
			return nil, err
		}
		return nil, cv(s).AddNonChatParticipant(background, proxy, address, attrs, bindings)
	})
	c.async("typing", func(s any, _ []js.Value) (any, error) { return nil, cv(s).Typing(background) })
	c.method("prepareMessage", func(s any, _ []js.Value) any { return newBuilderValue(cv(s)) })
	c.async("getMessageRecipients", func(s any, args []js.Value) (any, error) {
		pageSize := wire.DefaultMessagePageSize
		if o := arg(args, 0); isObject(o) && o.Get("pageSize").Type() == js.TypeNumber {
			pageSize = o.Get("pageSize").Int()
		}
		return recipientsPage(cv(s), pageSize, nil)
	})
}

// recipientsPage lists the recipients of a page of messages, newest page first.
func recipientsPage(conv *core.Conversation, pageSize int, anchor *int64) (any, error) {
	page, err := conv.GetMessages(background, pageSize, anchor, wire.Backwards)
	if err != nil {
		return nil, err
	}
	var items []any
	for _, m := range page.Items {
		rs, err := m.GetMessageRecipients(background)
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			items = append(items, recipientValue(r))
		}
	}
	var prev func() (js.Value, error)
	if page.HasPrevPage && len(page.Items) > 0 {
		before := page.Items[0].Index() - 1
		prev = func() (js.Value, error) {
			v, err := recipientsPage(conv, pageSize, &before)
			if err != nil {
				return js.Undefined(), err
			}
			return v.(js.Value), nil
		}
	}
	return reg.wrap(&jsPaginator{items: func() []any { return items }, hasPrev: prev != nil, prev: prev,
		next: func() (js.Value, error) { return js.Undefined(), argError("there is no next page") }}, classes.paginator), nil
}

func participantOrNull(p *core.Participant, err error) (any, error) {
	if wire.CodeOf(err) == wire.CodeNotFound {
		return js.Null(), nil
	}
	if err != nil {
		return nil, err
	}
	return toJS(p), nil
}

func stringsAny(ss []string) []any { return jsList(ss, asAny[string]) }

func extendMessageClass(c *class) {
	m := func(self any) *core.Message { return self.(*core.Message) }
	c.getter("subject", func(self any) any { return stringPtr(m(self).Subject()) })
	c.getter("lastUpdatedBy", func(self any) any { return optString(m(self).LastUpdatedBy()) })
	c.getter("contentSid", func(self any) any { return optString(m(self).ContentSid()) })
	c.getter("aggregatedDeliveryReceipt", func(self any) any { return aggregatedReceiptValue(m(self).AggregatedDeliveryReceipt()) })
	c.getter("attachedMedia", func(self any) any { return mediaList(m(self).AttachedMedia()) })
	c.getter("media", func(self any) any {
		if ms := m(self).GetMediaByCategory(wire.MediaCategoryMedia); len(ms) > 0 {
			return reg.wrap(ms[0], classes.media)
		}
		return js.Null()
	})
	c.getter("type", func(self any) any {
		if len(m(self).AttachedMedia()) > 0 {
			return "media"
		}
		return "text"
	})
	c.static("updated", core.MessageEventUpdated)
	byCategories := func(self any, args []js.Value) any {
		cats, err := stringList(arg(args, 0), "categories")
		if err != nil {
			panic(err)
		}
		return mediaList(m(self).GetMediaByCategory(cats...))
	}
	c.method("getMediaByCategory", byCategories)
	c.method("getMediaByCategories", byCategories)
	emailPart := func(get func(*core.Message, string) *core.Media) func(any, []js.Value) any {
		return func(self any, args []js.Value) any {
			typ := "text/plain"
			if v := arg(args, 0); v.Type() == js.TypeString {
				typ = v.String()
			}
			if md := get(m(self), typ); md != nil {
				return reg.wrap(md, classes.media)
			}
			return js.Null()
		}
	}
	c.method("getEmailBody", emailPart((*core.Message).GetEmailBody))
	c.method("getEmailHistory", emailPart((*core.Message).GetEmailHistory))
	c.async("getParticipant", func(s any, _ []js.Value) (any, error) {
		p, err := m(s).GetParticipant(background)
		return toJS(p), err
	})
	c.async("getDetailedDeliveryReceipts", func(s any, _ []js.Value) (any, error) {
		rs, err := m(s).GetDetailedDeliveryReceipts(background)
		if err != nil {
			return nil, err
		}
		return jsList(rs, func(r wire.DetailedReceipt) any { return detailedReceiptValue(r) }), nil
	})
	c.asyncSelf("remove", func(s any, _ []js.Value) error {
		return m(s).Remove(background)
	})
	c.asyncSelf("updateBody", func(s any, args []js.Value) error {
		body, err := stringArg(args, 0, "body")
		if err != nil {
			return err
		}
		return m(s).UpdateBody(background, body)
	})
	c.asyncSelf("updateAttributes", func(s any, args []js.Value) error {
		attrs, err := jsonOf(arg(args, 0), "attributes")
		if err != nil {
			return err
		}
		return m(s).UpdateAttributes(background, attrs)
	})
	urlsFor := func(sidsOf func(self any, args []js.Value) ([]string, error)) func(any, []js.Value) any {
		return func(self any, args []js.Value) any {
			return cancellable(func(ctx context.Context) (any, error) {
				sids, err := sidsOf(self, args)
				if err != nil {
					return nil, err
				}
				urls, err := m(self).Conversation().Client().GetTemporaryContentURLs(ctx, sids)
				if err != nil {
					return nil, err
				}
				return jsURLMap(urls), nil
			})
		}
	}
	c.method("getTemporaryContentUrlsForMedia", urlsFor(func(_ any, args []js.Value) ([]string, error) {
		return mediaSidsArg(arg(args, 0), "contentSet")
	}))
	c.method("getTemporaryContentUrlsForMediaSids", urlsFor(func(_ any, args []js.Value) ([]string, error) {
		return mediaSidsArg(arg(args, 0), "mediaSids")
	}))
	c.method("getTemporaryContentUrlsForAttachedMedia", urlsFor(func(self any, _ []js.Value) ([]string, error) {
		var sids []string
		for _, md := range m(self).AttachedMedia() {
			sids = append(sids, md.Sid())
		}
		return sids, nil
	}))
	c.async("attachTemporaryUrlsFor", func(s any, args []js.Value) (any, error) {
		v := arg(args, 0)
		if v.IsNull() || v.IsUndefined() {
			return []any{}, nil
		}
		sids, err := mediaSidsArg(v, "contentSet")
		if err != nil {
			return nil, err
		}
		if _, err := m(s).Conversation().Client().GetTemporaryContentURLs(background, sids); err != nil {
			return nil, err
		}
		return v, nil
	})
	c.method("getContentData", func(self any, _ []js.Value) any {
		return cancellable(func(ctx context.Context) (any, error) {
			data, err := m(self).GetContentData(ctx)
			if err != nil || data == nil {
				return js.Null(), err
			}
			return jsonValue(data), nil
		})
	})
	c.async("getChannelMetadata", func(s any, _ []js.Value) (any, error) {
		meta, err := m(s).GetChannelMetadata(background)
		if err != nil {
			return nil, err
		}
		return channelMetadataValue(meta), nil
	})
	c.async("getMessageRecipients", func(s any, _ []js.Value) (any, error) {
		rs, err := m(s).GetMessageRecipients(background)
		if err != nil {
			return nil, err
		}
		return jsList(rs, func(r wire.Recipient) any { return recipientValue(r) }), nil
	})
}

func stringList(v js.Value, what string) ([]string, error) {
	if !js.Global().Get("Array").Call("isArray", v).Bool() {
		return nil, argError("%s must be an array of strings, got %s", what, describe(v))
	}
	out := make([]string, v.Length())
	for i := range out {
		e := v.Index(i)
		if e.Type() != js.TypeString {
			return nil, argError("%s[%d] must be a string, got %s", what, i, describe(e))
		}
		out[i] = e.String()
	}
	return out, nil
}

func extendParticipantClass(c *class) {
	p := func(self any) *core.Participant { return self.(*core.Participant) }
	c.getter("lastReadMessageIndex", func(self any) any { return optIndex(p(self).LastReadMessageIndex()) })
	c.getter("lastReadTimestamp", func(self any) any {
		if t := p(self).LastReadTimestamp(); t != nil {
			return dateValue(*t)
		}
		return js.Null()
	})
	c.getter("roleSid", func(self any) any { return p(self).RoleSid() })
	c.getter("bindings", func(self any) any { return jsonValue(p(self).BindingsJSON()) })
	c.getter("isTyping", func(self any) any { return p(self).IsTyping() })
	for _, ev := range []string{"typingStarted", "typingEnded", "updated"} {
		c.static(ev, ev)
	}
	c.async("getUser", func(s any, _ []js.Value) (any, error) {
		u, err := p(s).GetUser(background)
		return toJS(u), err
	})
	c.async("remove", func(s any, _ []js.Value) (any, error) { return nil, p(s).Remove(background) })
	c.asyncSelf("updateAttributes", func(s any, args []js.Value) error {
		attrs, err := jsonOf(arg(args, 0), "attributes")
		if err != nil {
			return err
		}
		if attrs == nil {
			attrs = json.RawMessage("{}")
		}
		return p(s).UpdateAttributes(background, attrs)
	})
}

func extendUserClass(c *class) {
	u := func(self any) *core.User { return self.(*core.User) }
	c.getter("isOnline", func(self any) any { return u(self).IsOnline() })
	c.getter("isNotifiable", func(self any) any { return u(self).IsNotifiable() })
	c.getter("isSubscribed", func(self any) any { return u(self).IsSubscribed() })
	for _, ev := range []string{"updated", "userSubscribed", "userUnsubscribed"} {
		c.static(ev, ev)
	}
	c.asyncSelf("updateAttributes", func(s any, args []js.Value) error {
		attrs, err := jsonOf(arg(args, 0), "attributes")
		if err != nil {
			return err
		}
		return u(s).UpdateAttributes(background, attrs)
	})
	c.asyncSelf("updateFriendlyName", func(s any, args []js.Value) error {
		name, err := stringArg(args, 0, "friendlyName")
		if err != nil {
			return err
		}
		return u(s).UpdateFriendlyName(background, name)
	})
	c.async("unsubscribe", func(s any, _ []js.Value) (any, error) { return nil, u(s).Unsubscribe(background) })
}

func extendClientClass(c *class) {
	cl := func(self any) *core.Client { return self.(*core.Client) }
	for _, ev := range []string{"conversationLeft", "conversationRemoved", "conversationUpdated", "participantLeft",
		"participantUpdated", "messageRemoved", "messageUpdated", "tokenAboutToExpire", "tokenExpired", "typingEnded",
		"typingStarted", "pushNotification", "userSubscribed", "userUnsubscribed", "userUpdated"} {
		c.static(ev, ev)
	}
	parse := func(args []js.Value) any {
		raw, err := jsonOf(arg(args, 0), "notificationPayload")
		if err != nil {
			panic(err)
		}
		n, err := core.ParsePushNotification(raw)
		if err != nil {
			panic(err)
		}
		return pushNotificationValue(*n)
	}
	c.staticMethod("parsePushNotification", parse)
	c.method("parsePushNotification", func(_ any, args []js.Value) any { return parse(args) })
	c.staticMethod("populateInitRegistrations", func([]js.Value) any { return nil }) // push types are decided by the server's webhook
	c.asyncSelf("updateToken", func(s any, args []js.Value) error {
		tok, err := stringArg(args, 0, "token")
		if err != nil {
			return err
		}
		return cl(s).UpdateToken(background, tok)
	})
	c.async("getUser", func(s any, args []js.Value) (any, error) {
		id, err := stringArg(args, 0, "identity")
		if err != nil {
			return nil, err
		}
		u, err := cl(s).GetUser(background, id)
		return toJS(u), err
	})
	c.async("getSubscribedUsers", func(s any, _ []js.Value) (any, error) {
		us, err := cl(s).GetSubscribedUsers(background)
		if err != nil {
			return nil, err
		}
		return jsList(us, toJSOf[*core.User]), nil
	})
	// pushCall reads (channelType, registrationId) and runs a push registration call.
	pushCall := func(call func(c *core.Client, typ, id string) error) func(any, []js.Value) (any, error) {
		return func(s any, args []js.Value) (any, error) {
			typ, err := stringArg(args, 0, "channelType")
			if err != nil {
				return nil, err
			}
			id, err := stringArg(args, 1, "registrationId")
			if err != nil {
				return nil, err
			}
			return nil, call(cl(s), typ, id)
		}
	}
	c.async("setPushRegistrationId", pushCall(func(c *core.Client, typ, id string) error {
		return c.SetPushRegistrationID(background, typ, id)
	}))
	c.async("removePushRegistrations", pushCall(func(c *core.Client, typ, id string) error {
		return c.RemovePushRegistrations(background, typ, id)
	}))
	c.async("unsetPushRegistrationId", func(s any, args []js.Value) (any, error) {
		typ, err := stringArg(args, 0, "channelType")
		if err != nil {
			return nil, err
		}
		return nil, cl(s).UnsetPushRegistrationID(background, typ)
	})
	c.async("handlePushNotification", func(s any, args []js.Value) (any, error) {
		raw, err := jsonOf(arg(args, 0), "notificationPayload")
		if err != nil {
			return nil, err
		}
		return nil, cl(s).HandlePushNotification(background, raw)
	})
	urls := func(what string) func(any, []js.Value) any {
		return func(self any, args []js.Value) any {
			return cancellable(func(ctx context.Context) (any, error) {
				sids, err := mediaSidsArg(arg(args, 0), what)
				if err != nil {
					return nil, err
				}
				m, err := cl(self).GetTemporaryContentURLs(ctx, sids)
				if err != nil {
					return nil, err
				}
				return jsURLMap(m), nil
			})
		}
	}
	c.method("getTemporaryContentUrlsForMediaSids", urls("mediaSids"))
	c.method("getTemporaryContentUrlsForMedia", urls("contentSet"))
	c.async("getContentTemplates", func(s any, _ []js.Value) (any, error) {
		ts, err := cl(s).GetContentTemplates(background)
		if err != nil {
			return nil, err
		}
		out := jsList(ts, func(t wire.ContentTemplate) any { return contentTemplateValue(t) })
		return jsObject.Call("freeze", js.ValueOf(out)), nil
	})
}

// eventValue converts the Go payloads of update events and the like.
func eventValue(v any) (any, bool) {
	switch x := v.(type) {
	case core.ConversationUpdate:
		return updateArgs("conversation", toJS(x.Conversation).(js.Value), x.UpdateReasons), true
	case core.ParticipantUpdate:
		return updateArgs("participant", toJS(x.Participant).(js.Value), x.UpdateReasons), true
	case core.MessageUpdate:
		return updateArgs("message", toJS(x.Message).(js.Value), x.UpdateReasons), true
	case core.UserUpdate:
		return updateArgs("user", toJS(x.User).(js.Value), x.UpdateReasons), true
	case core.PushNotification:
		return pushNotificationValue(x), true
	case time.Duration:
		return x.Seconds(), true
	}
	return nil, false
}
