package server

import (
	"context"
	"errors"
	"net/http"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/wire"
)

// adminMessageArgs post a message as any author. ChannelMetadata records what a non-chat
// channel said about an inbound message (for message.channelMetadata).
type adminMessageArgs struct {
	Author           string                 `json:"author"`
	ParticipantSid   string                 `json:"participantSid"`
	Body             *string                `json:"body"`
	Subject          *string                `json:"subject"`
	Attributes       wire.RawJSON           `json:"attributes"`
	MediaSids        []string               `json:"mediaSids"`
	ContentSid       string                 `json:"contentSid"`
	ContentVariables []wire.ContentVariable `json:"contentVariables"`
	IdempotencyKey   string                 `json:"idempotencyKey"`
	ChannelMetadata  *wire.ChannelMetadata  `json:"channelMetadata"`
}

// defaultAuthor is the author of admin messages that name none, as the vendor's.
const defaultAuthor = "system"

func (s *Server) adminSendMessage(r *adminReq) (int, any, error) {
	conv, err := s.adminConversation(r.ctx, r.path("conv"))
	if err != nil {
		return 0, nil, err
	}
	var a adminMessageArgs
	if err := r.decode(&a); err != nil {
		return 0, nil, err
	}
	if a.Author == "" {
		a.Author = defaultAuthor
	}
	if err := checkIdentityArg("author", a.Author); err != nil {
		return 0, nil, err
	}
	if err := checkBody(a.Body); err != nil {
		return 0, nil, err
	}
	if a.Subject != nil {
		if err := maxChars("subject", *a.Subject, wire.MaxSubjectChars); err != nil {
			return 0, nil, err
		}
	}
	attrs, err := checkAttributes("attributes", a.Attributes, wire.MaxMessageAttrsBytes)
	if err != nil {
		return 0, nil, err
	}
	if len(a.MediaSids) > wire.MaxMediaPerMessage {
		return 0, nil, wire.Errorf(wire.CodeTooLarge, "a message carries at most %d media, got %d", wire.MaxMediaPerMessage, len(a.MediaSids))
	}
	if err := maxChars("idempotencyKey", a.IdempotencyKey, wire.MaxIdempotencyKeyChars); err != nil {
		return 0, nil, err
	}
	if a.Body == nil && attrs == nil && len(a.MediaSids) == 0 && a.ContentSid == "" {
		return 0, nil, wire.Errorf(wire.CodeBadRequest, "a message needs a body, attributes, media or a contentSid")
	}
	if a.ContentSid != "" {
		if _, err := s.cfg.Store.ContentTemplate(r.ctx, a.ContentSid); errors.Is(err, store.ErrNotFound) {
			return 0, nil, errContentTemplateNotFound(a.ContentSid)
		} else if err != nil {
			return 0, nil, err
		}
	}
	if a.ChannelMetadata != nil {
		if err := required("channelMetadata.type", a.ChannelMetadata.Type); err != nil {
			return 0, nil, err
		}
		if _, err := checkAttributes("channelMetadata.data", a.ChannelMetadata.Data, wire.MaxMessageAttrsBytes); err != nil {
			return 0, nil, err
		}
	}
	psid, err := s.adminAuthorParticipant(r, conv.Sid, a.Author, a.ParticipantSid)
	if err != nil {
		return 0, nil, err
	}
	m, created, ds, err := s.cfg.Store.SendMessage(r.ctx, store.NewMessage{
		ConversationSid: conv.Sid, Author: a.Author, ParticipantSid: psid,
		Body: a.Body, Subject: a.Subject, Attributes: attrs, MediaSids: a.MediaSids,
		ContentSid: a.ContentSid, ContentVariables: a.ContentVariables, IdempotencyKey: a.IdempotencyKey})
	if err != nil {
		return 0, nil, storeErr(err, conversationThing(conv.Sid))
	}
	if created && a.ChannelMetadata != nil {
		if err := s.cfg.Store.SetChannelMetadata(r.ctx, conv.Sid, m.Sid, *a.ChannelMetadata); err != nil {
			s.hub.deliver(ds)
			return 0, nil, err
		}
	}
	s.hub.deliver(ds)
	s.webhooks.Nudge()
	if !created {
		return http.StatusOK, m, nil
	}
	return http.StatusCreated, m, nil
}

