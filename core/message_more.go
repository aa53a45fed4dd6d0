package core

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/convo-sdk/convo/wire"
)

// MessageEventUpdated is the Message event fired on every change: MessageUpdate.
const MessageEventUpdated = "updated"

// Subject returns the subject of an email-style message, or nil.
func (m *Message) Subject() *string { return m.snapshot().Subject }

// LastUpdatedBy returns who last edited the message, empty if nobody did.
func (m *Message) LastUpdatedBy() string { return m.snapshot().LastUpdatedBy }

// ContentSid returns the content template the message was sent with, if any.
func (m *Message) ContentSid() string { return m.snapshot().ContentSid }

// ContentVariables returns the values the template was filled with.
func (m *Message) ContentVariables() []wire.ContentVariable { return m.snapshot().ContentVariables }

// AggregatedDeliveryReceipt summarises delivery to non-chat recipients; nil when none.
func (m *Message) AggregatedDeliveryReceipt() *wire.AggregatedReceipt { return m.snapshot().Receipts }

// AttachedMedia returns every media of the message: attachments, email bodies and histories.
func (m *Message) AttachedMedia() []*Media {
	d := m.snapshot()
	out := make([]*Media, len(d.Media))
	for i, md := range d.Media {
		out[i] = m.mediaObject(md)
	}
	return out
}

// GetMediaByCategory returns the message's media of the given categories.
func (m *Message) GetMediaByCategory(categories ...string) []*Media {
	var out []*Media
	for _, md := range m.AttachedMedia() {
		if slices.Contains(categories, md.Category()) {
			out = append(out, md)
		}
	}
	return out
}

// GetEmailBody returns the email body of the given content type ("text/plain", "text/html").
func (m *Message) GetEmailBody(contentType string) *Media {
	return m.emailPart(wire.MediaCategoryBody, contentType)
}

// GetEmailHistory returns the email history of the given content type.
func (m *Message) GetEmailHistory(contentType string) *Media {
	return m.emailPart(wire.MediaCategoryHistory, contentType)
}

func (m *Message) emailPart(category, contentType string) *Media {
	for _, md := range m.GetMediaByCategory(category) {
		if strings.EqualFold(strings.TrimSpace(strings.Split(md.ContentType(), ";")[0]), contentType) {
			return md
		}
	}
	return nil
}

// mediaObject keeps one *Media per sid.
func (m *Message) mediaObject(d wire.Media) *Media {
	c := m.conv.client
	c.mu.Lock()
	defer c.mu.Unlock()
	if m.media == nil {
		m.media = make(map[string]*Media)
	}
	md, ok := m.media[d.Sid]
	if !ok {
		md = &Media{client: c, data: d}
		m.media[d.Sid] = md
	}
	return md
}

// GetParticipant returns the author's participant object.
func (m *Message) GetParticipant(ctx context.Context) (*Participant, error) {
	if sid := m.ParticipantSid(); sid != "" {
		return m.conv.GetParticipantBySid(ctx, sid)
	}
	return m.conv.GetParticipantByIdentity(ctx, m.Author())
}

// Remove deletes the message (its author only).
func (m *Message) Remove(ctx context.Context) error {
	c := m.conv.client
	if err := c.ready(ctx); err != nil {
		return err
	}
	return c.callThenEvents(ctx, wire.OpMessageRemove, wire.MessageRef{ConversationSid: m.conv.sid, MessageSid: m.sid}, nil, true)
}

// UpdateBody changes the text (its author only).
func (m *Message) UpdateBody(ctx context.Context, body string) error {
	if len(body) > wire.MaxMessageBodyBytes {
		return wire.Errorf(wire.CodeTooLarge, "message body is %d bytes; the limit is %d", len(body), wire.MaxMessageBodyBytes)
	}
	return m.update(ctx, wire.UpdateMessageArgs{Body: &body})
}

