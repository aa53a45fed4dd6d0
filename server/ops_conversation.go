package server

import (
	"errors"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/wire"
)

func (s *Server) conversationCreate(c *call, a wire.CreateConversationArgs) (any, error) {
	if err := maxChars("friendlyName", a.FriendlyName, wire.MaxFriendlyNameChars); err != nil {
		return nil, err
	}
	if err := checkUniqueName(a.UniqueName); err != nil {
		return nil, err
	}
	attrs, err := checkAttributes("attributes", a.Attributes, wire.MaxConversationAttrsBytes)
	if err != nil {
		return nil, err
	}
	conv, err := s.cfg.Store.CreateConversation(c.ctx, store.NewConversation{
		UniqueName: a.UniqueName, FriendlyName: a.FriendlyName, Attributes: attrs, CreatedBy: c.identity})
	if errors.Is(err, store.ErrConflict) {
		return nil, wire.Errorf(wire.CodeConflict, "a conversation with uniqueName %q already exists", a.UniqueName)
	}
	return conv, err
}

// conversationGet returns a conversation to its participants and to its creator (who may
// not have joined yet: the vendor's createConversation does not join).
func (s *Server) conversationGet(c *call, a wire.GetConversationArgs) (any, error) {
	sid := a.Sid
	switch {
	case a.Sid != "" && a.UniqueName != "":
		return nil, wire.Errorf(wire.CodeBadRequest, "give either sid or uniqueName, not both")
	case a.Sid == "" && a.UniqueName == "":
		return nil, wire.Errorf(wire.CodeBadRequest, "sid or uniqueName is required")
	case a.UniqueName != "":
		conv, err := s.cfg.Store.ConversationByUniqueName(c.ctx, a.UniqueName)
		if errors.Is(err, store.ErrNotFound) {
			return nil, errConversationNotFound(a.UniqueName)
		}
		if err != nil {
			return nil, err
		}
		sid = conv.Sid
	}
	conv, p, err := s.access(c.ctx, c.identity, sid)
	if err != nil {
		return nil, err
	}
	if p == nil && conv.CreatedBy != c.identity {
		if a.UniqueName != "" {
			// Unique names can be guessed; the sid is the capability to peek and join, so an
			// outsider asking by name learns nothing, not even that it exists.
			return nil, errConversationNotFound(a.UniqueName)
		}
		return nil, notParticipant(c.identity, sid)
	}
	return conv, nil
}

// conversationPeek returns a conversation to any authenticated user who knows its sid. Sids
// carry 80 random bits (after their creation time), so knowing one is the capability: this mirrors the vendor, where
// peekConversationBySid followed by join() is how a user enters an existing conversation.
// Unique names are guessable, so peek takes a sid only.
func (s *Server) conversationPeek(c *call, a wire.GetConversationArgs) (any, error) {
	if a.UniqueName != "" {
		return nil, wire.Errorf(wire.CodeBadRequest, "conversation.peek looks up by sid only; use conversation.get for uniqueName")
	}
	if err := required("sid", a.Sid); err != nil {
		return nil, err
	}
	conv, _, err := s.access(c.ctx, c.identity, a.Sid)
	return conv, err
}

func (s *Server) conversationList(c *call, a wire.ListArgs) (any, error) {
	size, err := pageSize(a.PageSize, wire.DefaultConversationPerPage)
	if err != nil {
		return nil, err
	}
	items, next, err := s.cfg.Store.ConversationsOf(c.ctx, c.identity, a.After, size)
	if errors.Is(err, store.ErrBadCursor) {
		return nil, badCursor(a.After)
	}
	if err != nil {
		return nil, err
	}
	for i := range items {
		items[i].Joined = true
	}
	return wire.ConversationPage{Items: items, Next: next}, nil
}

