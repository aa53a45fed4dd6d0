package server

import (
	"encoding/json"
	"errors"
	"strings"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/wire"
)

// Participant ops beyond add and list: non-chat participants, attribute updates, removal.

// participantOrCreator loads a conversation for an op its participants and its creator may
// run; the participant record is nil for a creator who has not joined.
func (s *Server) participantOrCreator(c *call, sid string) (*wire.Participant, error) {
	conv, p, err := s.access(c.ctx, c.identity, sid)
	if err != nil {
		return nil, err
	}
	if p == nil && conv.CreatedBy != c.identity {
		return nil, notParticipant(c.identity, sid)
	}
	return p, nil
}

// nonChatType derives a non-chat participant's channel from its addresses.
func nonChatType(proxy, address string) string {
	switch {
	case strings.HasPrefix(proxy, "whatsapp:") || strings.HasPrefix(address, "whatsapp:"):
		return wire.ParticipantWhatsApp
	case strings.Contains(address, "@"):
		return wire.ParticipantEmail
	}
	return wire.ParticipantSMS
}

func checkAddress(field, v string) error {
	if err := required(field, v); err != nil {
		return err
	}
	if err := maxChars(field, v, wire.MaxAddressChars); err != nil {
		return err
	}
	if strings.IndexFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
		return wire.Errorf(wire.CodeBadRequest, "%s contains control characters", field)
	}
	return nil
}

// participantAddNonChat adds an SMS, WhatsApp or email participant; participants and the
// creator.
func (s *Server) participantAddNonChat(c *call) (any, error) {
	var a wire.AddNonChatParticipantArgs
	if err := decodeArgs(c.data, &a); err != nil {
		return nil, err
	}
	if err := required("conversationSid", a.ConversationSid); err != nil {
		return nil, err
	}
	if err := checkAddress("address", a.Address); err != nil {
		return nil, err
	}
	if err := checkAddress("proxyAddress", a.ProxyAddress); err != nil {
		return nil, err
	}
	attrs, err := checkAttributes("attributes", a.Attributes, wire.MaxParticipantAttrsBytes)
	if err != nil {
		return nil, err
	}
	bindings, err := checkAttributes("bindings", a.Bindings, wire.MaxParticipantAttrsBytes)
	if err != nil {
		return nil, err
	}
	if _, err := s.participantOrCreator(c, a.ConversationSid); err != nil {
		return nil, err
	}
	if err := s.convWrite(a.ConversationSid); err != nil {
		return nil, err
	}
	p, ds, err := s.cfg.Store.AddParticipant(c.ctx, store.NewParticipant{
		ConversationSid: a.ConversationSid, Type: nonChatType(a.ProxyAddress, a.Address), Attributes: attrs,
		Address: a.Address, ProxyAddress: a.ProxyAddress, Bindings: bindings, Max: s.cfg.MaxParticipants})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, convNotFound(a.ConversationSid)
	case errors.Is(err, store.ErrConflict):
		return nil, wire.Errorf(wire.CodeConflict, "address %q with proxy address %q is already a participant of conversation %q", a.Address, a.ProxyAddress, a.ConversationSid)
	case errors.Is(err, store.ErrTooManyParticipants):
		return nil, wire.Errorf(wire.CodeTooManyMembers, "conversation %q has reached its limit of %d participants", a.ConversationSid, s.cfg.MaxParticipants)
	case err != nil:
		return nil, err
	}
	s.hub.deliver(ds)
	return p, nil
}

// target loads the participant an op names (by sid, or by identity when allowed) and
// checks that the caller is that participant or the conversation's creator.
func (s *Server) target(c *call, conv, participantSid, identity string) (wire.Participant, error) {
	convo, _, err := s.access(c.ctx, c.identity, conv)
	if err != nil {
		return wire.Participant{}, err
	}
	var p wire.Participant
	switch {
	case participantSid != "" && identity != "":
		return p, wire.Errorf(wire.CodeBadRequest, "give either participantSid or identity, not both")
	case participantSid != "":
		p, err = s.cfg.Store.ParticipantBySid(c.ctx, conv, participantSid)
	case identity != "":
		p, err = s.cfg.Store.Participant(c.ctx, conv, identity)
	default:
		return p, wire.Errorf(wire.CodeBadRequest, "participantSid or identity is required")
	}
	isCreator := convo.CreatedBy == c.identity
	if errors.Is(err, store.ErrNotFound) {
		if !isCreator {
			// Don't tell outsiders who is a participant.
			if _, err := s.cfg.Store.Participant(c.ctx, conv, c.identity); err != nil {
				return p, notParticipant(c.identity, conv)
			}
		}
		return p, wire.Errorf(wire.CodeNotFound, "no such participant in conversation %q", conv)
	}
	if err != nil {
		return p, err
	}
	if !isCreator && (p.Type != wire.ParticipantChat || p.Identity != c.identity) {
		return p, wire.Errorf(wire.CodeForbidden, "only the participant itself or the conversation's creator may do this")
	}
	return p, nil
}

// participantUpdate replaces a participant's attributes: the participant itself or the
// conversation's creator.
func (s *Server) participantUpdate(c *call) (any, error) {
	var a wire.UpdateParticipantArgs
	if err := decodeArgs(c.data, &a); err != nil {
		return nil, err
	}
	if err := required("conversationSid", a.ConversationSid); err != nil {
		return nil, err
	}
	if err := required("participantSid", a.ParticipantSid); err != nil {
		return nil, err
	}
	attrs, err := checkAttributes("attributes", a.Attributes, wire.MaxParticipantAttrsBytes)
	if err != nil {
		return nil, err
	}
	if attrs == nil {
		attrs = json.RawMessage(`{}`)
	}
	if _, err := s.target(c, a.ConversationSid, a.ParticipantSid, ""); err != nil {
		return nil, err
	}
	if err := s.convWrite(a.ConversationSid); err != nil {
		return nil, err
	}
	p, ds, err := s.cfg.Store.UpdateParticipant(c.ctx, a.ConversationSid, a.ParticipantSid, attrs)
	if errors.Is(err, store.ErrNotFound) {
		return nil, wire.Errorf(wire.CodeNotFound, "no such participant in conversation %q", a.ConversationSid)
	}
	if err != nil {
		return nil, err
	}
	s.hub.deliver(ds)
	return p, nil
}

// participantRemove removes a participant: the participant itself or the conversation's
// creator.
func (s *Server) participantRemove(c *call) (any, error) {
	var a wire.RemoveParticipantArgs
	if err := decodeArgs(c.data, &a); err != nil {
		return nil, err
	}
	if err := required("conversationSid", a.ConversationSid); err != nil {
		return nil, err
	}
	p, err := s.target(c, a.ConversationSid, a.ParticipantSid, a.Identity)
	if err != nil {
		return nil, err
	}
	if err := s.convWrite(a.ConversationSid); err != nil {
		return nil, err
	}
	// Removed by someone else (the creator): it may not join again by sid.
	ban := p.Type == wire.ParticipantChat && p.Identity != c.identity
	return s.removeParticipant(c, a.ConversationSid, p.Sid, ban)
}
