package core

import (
	"encoding/json"
	"time"

	"github.com/convo-sdk/convo/core/wire"
)

// Message is a message of a conversation. One sid maps to one *Message per client.
type Message struct {
	*Emitter
	conv      *Conversation
	sid       string
	data      wire.Message // guarded by client.mu
	announced bool         // messageAdded was emitted; guarded by client.mu
	media     map[string]*Media
}

// markAnnounced records that messageAdded is being emitted and reports whether it was not yet.
func (m *Message) markAnnounced() bool {
	m.conv.client.mu.Lock()
	defer m.conv.client.mu.Unlock()
	if m.announced {
		return false
	}
	m.announced = true
	return true
}

// upsertMessage returns the one object for m.Sid, updated to m, and whether it is new.
func (cv *Conversation) upsertMessage(m wire.Message) (*Message, bool) {
	c := cv.client
	c.mu.Lock()
	defer c.mu.Unlock()
	msg, ok := cv.messages[m.Sid]
	if !ok {
		msg = &Message{Emitter: NewEmitter(), conv: cv, sid: m.Sid}
		msg.OnListenerPanic = c.OnListenerPanic
		msg.OnWarning = c.OnWarning
		cv.messages[m.Sid] = msg
	}
	// JSON decoding gives every message its own copy of strings that thousands of cached
	// messages share: the conversation's sid and a few authors. Keep one of each.
	if m.ConversationSid == cv.sid {
		m.ConversationSid = cv.sid
	}
	m.Author = cv.internLocked(m.Author)
	m.ParticipantSid = cv.internLocked(m.ParticipantSid)
	msg.data = m
	if lm := cv.data.LastMessage; lm == nil || lm.Index < m.Index {
		cv.data.LastMessage = &wire.LastMessage{Index: m.Index, DateCreated: m.DateCreated}
	}
	return msg, !ok
}

// internLocked returns the conversation's shared copy of s. cv.client.mu must be held.
func (cv *Conversation) internLocked(s string) string {
	if s == "" {
		return s
	}
	if v, ok := cv.names[s]; ok {
		return v
	}
	if cv.names == nil {
		cv.names = make(map[string]string)
	}
	cv.names[s] = s
	return s
}

func (m *Message) snapshot() wire.Message {
	m.conv.client.mu.Lock()
	defer m.conv.client.mu.Unlock()
	return m.data
}

// Sid returns the message's sid.
func (m *Message) Sid() string { return m.sid }

// Conversation returns the conversation the message belongs to.
func (m *Message) Conversation() *Conversation { return m.conv }

// Index returns the message's index in its conversation.
func (m *Message) Index() int64 { return m.snapshot().Index }

// Author returns the author's identity.
func (m *Message) Author() string { return m.snapshot().Author }

// Body returns the text, or nil for a message without one.
func (m *Message) Body() *string { return m.snapshot().Body }

// ParticipantSid returns the author's participant sid, if the author is a participant.
func (m *Message) ParticipantSid() string { return m.snapshot().ParticipantSid }

// AttributesJSON returns the attributes as JSON ("{}" when unset).
func (m *Message) AttributesJSON() json.RawMessage { return orEmptyObject(m.snapshot().Attributes) }

// DateCreated returns when the message was stored.
func (m *Message) DateCreated() time.Time { return m.snapshot().DateCreated }

// DateUpdated returns when the message last changed.
func (m *Message) DateUpdated() time.Time { return m.snapshot().DateUpdated }

// Type returns "text" (media messages come later).
func (m *Message) Type() string { return "text" }
