package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/wire"
)

// maxContentVariablesBytes bounds a message's content variables as JSON.
const maxContentVariablesBytes = 16 << 10

// messageSend posts a message; participants only, and not into a closed conversation.
func (s *Server) messageSend(c *call, a wire.SendMessageArgs) (any, error) {
	if err := checkBody(a.Body); err != nil {
		return nil, err
	}
	if a.Subject != nil {
		if err := maxChars("subject", *a.Subject, wire.MaxSubjectChars); err != nil {
			return nil, err
		}
	}
	attrs, err := checkAttributes("attributes", a.Attributes, wire.MaxMessageAttrsBytes)
	if err != nil {
		return nil, err
	}
	if len(a.MediaSids) > wire.MaxMediaPerMessage {
		return nil, wire.Errorf(wire.CodeTooLarge, "a message has at most %d media, got %d", wire.MaxMediaPerMessage, len(a.MediaSids))
	}
	seen := map[string]bool{}
	for _, sid := range a.MediaSids {
		if sid == "" || seen[sid] {
			return nil, wire.Errorf(wire.CodeBadRequest, "mediaSids must be distinct media sids, got %q twice or empty", sid)
		}
		seen[sid] = true
	}
	if len(a.ContentVariables) > 0 {
		if a.ContentSid == "" {
			return nil, wire.Errorf(wire.CodeBadRequest, "contentVariables need a contentSid")
		}
		if b, _ := json.Marshal(a.ContentVariables); len(b) > maxContentVariablesBytes {
			return nil, wire.Errorf(wire.CodeTooLarge, "contentVariables are %d bytes of JSON; the limit is %d", len(b), maxContentVariablesBytes)
		}
	}
	if a.Body == nil && attrs == nil && len(a.MediaSids) == 0 && a.ContentSid == "" {
		return nil, wire.Errorf(wire.CodeBadRequest, "a message needs a body or attributes, media or a contentSid")
	}
	if err := maxChars("idempotencyKey", a.IdempotencyKey, wire.MaxIdempotencyKeyChars); err != nil {
		return nil, err
	}
	p, err := s.sender(c.ctx, c.identity, a.ConversationSid)
	if err != nil {
		return nil, err
	}
	if a.ContentSid != "" {
		if _, err := s.cfg.Store.ContentTemplate(c.ctx, a.ContentSid); errors.Is(err, store.ErrNotFound) {
			return nil, errContentTemplateNotFound(a.ContentSid)
		} else if err != nil {
			return nil, err
		}
	}
	if err := s.convWrite(c.ctx, a.ConversationSid); err != nil {
		return nil, err
	}
	m, _, ds, err := s.cfg.Store.SendMessage(c.ctx, store.NewMessage{
		ConversationSid: a.ConversationSid, Author: c.identity, ParticipantSid: p.Sid,
		Body: a.Body, Attributes: attrs, IdempotencyKey: a.IdempotencyKey, Subject: a.Subject,
		MediaSids: a.MediaSids, ContentSid: a.ContentSid, ContentVariables: a.ContentVariables})
	switch {
	case errors.Is(err, store.ErrClosed):
		return nil, closedErr(a.ConversationSid)
	case errors.Is(err, store.ErrMediaUnusable):
		return nil, wire.Errorf(wire.CodeBadRequest, "mediaSids must name media you uploaded and did not attach to a message yet")
	case errors.Is(err, store.ErrNotFound):
		return nil, errConversationNotFound(a.ConversationSid)
	case err != nil:
		return nil, fmt.Errorf("send message: %w", err)
	}
	s.hub.deliver(ds)
	return m, nil
}

// sender is member for the hot path of sending: one indexed read of the caller's
// participant record, where member reads the conversation as well, in a transaction. A
// closed conversation is refused by the store's write itself (ErrClosed). Only when there
// is no record does member run, to tell a missing conversation from a non-participant.
func (s *Server) sender(ctx context.Context, identity, sid string) (wire.Participant, error) {
	if err := required("conversationSid", sid); err != nil {
		return wire.Participant{}, err
	}
	p, err := s.cfg.Store.Participant(ctx, sid, identity)
	if errors.Is(err, store.ErrNotFound) {
		var pp *wire.Participant
		if _, pp, err = s.member(ctx, identity, sid); err == nil {
			p = *pp // joined since the first read
		}
	}
	return p, err
}

func (s *Server) messageList(c *call, a wire.ListMessagesArgs) (any, error) {
	size, err := pageSize(a.PageSize, wire.DefaultMessagePageSize)
	if err != nil {
		return nil, err
	}
	var forward bool
	switch a.Direction {
	case "", wire.Backwards:
	case wire.Forward:
		forward = true
	default:
		return nil, wire.Errorf(wire.CodeBadRequest, "direction must be %q or %q, got %q", wire.Backwards, wire.Forward, a.Direction)
	}
	if a.Anchor != nil && *a.Anchor < 0 {
		return nil, wire.Errorf(wire.CodeBadRequest, "anchor must be a message index (0 or more), got %d", *a.Anchor)
	}
	if _, _, err := s.member(c.ctx, c.identity, a.ConversationSid); err != nil {
		return nil, err
	}
	return s.cfg.Store.Messages(c.ctx, store.MessageQuery{
		ConversationSid: a.ConversationSid, PageSize: size, Anchor: a.Anchor, Forward: forward})
}

