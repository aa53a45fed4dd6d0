//go:build js && wasm

package jsapi

import (
	"syscall/js"

	"github.com/convo-sdk/convo/core"
	"github.com/convo-sdk/convo/wire"
)

func newMessageClass(parent *class) *class {
	c := newClass("Message", parent)
	c.weak = true // core's cache bound frees a message only once its wrapper is collected
	m := func(self any) *core.Message { return self.(*core.Message) }
	c.statics(core.MessageEventUpdated.Name())

	// The fields a messageAdded listener reads are copied to the JS object (see class.fields);
	// the hook set in constructClient refreshes them whenever the message changes.
	c.fields([]string{"sid", "index", "author", "body", "participantSid", "dateCreated", "dateUpdated"}, func(self any) []any {
		d := m(self).Fields()
		return []any{m(self).Sid(), d.Index, sharedString(d.Author), stringPtr(d.Body), sharedString(d.ParticipantSid), dateMillis(d.DateCreated), dateMillis(d.DateUpdated)}
	})
	c.getter("attributes", func(self any) any { return jsonValue(m(self).AttributesJSON()) })
	c.getter("conversation", func(self any) any { return toJS(m(self).Conversation()) })
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

	// Media.
	byCategories := func(self any, a *args) any {
		return mediaList(m(self).GetMediaByCategory(a.stringList(0, "categories")...))
	}
	c.method("getMediaByCategory", byCategories)
	c.method("getMediaByCategories", byCategories)
	emailPart := func(get func(*core.Message, string) *core.Media) func(any, *args) any {
		return func(self any, a *args) any {
			typ, ok := a.optionalString(0, "type")
			if !ok {
				typ = "text/plain"
			}
			if md := get(m(self), typ); md != nil {
				return reg.wrap(md, classes.media)
			}
			return js.Null()
		}
	}
	c.method("getEmailBody", emailPart((*core.Message).GetEmailBody))
	c.method("getEmailHistory", emailPart((*core.Message).GetEmailHistory))
	c.async("getTemporaryContentUrlsForMedia", func(s any, a *args) (any, error) {
		return temporaryURLs(a, m(s).Conversation().Client(), a.mediaSids(0, "contentSet"))
	}).cancellable()
	c.async("getTemporaryContentUrlsForMediaSids", func(s any, a *args) (any, error) {
		return temporaryURLs(a, m(s).Conversation().Client(), a.mediaSids(0, "mediaSids"))
	}).cancellable()
	c.async("getTemporaryContentUrlsForAttachedMedia", func(s any, a *args) (any, error) {
		var sids []string
		for _, md := range m(s).AttachedMedia() {
			sids = append(sids, md.Sid())
		}
		return temporaryURLs(a, m(s).Conversation().Client(), sids)
	}).cancellable()
	c.async("attachTemporaryUrlsFor", func(s any, a *args) (any, error) {
		if absent(a.at(0)) {
			return []any{}, nil
		}
		sids := a.mediaSids(0, "contentSet")
		if _, err := m(s).Conversation().Client().GetTemporaryContentURLs(a.ctx, sids); err != nil {
			return nil, err
		}
		return a.at(0), nil
	})
	c.async("getContentData", func(s any, a *args) (any, error) {
		data, err := m(s).GetContentData(a.ctx)
		if err != nil || data == nil {
			return js.Null(), err
		}
		return jsonValue(data), nil
	}).cancellable()

	// Changes.
	c.asyncSelf("remove", func(s any, a *args) error { return m(s).Remove(a.ctx) })
	c.asyncSelf("updateBody", func(s any, a *args) error { return m(s).UpdateBody(a.ctx, a.string(0, "body")) })
	c.asyncSelf("updateAttributes", func(s any, a *args) error { return m(s).UpdateAttributes(a.ctx, a.attributes(0)) })

	// Related records.
	c.async("getParticipant", func(s any, a *args) (any, error) {
		p, err := m(s).GetParticipant(a.ctx)
		return toJS(p), err
	})
	c.async("getDetailedDeliveryReceipts", func(s any, a *args) (any, error) {
		rs, err := m(s).GetDetailedDeliveryReceipts(a.ctx)
		if err != nil {
			return nil, err
		}
		return jsList(rs, func(r core.DetailedDeliveryReceipt) any { return detailedReceiptValue(r) }), nil
	})
	c.async("getChannelMetadata", func(s any, a *args) (any, error) {
		meta, err := m(s).GetChannelMetadata(a.ctx)
		if err != nil {
			return nil, err
		}
		return channelMetadataValue(meta), nil
	})
	c.async("getMessageRecipients", func(s any, a *args) (any, error) {
		rs, err := m(s).GetMessageRecipients(a.ctx)
		if err != nil {
			return nil, err
		}
		return jsList(rs, func(r core.Recipient) any { return recipientValue(r) }), nil
	})
	return c
}