// UpdateAttributes replaces the attributes (its author only).
func (m *Message) UpdateAttributes(ctx context.Context, attributes json.RawMessage) error {
	if len(attributes) == 0 {
		attributes = json.RawMessage("{}")
	}
	return m.update(ctx, wire.UpdateMessageArgs{Attributes: attributes})
}

func (m *Message) update(ctx context.Context, args wire.UpdateMessageArgs) error {
	c := m.conv.client
	if err := c.ready(ctx); err != nil {
		return err
	}
	args.ConversationSid, args.MessageSid = m.conv.sid, m.sid
	var d wire.Message
	if err := c.callThenEvents(ctx, wire.OpMessageUpdate, args, &d, true); err != nil {
		return err
	}
	m.conv.upsertMessage(d)
	return nil
}

// GetDetailedDeliveryReceipts returns the message's per-recipient delivery receipts.
func (m *Message) GetDetailedDeliveryReceipts(ctx context.Context) ([]wire.DetailedReceipt, error) {
	c := m.conv.client
	if err := c.ready(ctx); err != nil {
		return nil, err
	}
	var page wire.ReceiptPage
	err := c.call(ctx, wire.OpMessageReceipts, wire.MessageRef{ConversationSid: m.conv.sid, MessageSid: m.sid}, &page, true)
	return page.Items, err
}

// GetChannelMetadata returns what a non-chat channel recorded about the message, or nil.
func (m *Message) GetChannelMetadata(ctx context.Context) (*wire.ChannelMetadata, error) {
	c := m.conv.client
	if err := c.ready(ctx); err != nil {
		return nil, err
	}
	var meta *wire.ChannelMetadata
	err := c.call(ctx, wire.OpMessageChannelMeta, wire.MessageRef{ConversationSid: m.conv.sid, MessageSid: m.sid}, &meta, true)
	return meta, err
}

// GetMessageRecipients lists who the (email) message went to.
func (m *Message) GetMessageRecipients(ctx context.Context) ([]wire.Recipient, error) {
	return m.conv.GetMessageRecipients(ctx, m.sid)
}

// GetTemporaryContentURLsForAttachedMedia returns a temporary URL per attached media sid.
func (m *Message) GetTemporaryContentURLsForAttachedMedia(ctx context.Context) (map[string]string, error) {
	media := m.AttachedMedia()
	sids := make([]string, len(media))
	for i, md := range media {
		sids[i] = md.Sid()
	}
	return m.conv.client.GetTemporaryContentURLs(ctx, sids)
}

// GetContentData returns the variants of the message's content template with its variables
// filled in ("{{1}}" placeholders replaced), or nil when it has no template.
func (m *Message) GetContentData(ctx context.Context) (json.RawMessage, error) {
	sid := m.ContentSid()
	if sid == "" {
		return nil, nil
	}
	templates, err := m.conv.client.GetContentTemplates(ctx)
	if err != nil {
		return nil, err
	}
	for _, t := range templates {
		if t.Sid != sid {
			continue
		}
		values := map[string]string{}
		for _, v := range t.Variables {
			values[v.Name] = v.Value
		}
		for _, v := range m.ContentVariables() {
			values[v.Name] = v.Value
		}
		return fillTemplate(t.Variants, values), nil
	}
	return nil, wire.Errorf(wire.CodeNotFound, "content template %s not found", sid)
}

// fillTemplate replaces {{name}} placeholders inside the JSON strings of a template.
func fillTemplate(raw json.RawMessage, values map[string]string) json.RawMessage {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return raw
	}
	var walk func(any) any
	walk = func(x any) any {
		switch t := x.(type) {
		case string:
			for name, value := range values {
				t = strings.ReplaceAll(t, "{{"+name+"}}", value)
			}
			return t
		case []any:
			for i := range t {
				t[i] = walk(t[i])
			}
		case map[string]any:
			for k := range t {
				t[k] = walk(t[k])
			}
		}
		return x
	}
	out, err := json.Marshal(walk(v))
	if err != nil {
		return raw
	}
	return out
}