// authored loads a message of a conversation the caller participates in and, when
// authorOnly, checks that the caller wrote it: the author must be the caller and the message
// must have been written as the caller's own participant. The author alone is a name anyone
// can take ("system", "+15550001"), so without the participant check a chat user so named
// could edit admin API or SMS messages; messages written as nobody (admin API system
// messages) are changed through the admin API only.
func (s *Server) authored(c *call, conv, sid string, authorOnly bool) (wire.Message, error) {
	_, p, err := s.member(c.ctx, c.identity, conv)
	if err != nil {
		return wire.Message{}, err
	}
	if err := required("messageSid", sid); err != nil {
		return wire.Message{}, err
	}
	m, err := s.cfg.Store.Message(c.ctx, conv, sid)
	if errors.Is(err, store.ErrNotFound) {
		return m, errMessageNotFound(conv, sid)
	}
	if err != nil {
		return m, err
	}
	if authorOnly && (m.Author != c.identity || m.ParticipantSid == "" || m.ParticipantSid != p.Sid) {
		return m, wire.Errorf(wire.CodeForbidden, "only the author (%q), as the participant who wrote it, may change or remove message %q", m.Author, sid)
	}
	return m, nil
}

// messageUpdate edits a message's body or attributes; its author only.
func (s *Server) messageUpdate(c *call, a wire.UpdateMessageArgs) (any, error) {
	if err := checkBody(a.Body); err != nil {
		return nil, err
	}
	attrs, err := checkAttributesChange("attributes", a.Attributes, wire.MaxMessageAttrsBytes)
	if err != nil {
		return nil, err
	}
	if a.Body == nil && attrs == nil {
		return nil, wire.Errorf(wire.CodeBadRequest, "give a body or attributes to change")
	}
	if _, err := s.authored(c, a.ConversationSid, a.MessageSid, true); err != nil {
		return nil, err
	}
	if err := s.convWrite(c.ctx, a.ConversationSid); err != nil {
		return nil, err
	}
	m, ds, err := s.cfg.Store.UpdateMessage(c.ctx, store.MessageUpdate{ConversationSid: a.ConversationSid, Sid: a.MessageSid,
		Body: a.Body, Attributes: attrs, By: c.identity})
	if errors.Is(err, store.ErrNotFound) {
		return nil, errMessageNotFound(a.ConversationSid, a.MessageSid)
	}
	if err != nil {
		return nil, err
	}
	s.hub.deliver(ds)
	return m, nil
}

// messageRemove deletes a message; its author only.
func (s *Server) messageRemove(c *call, a wire.MessageRef) (any, error) {
	if _, err := s.authored(c, a.ConversationSid, a.MessageSid, true); err != nil {
		return nil, err
	}
	if err := s.convWrite(c.ctx, a.ConversationSid); err != nil {
		return nil, err
	}
	m, ds, err := s.cfg.Store.RemoveMessage(c.ctx, a.ConversationSid, a.MessageSid)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errMessageNotFound(a.ConversationSid, a.MessageSid)
	}
	if err != nil {
		return nil, err
	}
	s.hub.deliver(ds)
	sids := make([]string, len(m.Media))
	for i, md := range m.Media {
		sids[i] = md.Sid
	}
	s.removeMediaFiles(sids)
	return wire.Empty{}, nil
}

// messageReceipts lists a message's detailed delivery receipts; participants only.
func (s *Server) messageReceipts(c *call, a wire.MessageRef) (any, error) {
	if _, err := s.authored(c, a.ConversationSid, a.MessageSid, false); err != nil {
		return nil, err
	}
	items, err := s.cfg.Store.Receipts(c.ctx, a.ConversationSid, a.MessageSid)
	if err != nil {
		return nil, err
	}
	return wire.ReceiptPage{Items: items}, nil
}

// emailBinding is the part of a participant's bindings that describes an email recipient,
// as the vendor's ParticipantBindings: {"email": {"address", "level": "to"|"cc", "name"}}.
type emailBinding struct {
	Email *struct {
		Address string `json:"address"`
		Level   string `json:"level"`
		Name    string `json:"name"`
	} `json:"email"`
}

// messageRecipients lists who an email message went to: the conversation's email
// participants; participants only.
func (s *Server) messageRecipients(c *call, a wire.MessageRef) (any, error) {
	if _, err := s.authored(c, a.ConversationSid, a.MessageSid, false); err != nil {
		return nil, err
	}
	ps, err := s.cfg.Store.Participants(c.ctx, a.ConversationSid)
	if err != nil {
		return nil, err
	}
	items := []wire.Recipient{}
	for _, p := range ps {
		if p.Type != wire.ParticipantEmail {
			continue
		}
		r := wire.Recipient{Type: wire.ParticipantEmail, MessageSid: a.MessageSid, Level: "to", Address: p.Address}
		var b emailBinding
		if len(p.Bindings) > 0 && json.Unmarshal(p.Bindings, &b) == nil && b.Email != nil {
			if b.Email.Level == "cc" {
				r.Level = "cc"
			}
			r.Name = b.Email.Name
			if b.Email.Address != "" {
				r.Address = b.Email.Address
			}
		}
		items = append(items, r)
	}
	return wire.RecipientPage{Items: items}, nil
}

// messageChannelMetadata returns what a non-chat channel recorded about a message (null
// when nothing); participants only.
func (s *Server) messageChannelMetadata(c *call, a wire.MessageRef) (any, error) {
	if _, err := s.authored(c, a.ConversationSid, a.MessageSid, false); err != nil {
		return nil, err
	}
	md, err := s.cfg.Store.ChannelMetadata(c.ctx, a.ConversationSid, a.MessageSid)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errMessageNotFound(a.ConversationSid, a.MessageSid)
	}
	if err != nil {
		return nil, err
	}
	if md == nil {
		return wire.RawJSON("null"), nil
	}
	return md, nil
}