// conversationJoin adds the caller to a conversation. Like peek it is open to any
// authenticated user who knows the sid (see conversationPeek).
func (s *Server) conversationJoin(c *call, a wire.ConversationRef) (any, error) {
	if err := required("conversationSid", a.ConversationSid); err != nil {
		return nil, err
	}
	return s.addParticipant(c, a.ConversationSid, c.identity, nil, false)
}

// conversationUpdate changes a conversation's names and attributes; participants and the
// creator, but only the creator may change or clear the unique name (it is how the
// backend and conversation.get find a conversation, so a participant must not take it over).
func (s *Server) conversationUpdate(c *call, a wire.UpdateConversationArgs) (any, error) {
	if err := checkNames(a.FriendlyName, a.UniqueName); err != nil {
		return nil, err
	}
	attrs, err := checkAttributesChange("attributes", a.Attributes, wire.MaxConversationAttrsBytes)
	if err != nil {
		return nil, err
	}
	if err := required("conversationSid", a.ConversationSid); err != nil {
		return nil, err
	}
	cur, p, err := s.access(c.ctx, c.identity, a.ConversationSid)
	if err != nil {
		return nil, err
	}
	isCreator := cur.CreatedBy == c.identity
	if p == nil && !isCreator {
		return nil, notParticipant(c.identity, a.ConversationSid)
	}
	if a.UniqueName != nil && !isCreator {
		return nil, wire.Errorf(wire.CodeForbidden, "only the creator of conversation %q may change its uniqueName", a.ConversationSid)
	}
	if err := s.convWrite(c.ctx, a.ConversationSid); err != nil {
		return nil, err
	}
	_, ds, err := s.cfg.Store.UpdateConversation(c.ctx, store.ConversationUpdate{
		Sid: a.ConversationSid, FriendlyName: a.FriendlyName, UniqueName: a.UniqueName, Attributes: attrs})
	switch {
	case errors.Is(err, store.ErrConflict):
		return nil, wire.Errorf(wire.CodeConflict, "a conversation with uniqueName %q already exists", *a.UniqueName)
	case errors.Is(err, store.ErrNotFound):
		return nil, errConversationNotFound(a.ConversationSid)
	case err != nil:
		return nil, err
	}
	s.hub.deliver(ds)
	conv, _, err := s.access(c.ctx, c.identity, a.ConversationSid)
	return conv, err
}

// conversationDelete deletes a conversation with everything in it; its creator only.
func (s *Server) conversationDelete(c *call, a wire.ConversationRef) (any, error) {
	if err := required("conversationSid", a.ConversationSid); err != nil {
		return nil, err
	}
	conv, _, err := s.access(c.ctx, c.identity, a.ConversationSid)
	if err != nil {
		return nil, err
	}
	if conv.CreatedBy != c.identity {
		return nil, wire.Errorf(wire.CodeForbidden, "only the creator of conversation %q (%q) may delete it", conv.Sid, conv.CreatedBy)
	}
	media, ds, err := s.cfg.Store.DeleteConversation(c.ctx, a.ConversationSid)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errConversationNotFound(a.ConversationSid)
	}
	if err != nil {
		return nil, err
	}
	s.hub.deliver(ds)
	s.removeMediaFiles(media)
	return wire.Empty{}, nil
}

// conversationLeave removes the caller from a conversation.
func (s *Server) conversationLeave(c *call, a wire.ConversationRef) (any, error) {
	_, p, err := s.member(c.ctx, c.identity, a.ConversationSid)
	if err != nil {
		return nil, err
	}
	if err := s.convWrite(c.ctx, a.ConversationSid); err != nil {
		return nil, err
	}
	return s.removeParticipant(c, a.ConversationSid, p.Sid, false) // leaving bans nobody
}

