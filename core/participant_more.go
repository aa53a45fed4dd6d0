package core

import (
	"context"
	"encoding/json"
	"time"

	"github.com/convo-sdk/convo/wire"
)

// Participant event names.
const (
	ParticipantEventTypingStarted = "typingStarted" // *Participant
	ParticipantEventTypingEnded   = "typingEnded"   // *Participant
	ParticipantEventUpdated       = "updated"       // ParticipantUpdate
)

// RoleSid returns the participant's role sid, possibly empty.
func (p *Participant) RoleSid() string { return p.snapshot().RoleSid }

// LastReadMessageIndex returns the participant's read horizon, nil until set.
func (p *Participant) LastReadMessageIndex() *int64 { return p.snapshot().LastReadMessageIndex }

// LastReadTimestamp returns when the participant last moved its read horizon.
func (p *Participant) LastReadTimestamp() *time.Time { return p.snapshot().LastReadTimestamp }

// BindingsJSON returns the participant's channel bindings as JSON ("{}" when none).
func (p *Participant) BindingsJSON() json.RawMessage { return orEmptyObject(p.snapshot().Bindings) }

// Address returns a non-chat participant's address.
func (p *Participant) Address() string { return p.snapshot().Address }

// ProxyAddress returns the address the conversation uses towards a non-chat participant.
func (p *Participant) ProxyAddress() string { return p.snapshot().ProxyAddress }

// IsTyping reports whether the participant is typing now.
func (p *Participant) IsTyping() bool {
	p.conv.client.mu.Lock()
	defer p.conv.client.mu.Unlock()
	return p.typing
}

// GetUser returns the participant's user (chat participants only), subscribing to it.
func (p *Participant) GetUser(ctx context.Context) (*User, error) {
	id := p.Identity()
	if id == "" {
		return nil, wire.Errorf(CodeClientArgument, "participant %s is a %s participant and has no user", p.sid, p.Type())
	}
	return p.conv.client.GetUser(ctx, id)
}

// Remove removes the participant from its conversation.
func (p *Participant) Remove(ctx context.Context) error {
	return p.conv.RemoveParticipant(ctx, p.sid)
}

// UpdateAttributes replaces the participant's attributes.
func (p *Participant) UpdateAttributes(ctx context.Context, attributes json.RawMessage) error {
	c := p.conv.client
	if err := c.ready(ctx); err != nil {
		return err
	}
	var d wire.Participant
	args := wire.UpdateParticipantArgs{ConversationSid: p.conv.sid, ParticipantSid: p.sid, Attributes: attributes}
	if err := c.callThenEvents(ctx, wire.OpParticipantUpdate, args, &d, true); err != nil {
		return err
	}
	p.conv.upsertParticipant(d)
	return nil
}

// startTyping records a typing signal: typingStarted now, typingEnded after
// wire.TypingTimeout without another signal.
func (p *Participant) startTyping() {
	c := p.conv.client
	c.mu.Lock()
	p.typing = true
	if p.typingTimer != nil {
		p.typingTimer.Stop()
	}
	p.typingTimer = time.AfterFunc(wire.TypingTimeout, func() { c.events.push(p.stopTyping) })
	c.mu.Unlock()
	p.Emit(ParticipantEventTypingStarted, p)
	c.Emit(EventTypingStarted, p)
	p.conv.Emit(ConversationEventTypingStarted, p)
}

// stopTyping ends a typing period, if one is running.
func (p *Participant) stopTyping() {
	c := p.conv.client
	c.mu.Lock()
	was := p.typing
	p.typing = false
	if p.typingTimer != nil {
		p.typingTimer.Stop()
		p.typingTimer = nil
	}
	c.mu.Unlock()
	if !was {
		return
	}
	p.Emit(ParticipantEventTypingEnded, p)
	c.Emit(EventTypingEnded, p)
	p.conv.Emit(ConversationEventTypingEnded, p)
}
