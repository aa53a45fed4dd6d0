package server

import (
	"context"
	"encoding/json"
	"errors"
	"time"
	"unicode/utf8"

	"github.com/convo-sdk/convo/server/auth"
	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/wire"
)

// opTimeout bounds one request's work on the server.
const opTimeout = 30 * time.Second

// call is one request as a handler sees it.
type call struct {
	ctx      context.Context
	identity string
	data     json.RawMessage
	conn     *conn // the connection the request came on
}

type handler func(*call) (any, error)

func (s *Server) opTable() map[string]handler {
	return map[string]handler{
		wire.OpConversationCreate: s.conversationCreate,
		wire.OpConversationGet:    s.conversationGet,
		wire.OpConversationPeek:   s.conversationPeek,
		wire.OpConversationList:   s.conversationList,
		wire.OpConversationJoin:   s.conversationJoin,
		wire.OpParticipantAdd:     s.participantAdd,
		wire.OpParticipantList:    s.participantList,
		wire.OpMessageSend:        s.messageSend,
		wire.OpMessageList:        s.messageList,

		wire.OpConversationLeave:  s.conversationLeave,
		wire.OpConversationUpdate: s.conversationUpdate,
		wire.OpConversationDelete: s.conversationDelete,
		wire.OpConversationNotify: s.conversationNotify,
		wire.OpConversationRead:   s.conversationRead,
		wire.OpConversationCounts: s.conversationCounts,
		wire.OpConversationTyping: s.conversationTyping,

		wire.OpParticipantAddNonChat: s.participantAddNonChat,
		wire.OpParticipantUpdate:     s.participantUpdate,
		wire.OpParticipantRemove:     s.participantRemove,

		wire.OpMessageUpdate:      s.messageUpdate,
		wire.OpMessageRemove:      s.messageRemove,
		wire.OpMessageReceipts:    s.messageReceipts,
		wire.OpMessageRecipients:  s.messageRecipients,
		wire.OpMessageChannelMeta: s.messageChannelMetadata,
		wire.OpContentList:        s.contentList,

		wire.OpUserSubscribe:   s.userSubscribe,
		wire.OpUserUnsubscribe: s.userUnsubscribe,
		wire.OpUserUpdate:      s.userUpdate,

		wire.OpMediaURLs:          s.mediaURLs,
		wire.OpPushRegister:       s.pushRegister,
		wire.OpPushUnregister:     s.pushUnregister,
		wire.OpSessionUpdateToken: s.sessionUpdateToken,
	}
}

// handle runs one request and builds its reply.
func (s *Server) handle(c *conn, f *wire.Frame) *wire.Frame {
	h, ok := s.ops[f.Op]
	if !ok {
		return wire.ReplyError(f.ID, wire.Errorf(wire.CodeUnknownOp, "unknown op %q", f.Op))
	}
	s.reqMu.RLock()
	defer s.reqMu.RUnlock()
	if s.closed {
		return wire.ReplyError(f.ID, wire.Errorf(wire.CodeUnavailable, "server is shutting down; reconnect later"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	res, err := h(&call{ctx: ctx, identity: c.identity, data: f.Data, conn: c})
	if err != nil {
		var we *wire.Error
		switch {
		case errors.As(err, &we):
		case errors.Is(err, store.ErrUnavailable):
			// Not the client's fault nor a bug: say so, so it retries (the outbox does).
			c.log.Warn("op failed: database unavailable", "op", f.Op, "err", err)
			we = wire.Errorf(wire.CodeUnavailable, "the database is unreachable; retry shortly")
		default:
			c.log.Error("op failed", "op", f.Op, "err", err)
			we = wire.Errorf(wire.CodeInternal, "internal error in %s; the server log has details", f.Op)
		}
		return wire.ReplyError(f.ID, we)
	}
	reply, err := wire.Reply(f.ID, res)
	if err != nil {
		c.log.Error("encoding reply failed", "op", f.Op, "err", err)
		return wire.ReplyError(f.ID, wire.Errorf(wire.CodeInternal, "internal error in %s", f.Op))
	}
	return reply
}

// ---- argument decoding and validation

func decodeArgs(data json.RawMessage, v any) error {
	if len(data) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return wire.Errorf(wire.CodeBadRequest, "field %q must be of JSON type %s, got %s", te.Field, jsonType(te.Type.Kind().String()), te.Value)
		}
		if errors.As(err, &te) {
			return wire.Errorf(wire.CodeBadRequest, "arguments must be a JSON object, got %s", te.Value)
		}
		return wire.Errorf(wire.CodeBadRequest, "arguments are not valid JSON: %v", err)
	}
	return nil
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "string"
	case "int", "int64", "uint64", "float64":
		return "number"
	case "bool":
		return "boolean"
	case "ptr":
		return "string or null"
	case "slice":
		return "array"
	}
	return "object"
}

