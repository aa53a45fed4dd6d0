package server

import (
	"errors"
	"strings"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/wire"
)

// participantAdd adds another user. Participants may add, and so may the creator, who may
// not have joined yet.
func (s *Server) participantAdd(c *call, a wire.AddParticipantArgs) (any, error) {
	if err := required("conversationSid", a.ConversationSid); err != nil {
		return nil, err
	}
	if err := checkIdentityArg("identity", a.Identity); err != nil {
		return nil, err
	}
	attrs, err := checkAttributes("attributes", a.Attributes, wire.MaxParticipantAttrsBytes)
	if err != nil {
		return nil, err
	}
	conv, p, err := s.access(c.ctx, c.identity, a.ConversationSid)
	if err != nil {
		return nil, err
	}
	if p == nil && conv.CreatedBy != c.identity {
		return nil, notParticipant(c.identity, a.ConversationSid)
	}
	if err := s.convWrite(c.ctx, a.ConversationSid); err != nil {
		return nil, err
	}
	// The creator may bring back someone removed, though not itself (the admin API removed it).
	return s.addParticipant(c, a.ConversationSid, a.Identity, attrs, conv.CreatedBy == c.identity && a.Identity != c.identity)
}

func (s *Server) participantList(c *call, a wire.ConversationRef) (any, error) {
	if _, _, err := s.member(c.ctx, c.identity, a.ConversationSid); err != nil {
		return nil, err
	}
	ps, err := s.cfg.Store.Participants(c.ctx, a.ConversationSid)
	if err != nil {
		return nil, err
	}
	return wire.ParticipantPage{Items: ps}, nil
}

// addParticipant adds a chat participant. liftBan: the caller is the conversation's creator,
// who may bring back an identity removed earlier; anyone else gets 40300 for one.
func (s *Server) addParticipant(c *call, sid, identity string, attrs wire.RawJSON, liftBan bool) (any, error) {
	p, ds, err := s.cfg.Store.AddParticipant(c.ctx, store.NewParticipant{
		ConversationSid: sid, Identity: identity, Attributes: attrs, Max: s.cfg.MaxParticipants, LiftBan: liftBan})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, errConversationNotFound(sid)
	case errors.Is(err, store.ErrRemoved) && identity == c.identity:
		return nil, wire.Errorf(wire.CodeForbidden, "you were removed from conversation %q and cannot join it again; only its creator or the admin API can add you back", sid)
	case errors.Is(err, store.ErrRemoved):
		return nil, wire.Errorf(wire.CodeForbidden, "%q was removed from conversation %q; only its creator or the admin API can add them back", identity, sid)
	case errors.Is(err, store.ErrConflict):
		return nil, wire.Errorf(wire.CodeConflict, "%q is already a participant of conversation %q", identity, sid)
	case errors.Is(err, store.ErrTooManyParticipants):
		return nil, wire.Errorf(wire.CodeTooManyMembers, "conversation %q has reached its limit of %d participants", sid, s.cfg.MaxParticipants)
	case err != nil:
		return nil, err
	}
	s.hub.deliver(ds)
	return p, nil
}

// participantAddNonChat adds an SMS, WhatsApp or email participant; participants and the
// creator.
func (s *Server) participantAddNonChat(c *call, a wire.AddNonChatParticipantArgs) (any, error) {
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
	if err := s.convWrite(c.ctx, a.ConversationSid); err != nil {
		return nil, err
	}
	p, ds, err := s.cfg.Store.AddParticipant(c.ctx, store.NewParticipant{
		ConversationSid: a.ConversationSid, Type: nonChatType(a.ProxyAddress, a.Address), Attributes: attrs,
		Address: a.Address, ProxyAddress: a.ProxyAddress, Bindings: bindings, Max: s.cfg.MaxParticipants})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, errConversationNotFound(a.ConversationSid)
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

// participantUpdate replaces a participant's attributes: the participant itself or the
// conversation's creator.
func (s *Server) participantUpdate(c *call, a wire.UpdateParticipantArgs) (any, error) {
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
		attrs = wire.RawJSON(`{}`)
	}
	if _, err := s.target(c, a.ConversationSid, a.ParticipantSid, ""); err != nil {
		return nil, err
	}
	if err := s.convWrite(c.ctx, a.ConversationSid); err != nil {
		return nil, err
	}
	p, ds, err := s.cfg.Store.UpdateParticipant(c.ctx, a.ConversationSid, a.ParticipantSid, attrs)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errParticipantNotFound(a.ConversationSid, a.ParticipantSid)
	}
	if err != nil {
		return nil, err
	}
	s.hub.deliver(ds)
	return p, nil
}

// participantRemove removes a participant: the participant itself or the conversation's
// creator.
func (s *Server) participantRemove(c *call, a wire.RemoveParticipantArgs) (any, error) {
	if err := required("conversationSid", a.ConversationSid); err != nil {
		return nil, err
	}
	p, err := s.target(c, a.ConversationSid, a.ParticipantSid, a.Identity)
	if err != nil {
		return nil, err
	}
	if err := s.convWrite(c.ctx, a.ConversationSid); err != nil {
		return nil, err
	}
	// Removed by someone else (the creator): it may not join again by sid.
	ban := p.Type == wire.ParticipantChat && p.Identity != c.identity
	return s.removeParticipant(c, a.ConversationSid, p.Sid, ban)
}

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
		return p, errParticipantNotFound(conv, participantSid+identity)
	}
	if err != nil {
		return p, err
	}
	if !isCreator && (p.Type != wire.ParticipantChat || p.Identity != c.identity) {
		return p, wire.Errorf(wire.CodeForbidden, "only the participant itself or the conversation's creator may do this")
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

// removeParticipant removes a participant; ban keeps a chat participant removed by someone
// else from joining again (docs/PROTOCOL.md).
func (s *Server) removeParticipant(c *call, conv, sid string, ban bool) (any, error) {
	_, ds, err := s.cfg.Store.RemoveParticipant(c.ctx, conv, sid, ban)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errParticipantNotFound(conv, sid)
	}
	if err != nil {
		return nil, err
	}
	s.hub.deliver(ds)
	return wire.Empty{}, nil
}
