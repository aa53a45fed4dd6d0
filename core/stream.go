package core

import (
	"fmt"

	"github.com/convo-sdk/convo/wire"
)

// streamPos is the client's position in its user's event stream.
type streamPos struct {
	epoch  string
	offset uint64
}

// advance checks an event's offset against the stream position: false for one already seen
// (a replay overlapping live delivery), an error for a gap.
func (pos *streamPos) advance(offset uint64) (bool, error) {
	switch {
	case offset <= pos.offset:
		return false, nil
	case offset != pos.offset+1:
		return false, fmt.Errorf("event stream gap: expected offset %d, got %d", pos.offset+1, offset)
	}
	pos.offset = offset
	return true, nil
}

// handleEvent applies one server event to the object model and emits what the application
// sees. It runs on the event goroutine, in stream order.
func (c *Client) handleEvent(name string, data wire.RawJSON) {
	// A redacted conversation or participant event is of a conversation removed since (and
	// a redacted messageAdded or messageUpdated of a message removed since): the removal
	// after it in the stream reports it, and the content is gone.
	switch name {
	case wire.EventConversationJoined:
		var ev wire.ConversationEvent
		if c.decodeEvent(name, data, &ev) && !ev.Redacted {
			ev.Conversation.Joined = true
			conv, isNew := c.upsertConversation(ev.Conversation)
			conv.markStreamHistory(ev.Conversation.LastMessage)
			if isNew {
				EventConversationAdded.emit(c.emitter, conv)
			}
			EventConversationJoined.emit(c.emitter, conv)
		}
	case wire.EventConversationLeft, wire.EventConversationRemoved:
		var ev wire.ConversationRefEvent
		if c.decodeEvent(name, data, &ev) {
			c.dropConversation(ev.ConversationSid)
		}
	case wire.EventConversationUpdated:
		var ev wire.ConversationUpdatedEvent
		if c.decodeEvent(name, data, &ev) && !ev.Redacted {
			var before *int64
			if known := c.conversation(ev.Conversation.Sid); known != nil {
				before = known.LastReadMessageIndex()
			}
			conv, isNew := c.upsertConversation(ev.Conversation)
			if isNew {
				EventConversationAdded.emit(c.emitter, conv)
				return
			}
			// The echo of this client's own read report was already announced locally.
			if len(ev.UpdateReasons) == 1 && ev.UpdateReasons[0] == wire.ReasonLastReadMessageIndex &&
				sameIndex(before, ev.Conversation.LastReadMessageIndex) {
				return
			}
			c.emitConversationUpdated(conv, ev.UpdateReasons)
		}
	case wire.EventParticipantJoined:
		var ev wire.ParticipantEvent
		if c.decodeEvent(name, data, &ev) && !ev.Redacted {
			if conv := c.conversation(ev.Participant.ConversationSid); conv != nil {
				p, _ := conv.upsertParticipant(ev.Participant)
				// The vendor's client loads a conversation's participants silently once
				// the user is in it, so the user's own arrival is no participantJoined.
				if ev.Participant.Identity == c.claims.Identity {
					return
				}
				EventParticipantJoined.emit(c.emitter, p)
				ConversationEventParticipantJoined.emit(conv.emitter, p)
			}
		}
	case wire.EventParticipantLeft:
		var ev wire.ParticipantEvent
		if c.decodeEvent(name, data, &ev) && !ev.Redacted {
			// The user's own departure is the conversationLeft that comes with it.
			if conv := c.conversation(ev.Participant.ConversationSid); conv != nil && ev.Participant.Identity != c.claims.Identity {
				// Its typing, if any, runs out by its timer, as with the vendor.
				p := conv.removeParticipant(ev.Participant)
				EventParticipantLeft.emit(c.emitter, p)
				ConversationEventParticipantLeft.emit(conv.emitter, p)
			}
		}
	case wire.EventParticipantUpdated:
		var ev wire.ParticipantUpdatedEvent
		if c.decodeEvent(name, data, &ev) && !ev.Redacted {
			if conv := c.conversation(ev.Participant.ConversationSid); conv != nil {
				p, _ := conv.upsertParticipant(ev.Participant)
				u := ParticipantUpdate{Participant: p, UpdateReasons: ev.UpdateReasons}
				EventParticipantUpdated.emit(c.emitter, u)
				ConversationEventParticipantUpdated.emit(conv.emitter, u)
				ParticipantEventUpdated.emit(p.emitter, u)
			}
		}
	case wire.EventMessageAdded:
		var ev wire.MessageEvent
		if c.decodeEvent(name, data, &ev) && !ev.Redacted {
			c.emitMessageAdded(ev.Message)
		}
	case wire.EventMessageUpdated:
		var ev wire.MessageUpdatedEvent
		if c.decodeEvent(name, data, &ev) && !ev.Redacted {
			if conv := c.conversation(ev.Message.ConversationSid); conv != nil {
				m, _ := conv.upsertMessage(ev.Message)
				u := MessageUpdate{Message: m, UpdateReasons: ev.UpdateReasons}
				EventMessageUpdated.emit(c.emitter, u)
				ConversationEventMessageUpdated.emit(conv.emitter, u)
				MessageEventUpdated.emit(m.Emitter(), u)
			}
		}
	case wire.EventMessageRemoved:
		var ev wire.MessageEvent
		if c.decodeEvent(name, data, &ev) {
			if conv := c.conversation(ev.Message.ConversationSid); conv != nil {
				m := conv.removeMessage(ev.Message)
				EventMessageRemoved.emit(c.emitter, m)
				ConversationEventMessageRemoved.emit(conv.emitter, m)
			}
		}
	default:
		// A newer server may send events this client does not know; skipping them keeps
		// old clients working.
	}
}

// handleSignal applies an ephemeral signal (typing, user updates).
func (c *Client) handleSignal(name string, data wire.RawJSON) {
	switch name {
	case wire.SignalTyping:
		var sig wire.TypingSignal
		if c.decodeEvent(name, data, &sig) {
			if conv := c.conversation(sig.ConversationSid); conv != nil {
				conv.typingSignal(sig)
			}
		}
	case wire.SignalUserUpdated:
		var sig wire.UserUpdatedSignal
		if c.decodeEvent(name, data, &sig) {
			c.applyUserUpdate(sig.User, sig.UpdateReasons)
		}
	}
}

func (c *Client) decodeEvent(name string, data wire.RawJSON, v wire.Decodable) bool {
	if err := wire.Unmarshal(data, v); err != nil {
		c.opts.Logf("convo: dropping malformed %q event: %v", name, err)
		return false
	}
	return true
}