func required(field, v string) error {
	if v == "" {
		return wire.Errorf(wire.CodeBadRequest, "%s is required", field)
	}
	return nil
}

func maxChars(field, v string, limit int) error {
	if n := utf8.RuneCountInString(v); n > limit {
		return wire.Errorf(wire.CodeTooLarge, "%s has %d characters; the limit is %d", field, n, limit)
	}
	return nil
}

// checkAttributes enforces the size limit and valid JSON; "null" means none.
func checkAttributes(field string, a json.RawMessage, limit int) (json.RawMessage, error) {
	if len(a) == 0 || string(a) == "null" {
		return nil, nil
	}
	if len(a) > limit {
		return nil, wire.Errorf(wire.CodeTooLarge, "%s are %d bytes of JSON; the limit is %d", field, len(a), limit)
	}
	if !json.Valid(a) {
		return nil, wire.Errorf(wire.CodeBadRequest, "%s must be valid JSON", field)
	}
	return a, nil
}

func checkIdentityArg(field, id string) error {
	if id == "" {
		return wire.Errorf(wire.CodeBadRequest, "%s is required", field)
	}
	if err := maxChars(field, id, wire.MaxIdentityChars); err != nil {
		return err
	}
	if e := auth.CheckIdentity(id); e != nil {
		return wire.Errorf(wire.CodeBadRequest, "%s is invalid: %s", field, e.Message)
	}
	return nil
}

// ---- authorization

// access loads a conversation as the caller sees it (Joined, NotificationLevel and
// LastReadMessageIndex filled) and the caller's participant record in it (nil when the
// caller is not a participant).
func (s *Server) access(ctx context.Context, identity, sid string) (wire.Conversation, *wire.Participant, error) {
	conv, p, err := s.cfg.Store.ConversationView(ctx, sid, identity)
	if errors.Is(err, store.ErrNotFound) {
		return conv, nil, wire.Errorf(wire.CodeNotFound, "conversation %q not found", sid)
	}
	return conv, p, err
}

// member is access for ops only participants may run.
func (s *Server) member(ctx context.Context, identity, sid string) (wire.Conversation, *wire.Participant, error) {
	if err := required("conversationSid", sid); err != nil {
		return wire.Conversation{}, nil, err
	}
	conv, p, err := s.access(ctx, identity, sid)
	if err == nil && p == nil {
		err = notParticipant(identity, sid)
	}
	return conv, p, err
}

func notParticipant(identity, sid string) error {
	return wire.Errorf(wire.CodeForbidden, "%q is not a participant of conversation %q", identity, sid)
}

// ---- conversations

