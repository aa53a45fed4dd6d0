package server

import (
	"errors"
	"os"
	"path/filepath"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/wire"
)

// Conversation ops beyond the basics: update, delete, leave, notification level, read
// horizon, counts, typing.

func convNotFound(sid string) error {
	return wire.Errorf(wire.CodeNotFound, "conversation %q not found", sid)
}

// conversationUpdate changes a conversation's names and attributes; participants and the
// creator, but only the creator may change or clear the unique name (it is how the
// backend and conversation.get find a conversation, so a participant must not take it over).
func (s *Server) conversationUpdate(c *call) (any, error) {
	var a wire.UpdateConversationArgs
	if err := decodeArgs(c.data, &a); err != nil {
		return nil, err
	}
	if a.FriendlyName != nil {
		if err := maxChars("friendlyName", *a.FriendlyName, wire.MaxFriendlyNameChars); err != nil {
			return nil, err
		}
	}
	if a.UniqueName != nil {
		if err := maxChars("uniqueName", *a.UniqueName, wire.MaxUniqueNameChars); err != nil {
			return nil, err
		}
	}
	var attrs []byte
	if a.Attributes != nil {
		var err error
		if attrs, err = checkAttributes("attributes", a.Attributes, wire.MaxConversationAttrsBytes); err != nil {
			return nil, err
		}
		if attrs == nil {
			attrs = []byte("{}") // null clears them
		}
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
	if err := s.convWrite(a.ConversationSid); err != nil {
		return nil, err
	}
	_, ds, err := s.cfg.Store.UpdateConversation(c.ctx, store.ConversationUpdate{
		Sid: a.ConversationSid, FriendlyName: a.FriendlyName, UniqueName: a.UniqueName, Attributes: attrs})
	switch {
	case errors.Is(err, store.ErrConflict):
		return nil, wire.Errorf(wire.CodeConflict, "a conversation with uniqueName %q already exists", *a.UniqueName)
	case errors.Is(err, store.ErrNotFound):
		return nil, convNotFound(a.ConversationSid)
	case err != nil:
		return nil, err
	}
	s.hub.deliver(ds)
	conv, _, err := s.access(c.ctx, c.identity, a.ConversationSid)
	return conv, err
}

// conversationDelete deletes a conversation with everything in it; its creator only.
func (s *Server) conversationDelete(c *call) (any, error) {
	var a wire.ConversationRef
	if err := decodeArgs(c.data, &a); err != nil {
		return nil, err
	}
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
		return nil, convNotFound(a.ConversationSid)
	}
	if err != nil {
		return nil, err
	}
	s.hub.deliver(ds)
	s.removeMediaFiles(media)
	return wire.Empty{}, nil
}

// removeMediaFiles deletes the files of media whose records are gone.
func (s *Server) removeMediaFiles(sids []string) {
	if s.cfg.MediaDir == "" {
		return
	}
	for _, sid := range sids {
		if err := os.Remove(filepath.Join(s.cfg.MediaDir, sid)); err != nil && !errors.Is(err, os.ErrNotExist) {
			s.log.Warn("removing media file failed", "sid", sid, "err", err)
		}
	}
}

// conversationLeave removes the caller from a conversation.
func (s *Server) conversationLeave(c *call) (any, error) {
	var a wire.ConversationRef
	if err := decodeArgs(c.data, &a); err != nil {
		return nil, err
	}
	_, p, err := s.member(c.ctx, c.identity, a.ConversationSid)
	if err != nil {
		return nil, err
	}
	if err := s.convWrite(a.ConversationSid); err != nil {
		return nil, err
	}
	return s.removeParticipant(c, a.ConversationSid, p.Sid, false) // leaving bans nobody
}

// removeParticipant removes a participant; ban keeps a chat participant removed by someone
// else from joining again (docs/PROTOCOL.md).
func (s *Server) removeParticipant(c *call, conv, sid string, ban bool) (any, error) {
	_, ds, err := s.cfg.Store.RemoveParticipant(c.ctx, conv, sid, ban)
	if errors.Is(err, store.ErrNotFound) {
		return nil, wire.Errorf(wire.CodeNotFound, "participant %q not found in conversation %q", sid, conv)
	}
	if err != nil {
		return nil, err
	}
	s.hub.deliver(ds)
	return wire.Empty{}, nil
}

// conversationNotify sets the caller's notification level.
func (s *Server) conversationNotify(c *call) (any, error) {
	var a wire.NotificationLevelArgs
	if err := decodeArgs(c.data, &a); err != nil {
		return nil, err
	}
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
func (s *Server) conversationRead(c *call) (any, error) {
	var a wire.ReadArgs
	if err := decodeArgs(c.data, &a); err != nil {
		return nil, err
	}
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
func (s *Server) conversationCounts(c *call) (any, error) {
	var a wire.ConversationRef
	if err := decodeArgs(c.data, &a); err != nil {
		return nil, err
	}
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
func (s *Server) conversationTyping(c *call) (any, error) {
	var a wire.ConversationRef
	if err := decodeArgs(c.data, &a); err != nil {
		return nil, err
	}
	_, p, err := s.member(c.ctx, c.identity, a.ConversationSid)
	if err != nil {
		return nil, err
	}
	if !s.fx.typingAllowed(a.ConversationSid, c.identity) {
		return wire.Empty{}, nil
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
