package server

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/wire"
)

// opTimeout bounds one request's work on the server.
const opTimeout = 30 * time.Second

// call is one request as a handler sees it.
type call struct {
	ctx      context.Context
	identity string
	data     wire.RawJSON
	conn     *conn // the connection the request came on
}

// handler runs one op.
type handler func(*call) (any, error)

// op adapts an op taking its arguments decoded: the request's data is decoded into an A
// here, once for every op, and a request whose data does not decode as A is refused with
// CodeBadRequest before fn runs. Empty data leaves A zero.
func op[A any](fn func(*call, A) (any, error)) handler {
	return func(c *call) (any, error) {
		var a A
		if err := decodeArgs(c.data, &a); err != nil {
			return nil, err
		}
		return fn(c, a)
	}
}

// opTable maps every op to its handler (ops_<entity>.go).
func (s *Server) opTable() map[string]handler {
	return map[string]handler{
		wire.OpConversationCreate: op(s.conversationCreate),
		wire.OpConversationGet:    op(s.conversationGet),
		wire.OpConversationPeek:   op(s.conversationPeek),
		wire.OpConversationList:   op(s.conversationList),
		wire.OpConversationJoin:   op(s.conversationJoin),
		wire.OpConversationLeave:  op(s.conversationLeave),
		wire.OpConversationUpdate: op(s.conversationUpdate),
		wire.OpConversationDelete: op(s.conversationDelete),
		wire.OpConversationNotify: op(s.conversationNotify),
		wire.OpConversationRead:   op(s.conversationRead),
		wire.OpConversationCounts: op(s.conversationCounts),
		wire.OpConversationTyping: op(s.conversationTyping),

		wire.OpParticipantAdd:        op(s.participantAdd),
		wire.OpParticipantAddNonChat: op(s.participantAddNonChat),
		wire.OpParticipantList:       op(s.participantList),
		wire.OpParticipantUpdate:     op(s.participantUpdate),
		wire.OpParticipantRemove:     op(s.participantRemove),

		wire.OpMessageSend:        op(s.messageSend),
		wire.OpMessageList:        op(s.messageList),
		wire.OpMessageUpdate:      op(s.messageUpdate),
		wire.OpMessageRemove:      op(s.messageRemove),
		wire.OpMessageReceipts:    op(s.messageReceipts),
		wire.OpMessageRecipients:  op(s.messageRecipients),
		wire.OpMessageChannelMeta: op(s.messageChannelMetadata),

		wire.OpContentList: op(s.contentList),
		wire.OpMediaURLs:   op(s.mediaURLs),

		wire.OpUserSubscribe:   op(s.userSubscribe),
		wire.OpUserUnsubscribe: op(s.userUnsubscribe),
		wire.OpUserUpdate:      op(s.userUpdate),

		wire.OpPushRegister:   op(s.pushRegister),
		wire.OpPushUnregister: op(s.pushUnregister),

		wire.OpSessionUpdateToken: op(s.sessionUpdateToken),
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
		case storeOutage(err) != nil:
			// Not the client's fault nor a bug: say so, so it retries (the outbox does).
			we = storeOutage(err)
			c.log.Warn("op failed: "+we.Message, "op", f.Op, "err", err)
		default:
			c.log.Error("op failed", "op", f.Op, "err", err)
			we = wire.Errorf(wire.CodeInternal, "internal error in %s; the server log has details", f.Op)
		}
		return wire.ReplyError(f.ID, we)
	}
	reply, err := encodeReply(f.ID, res)
	if err != nil {
		c.log.Error("encoding reply failed", "op", f.Op, "err", err)
		return wire.ReplyError(f.ID, wire.Errorf(wire.CodeInternal, "internal error in %s", f.Op))
	}
	return reply
}

// encodeReply builds the reply frame for an op's result. Handlers return wire values or raw
// JSON; encoding/json without HTML escaping writes the bytes the generated codec would
// (wire's tests hold the two equal).
func encodeReply(id uint64, res any) (*wire.Frame, error) {
	if res == nil {
		return wire.Reply(id, nil)
	}
	b, err := marshalJSON(res)
	if err != nil {
		return nil, err
	}
	return wire.Reply(id, b)
}

func decodeArgs(data wire.RawJSON, v any) error {
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

// access loads a conversation as the caller sees it (Joined, NotificationLevel and
// LastReadMessageIndex filled) and the caller's participant record in it (nil when the
// caller is not a participant).
func (s *Server) access(ctx context.Context, identity, sid string) (wire.Conversation, *wire.Participant, error) {
	conv, p, err := s.cfg.Store.ConversationView(ctx, sid, identity)
	if errors.Is(err, store.ErrNotFound) {
		return conv, nil, errConversationNotFound(sid)
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