func (s *Server) conversationCreate(c *call) (any, error) {
	var a wire.CreateConversationArgs
	if err := decodeArgs(c.data, &a); err != nil {
		return nil, err
	}
	if err := maxChars("friendlyName", a.FriendlyName, wire.MaxFriendlyNameChars); err != nil {
		return nil, err
	}
	if err := maxChars("uniqueName", a.UniqueName, wire.MaxUniqueNameChars); err != nil {
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
func (s *Server) conversationGet(c *call) (any, error) {
	var a wire.GetConversationArgs
	if err := decodeArgs(c.data, &a); err != nil {
		return nil, err
	}
	sid := a.Sid
	switch {
	case a.Sid != "" && a.UniqueName != "":
		return nil, wire.Errorf(wire.CodeBadRequest, "give either sid or uniqueName, not both")
	case a.Sid == "" && a.UniqueName == "":
		return nil, wire.Errorf(wire.CodeBadRequest, "sid or uniqueName is required")
	case a.UniqueName != "":
		conv, err := s.cfg.Store.ConversationByUniqueName(c.ctx, a.UniqueName)
		if errors.Is(err, store.ErrNotFound) {
			return nil, wire.Errorf(wire.CodeNotFound, "no conversation with uniqueName %q", a.UniqueName)
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
			return nil, wire.Errorf(wire.CodeNotFound, "no conversation with uniqueName %q", a.UniqueName)
		}
		return nil, notParticipant(c.identity, sid)
	}
	return conv, nil
}

// conversationPeek returns a conversation to any authenticated user who knows its sid. Sids
// carry 128 random bits, so knowing one is the capability: this mirrors the vendor, where
// peekConversationBySid followed by join() is how a user enters an existing conversation.
// Unique names are guessable, so peek takes a sid only.
func (s *Server) conversationPeek(c *call) (any, error) {
	var a wire.GetConversationArgs
	if err := decodeArgs(c.data, &a); err != nil {
		return nil, err
	}
	if a.UniqueName != "" {
		return nil, wire.Errorf(wire.CodeBadRequest, "conversation.peek looks up by sid only; use conversation.get for uniqueName")
	}
	if err := required("sid", a.Sid); err != nil {
		return nil, err
	}
	conv, _, err := s.access(c.ctx, c.identity, a.Sid)
	return conv, err
}

func (s *Server) conversationList(c *call) (any, error) {
	var a wire.ListArgs
	if err := decodeArgs(c.data, &a); err != nil {
		return nil, err
	}
	size, err := pageSize(a.PageSize, wire.DefaultConversationPerPage)
	if err != nil {
		return nil, err
	}
	items, next, err := s.cfg.Store.ConversationsOf(c.ctx, c.identity, a.After, size)
	if errors.Is(err, store.ErrBadCursor) {
		return nil, wire.Errorf(wire.CodeBadRequest, "after %q is not a cursor this server returned", a.After)
	}
	if err != nil {
		return nil, err
	}
	for i := range items {
		items[i].Joined = true
	}
	return wire.ConversationPage{Items: items, Next: next}, nil
}

func pageSize(n, def int) (int, error) {
	switch {
	case n == 0:
		return def, nil
	case n < 0 || n > wire.MaxPageSize:
		return 0, wire.Errorf(wire.CodeBadRequest, "pageSize must be between 1 and %d, got %d", wire.MaxPageSize, n)
	}
	return n, nil
}

// conversationJoin adds the caller to a conversation. Like peek it is open to any
// authenticated user who knows the sid (see conversationPeek).
func (s *Server) conversationJoin(c *call) (any, error) {
	var a wire.ConversationRef
	if err := decodeArgs(c.data, &a); err != nil {
		return nil, err
	}
	if err := required("conversationSid", a.ConversationSid); err != nil {
		return nil, err
	}
	return s.addParticipant(c, a.ConversationSid, c.identity, nil, false)
}

// addParticipant adds a chat participant. liftBan: the caller is the conversation's creator,
// who may bring back an identity removed earlier; anyone else gets 40300 for one.
func (s *Server) addParticipant(c *call, sid, identity string, attrs json.RawMessage, liftBan bool) (any, error) {
	p, ds, err := s.cfg.Store.AddParticipant(c.ctx, store.NewParticipant{
		ConversationSid: sid, Identity: identity, Attributes: attrs, Max: s.cfg.MaxParticipants, LiftBan: liftBan})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, wire.Errorf(wire.CodeNotFound, "conversation %q not found", sid)
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

// ---- participants

// participantAdd adds another user. Participants may add, and so may the creator, who may
// not have joined yet.
func (s *Server) participantAdd(c *call) (any, error) {
	var a wire.AddParticipantArgs
	if err := decodeArgs(c.data, &a); err != nil {
		return nil, err
	}
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
	if err := s.convWrite(a.ConversationSid); err != nil {
		return nil, err
	}
	// The creator may bring back someone removed, though not itself (the admin API removed it).
	return s.addParticipant(c, a.ConversationSid, a.Identity, attrs, conv.CreatedBy == c.identity && a.Identity != c.identity)
}

func (s *Server) participantList(c *call) (any, error) {
	var a wire.ConversationRef
	if err := decodeArgs(c.data, &a); err != nil {
		return nil, err
	}
	if _, _, err := s.member(c.ctx, c.identity, a.ConversationSid); err != nil {
		return nil, err
	}
	ps, err := s.cfg.Store.Participants(c.ctx, a.ConversationSid)
	if err != nil {
		return nil, err
	}
	return wire.ParticipantPage{Items: ps}, nil
}

// ---- messages

func (s *Server) messageList(c *call) (any, error) {
	var a wire.ListMessagesArgs
	if err := decodeArgs(c.data, &a); err != nil {
		return nil, err
	}
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