// conversationNotify sets the caller's notification level.
func (s *Server) conversationNotify(c *call, a wire.NotificationLevelArgs) (any, error) {
	if a.Level != wire.NotificationDefault && a.Level != wire.NotificationMuted {
		return nil, wire.Errorf(wire.CodeBadRequest, "level must be %q or %q, got %q", wire.NotificationDefault, wire.NotificationMuted, a.Level)
	}
	if _, _, err := s.member(c.ctx, c.identity, a.ConversationSid); err != nil {
		return nil, err
	}
	conv, ds, err := s.cfg.Store.SetNotificationLevel(c.ctx, a.ConversationSid, c.identity, a.Level)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notParticipant(c.identity, a.ConversationSid)
	}
	if err != nil {
		return nil, err
	}
	s.hub.deliver(ds)
	return conv, nil
}

// conversationRead moves the caller's read horizon.
func (s *Server) conversationRead(c *call, a wire.ReadArgs) (any, error) {
	switch a.Mode {
	case wire.ReadSet:
	case wire.ReadAdvance:
		if a.Index == nil {
			return nil, wire.Errorf(wire.CodeBadRequest, "mode %q needs an index", a.Mode)
		}
	case wire.ReadAll, wire.ReadNone:
		if a.Index != nil {
			return nil, wire.Errorf(wire.CodeBadRequest, "mode %q takes no index", a.Mode)
		}
	default:
		return nil, wire.Errorf(wire.CodeBadRequest, "mode must be one of %q, %q, %q, %q; got %q",
			wire.ReadSet, wire.ReadAdvance, wire.ReadAll, wire.ReadNone, a.Mode)
	}
	if a.Index != nil && *a.Index < 0 {
		return nil, wire.Errorf(wire.CodeBadRequest, "index must be a message index (0 or more), got %d", *a.Index)
	}
	if _, _, err := s.member(c.ctx, c.identity, a.ConversationSid); err != nil {
		return nil, err
	}
	res, ds, err := s.cfg.Store.SetReadHorizon(c.ctx, a.ConversationSid, c.identity, a.Mode, a.Index)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notParticipant(c.identity, a.ConversationSid)
	}
	if err != nil {
		return nil, err
	}
	s.hub.deliver(ds)
	return res, nil
}

// conversationCounts returns the totals and the caller's unread count.
func (s *Server) conversationCounts(c *call, a wire.ConversationRef) (any, error) {
	if _, _, err := s.member(c.ctx, c.identity, a.ConversationSid); err != nil {
		return nil, err
	}
	counts, err := s.cfg.Store.Counts(c.ctx, a.ConversationSid, c.identity)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notParticipant(c.identity, a.ConversationSid)
	}
	return counts, err
}

// conversationTyping signals the other participants' live connections that the caller is
// typing; nothing is stored. Calls within wire.TypingThrottle of the last signal succeed
// without signalling.
func (s *Server) conversationTyping(c *call, a wire.ConversationRef) (any, error) {
	_, p, err := s.member(c.ctx, c.identity, a.ConversationSid)
	if err != nil {
		return nil, err
	}
	if !s.limits.typingAllowed(a.ConversationSid, c.identity) {
		return wire.Empty{}, nil
	}
	if ok, err := s.clusterTake(c.ctx, typingBucket(a.ConversationSid, c.identity), 1/wire.TypingThrottle.Seconds(), 1); err != nil {
		return nil, err
	} else if !ok {
		return wire.Empty{}, nil // signalled through another node within the throttle
	}
	ps, err := s.cfg.Store.Participants(c.ctx, a.ConversationSid)
	if err != nil {
		return nil, err
	}
	others := make([]string, 0, len(ps))
	for _, q := range ps {
		if q.Type == wire.ParticipantChat && q.Identity != c.identity {
			others = append(others, q.Identity)
		}
	}
	s.hub.signal(others, &wire.Frame{Type: wire.TypeSignal, Event: wire.SignalTyping, Data: mustJSON(wire.TypingSignal{
		ConversationSid: a.ConversationSid, ParticipantSid: p.Sid, Identity: c.identity})})
	return wire.Empty{}, nil
}