// adminAuthorParticipant finds the participant an admin message is written as: the one
// named by participantSid, else the chat participant whose identity is the author, else the
// non-chat participant whose address is the author. Empty when the author is none of them
// (a system message).
func (s *Server) adminAuthorParticipant(r *adminReq, conv, author, psid string) (string, error) {
	if psid != "" {
		p, err := s.cfg.Store.ParticipantBySid(r.ctx, conv, psid)
		if errors.Is(err, store.ErrNotFound) {
			return "", errParticipantNotFound(conv, psid)
		}
		return p.Sid, err
	}
	p, err := s.cfg.Store.Participant(r.ctx, conv, author)
	if err == nil {
		return p.Sid, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	ps, err := s.cfg.Store.Participants(r.ctx, conv)
	if err != nil {
		return "", err
	}
	for _, p := range ps {
		if p.Type != wire.ParticipantChat && p.Address == author {
			return p.Sid, nil
		}
	}
	return "", nil
}

func (s *Server) adminListMessages(r *adminReq) (int, any, error) {
	conv, err := s.adminConversation(r.ctx, r.path("conv"))
	if err != nil {
		return 0, nil, err
	}
	n, _, err := queryInt(r.r, "pageSize")
	if err != nil {
		return 0, nil, err
	}
	size, err := pageSize(n, wire.DefaultMessagePageSize)
	if err != nil {
		return 0, nil, err
	}
	q := store.MessageQuery{ConversationSid: conv.Sid, PageSize: size}
	switch d := r.r.URL.Query().Get("direction"); d {
	case "", wire.Backwards:
	case wire.Forward:
		q.Forward = true
	default:
		return 0, nil, wire.Errorf(wire.CodeBadRequest, "direction must be %q or %q, got %q", wire.Backwards, wire.Forward, d)
	}
	anchor, ok, err := queryInt(r.r, "anchor")
	if err != nil {
		return 0, nil, err
	}
	if ok {
		if anchor < 0 {
			return 0, nil, wire.Errorf(wire.CodeBadRequest, "anchor must be a message index (0 or more), got %d", anchor)
		}
		a := int64(anchor)
		q.Anchor = &a
	}
	page, err := s.cfg.Store.Messages(r.ctx, q)
	return http.StatusOK, page, err
}

func (s *Server) adminGetMessage(r *adminReq) (int, any, error) {
	_, m, err := s.adminConvMessage(r)
	return http.StatusOK, m, err // serveAdmin answers err instead when set
}

func (s *Server) adminUpdateMessage(r *adminReq) (int, any, error) {
	conv, m, err := s.adminConvMessage(r)
	if err != nil {
		return 0, nil, err
	}
	var a struct {
		Body       *string      `json:"body"`
		Attributes wire.RawJSON `json:"attributes"`
		UpdatedBy  string       `json:"updatedBy"`
	}
	if err := r.decode(&a); err != nil {
		return 0, nil, err
	}
	if err := checkBody(a.Body); err != nil {
		return 0, nil, err
	}
	attrs, err := checkAttributesChange("attributes", a.Attributes, wire.MaxMessageAttrsBytes)
	if err != nil {
		return 0, nil, err
	}
	if a.Body == nil && attrs == nil {
		return 0, nil, wire.Errorf(wire.CodeBadRequest, "give body or attributes to change")
	}
	if a.UpdatedBy == "" {
		a.UpdatedBy = defaultAuthor
	}
	if err := checkIdentityArg("updatedBy", a.UpdatedBy); err != nil {
		return 0, nil, err
	}
	m, ds, err := s.cfg.Store.UpdateMessage(r.ctx, store.MessageUpdate{
		ConversationSid: conv.Sid, Sid: m.Sid, Body: a.Body, Attributes: attrs, By: a.UpdatedBy})
	if err != nil {
		return 0, nil, storeErr(err, messageThing(conv.Sid, m.Sid))
	}
	s.hub.deliver(ds)
	s.webhooks.Nudge()
	return http.StatusOK, m, nil
}

func (s *Server) adminRemoveMessage(r *adminReq) (int, any, error) {
	conv, m, err := s.adminConvMessage(r)
	if err != nil {
		return 0, nil, err
	}
	var media []string
	for _, md := range m.Media {
		media = append(media, md.Sid)
	}
	_, ds, err := s.cfg.Store.RemoveMessage(r.ctx, conv.Sid, m.Sid)
	if err != nil {
		return 0, nil, storeErr(err, messageThing(conv.Sid, m.Sid))
	}
	s.hub.deliver(ds)
	s.webhooks.Nudge()
	s.removeMediaFiles(media)
	return http.StatusNoContent, nil, nil
}

func (s *Server) adminListReceipts(r *adminReq) (int, any, error) {
	conv, m, err := s.adminConvMessage(r)
	if err != nil {
		return 0, nil, err
	}
	items, err := s.cfg.Store.Receipts(r.ctx, conv.Sid, m.Sid)
	if err != nil {
		return 0, nil, err
	}
	if items == nil {
		items = []wire.DetailedReceipt{}
	}
	return http.StatusOK, wire.ReceiptPage{Items: items}, nil
}

// adminUpsertReceipt records a message's delivery status to one non-chat participant.
func (s *Server) adminUpsertReceipt(r *adminReq) (int, any, error) {
	conv, m, err := s.adminConvMessage(r)
	if err != nil {
		return 0, nil, err
	}
	p, err := s.adminParticipant(r.ctx, conv.Sid, r.path("p"))
	if err != nil {
		return 0, nil, err
	}
	if p.Type == wire.ParticipantChat {
		return 0, nil, wire.Errorf(wire.CodeBadRequest, "delivery receipts are for non-chat participants; %q is a chat participant", p.Sid)
	}
	var a struct {
		Status            string `json:"status"`
		ErrorCode         int    `json:"errorCode"`
		ChannelMessageSid string `json:"channelMessageSid"`
	}
	if err := r.decode(&a); err != nil {
		return 0, nil, err
	}
	switch a.Status {
	case wire.DeliveryQueued, wire.DeliverySent, wire.DeliveryDelivered, wire.DeliveryRead, wire.DeliveryUndelivered, wire.DeliveryFailed:
	default:
		return 0, nil, wire.Errorf(wire.CodeBadRequest, "status must be one of queued, sent, delivered, read, undelivered, failed; got %q", a.Status)
	}
	if err := maxChars("channelMessageSid", a.ChannelMessageSid, wire.MaxAddressChars); err != nil {
		return 0, nil, err
	}
	rc, ds, err := s.cfg.Store.UpsertReceipt(r.ctx, store.ReceiptUpsert{
		ConversationSid: conv.Sid, MessageSid: m.Sid, ParticipantSid: p.Sid,
		Status: a.Status, ErrorCode: a.ErrorCode, ChannelMessageSid: a.ChannelMessageSid})
	if err != nil {
		return 0, nil, storeErr(err, messageThing(conv.Sid, m.Sid))
	}
	s.hub.deliver(ds)
	s.webhooks.Nudge()
	return http.StatusOK, rc, nil
}

func (s *Server) adminMessage(ctx context.Context, conv, sid string) (wire.Message, error) {
	m, err := s.cfg.Store.Message(ctx, conv, sid)
	if errors.Is(err, store.ErrNotFound) {
		return m, errMessageNotFound(conv, sid)
	}
	return m, err
}

// adminConvMessage resolves the {conv} and {m} path values of a request.
func (s *Server) adminConvMessage(r *adminReq) (wire.Conversation, wire.Message, error) {
	conv, err := s.adminConversation(r.ctx, r.path("conv"))
	if err != nil {
		return conv, wire.Message{}, err
	}
	m, err := s.adminMessage(r.ctx, conv.Sid, r.path("m"))
	return conv, m, err
}
