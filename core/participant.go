package core

import (
	"encoding/json"
	"time"

	"github.com/convo-sdk/convo/wire"
)

// Participant is a member of a conversation. One sid maps to one *Participant per client.
type Participant struct {
	*Emitter
	conv *Conversation
	sid  string
	// Guarded by client.mu.
	data        wire.Participant
	typing      bool
	typingTimer *time.Timer
}

func (cv *Conversation) upsertParticipant(p wire.Participant) (*Participant, bool) {
	c := cv.client
	c.mu.Lock()
	defer c.mu.Unlock()
	part, ok := cv.participants[p.Sid]
	if !ok {
		part = &Participant{Emitter: NewEmitter(), conv: cv, sid: p.Sid}
		part.OnListenerPanic = c.OnListenerPanic
		part.OnWarning = c.OnWarning
		cv.participants[p.Sid] = part
	}
	part.data = p
	if p.Identity == c.claims.Identity {
		cv.data.Joined = true
	}
	return part, !ok
}

func (p *Participant) snapshot() wire.Participant {
	p.conv.client.mu.Lock()
	defer p.conv.client.mu.Unlock()
	return p.data
}

// Sid returns the participant's sid.
func (p *Participant) Sid() string { return p.sid }

// Conversation returns the participant's conversation.
func (p *Participant) Conversation() *Conversation { return p.conv }

// Identity returns the participant's identity.
func (p *Participant) Identity() string { return p.snapshot().Identity }

// Type returns "chat" for SDK users.
func (p *Participant) Type() string { return p.snapshot().Type }

// AttributesJSON returns the attributes as JSON ("{}" when unset).
func (p *Participant) AttributesJSON() json.RawMessage { return orEmptyObject(p.snapshot().Attributes) }

// DateCreated returns when the participant joined.
func (p *Participant) DateCreated() time.Time { return p.snapshot().DateCreated }

// DateUpdated returns when the participant last changed.
func (p *Participant) DateUpdated() time.Time { return p.snapshot().DateUpdated }
