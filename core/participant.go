package core

import (
	"context"
	"time"

	"github.com/convo-sdk/convo/wire"
)

// Participant is a member of a conversation. One sid maps to one *Participant per client.
type Participant struct {
	emitter *Emitter
	conv    *Conversation
	sid     string
	// Guarded by client.mu.
	data        wire.Participant
	typing      bool
	typingTimer *time.Timer
}

// Emitter returns the participant's string-named emitter, for bindings; see EventSource.
func (p *Participant) Emitter() *Emitter { return p.emitter }

func (cv *Conversation) upsertParticipant(p wire.Participant) (*Participant, bool) {
	c := cv.client
	c.mu.Lock()
	defer c.mu.Unlock()
	part, ok := cv.participants[p.Sid]
	if !ok {
		part = &Participant{emitter: c.newEmitter(), conv: cv, sid: p.Sid}
		cv.participants[p.Sid] = part
	}
	part.data = p
	if p.Identity == c.claims.Identity {
		cv.data.Joined = true
	}
	c.touchLocked(cv.sid)
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
func (p *Participant) AttributesJSON() wire.RawJSON { return orEmptyObject(p.snapshot().Attributes) }

// DateCreated returns when the participant joined.
func (p *Participant) DateCreated() time.Time { return p.snapshot().DateCreated }

// DateUpdated returns when the participant last changed.
func (p *Participant) DateUpdated() time.Time { return p.snapshot().DateUpdated }

// RoleSid returns the participant's role sid, possibly empty.
func (p *Participant) RoleSid() string { return p.snapshot().RoleSid }

// LastReadMessageIndex returns the participant's read horizon, nil until set.
func (p *Participant) LastReadMessageIndex() *int64 { return p.snapshot().LastReadMessageIndex }

// LastReadTimestamp returns when the participant last moved its read horizon.
func (p *Participant) LastReadTimestamp() *time.Time { return p.snapshot().LastReadTimestamp }

// BindingsJSON returns the participant's channel bindings as JSON ("{}" when none).
func (p *Participant) BindingsJSON() wire.RawJSON { return orEmptyObject(p.snapshot().Bindings) }

// Address returns a non-chat participant's address.
func (p *Participant) Address() string { return p.snapshot().Address }

// ProxyAddress returns the address the conversation uses towards a non-chat participant.
func (p *Participant) ProxyAddress() string { return p.snapshot().ProxyAddress }

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
func (p *Participant) UpdateAttributes(ctx context.Context, attributes wire.RawJSON) error {
	c := p.conv.client
	if err := c.ready(ctx); err != nil {
		return err
	}
	var d wire.Participant
	args := wire.UpdateParticipantArgs{ConversationSid: p.conv.sid, ParticipantSid: p.sid, Attributes: attributes}
	return c.callThenEvents(ctx, wire.OpParticipantUpdate, &args, &d, resendAfterReconnect, func() { p.conv.upsertParticipant(d) })
}

// Add makes identity a participant. attributes may be nil.
func (cv *Conversation) Add(ctx context.Context, identity string, attributes wire.RawJSON) error {
	if err := cv.client.ready(ctx); err != nil {
		return err
	}
	var p wire.Participant
	args := wire.AddParticipantArgs{ConversationSid: cv.sid, Identity: identity, Attributes: attributes}
	return cv.client.callThenEvents(ctx, wire.OpParticipantAdd, &args, &p, sendOnce, func() { cv.upsertParticipant(p) })
}

// AddNonChatParticipant adds an SMS, WhatsApp or email participant.
func (cv *Conversation) AddNonChatParticipant(ctx context.Context, proxyAddress, address string, attributes, bindings wire.RawJSON) error {
	if err := cv.client.ready(ctx); err != nil {
		return err
	}
	args := wire.AddNonChatParticipantArgs{ConversationSid: cv.sid, ProxyAddress: proxyAddress, Address: address, Attributes: attributes, Bindings: bindings}
	var p wire.Participant
	return cv.client.callThenEvents(ctx, wire.OpParticipantAddNonChat, &args, &p, sendOnce, func() { cv.upsertParticipant(p) })
}

// GetParticipants returns the conversation's participants.
func (cv *Conversation) GetParticipants(ctx context.Context) ([]*Participant, error) {
	if err := cv.client.ready(ctx); err != nil {
		return nil, err
	}
	if cv.isLeft() {
		return cv.heldParticipants(), nil
	}
	var page wire.ParticipantPage
	if err := cv.client.call(ctx, wire.OpParticipantList, &wire.ConversationRef{ConversationSid: cv.sid}, &page, resendAfterReconnect); err != nil {
		if wire.CodeOf(err) == CodeClientOffline { // offline: what the client holds
			return cv.heldParticipants(), nil
		}
		return nil, err
	}
	out := make([]*Participant, len(page.Items))
	for i, p := range page.Items {
		out[i], _ = cv.upsertParticipant(p)
	}
	return out, nil
}

// GetParticipantBySid returns a participant, loading the list when it is not known yet.
func (cv *Conversation) GetParticipantBySid(ctx context.Context, sid string) (*Participant, error) {
	return cv.findParticipant(ctx, func(p *Participant) bool { return p.sid == sid }, "sid", sid)
}

// GetParticipantByIdentity returns a participant, loading the list when it is not known yet.
func (cv *Conversation) GetParticipantByIdentity(ctx context.Context, identity string) (*Participant, error) {
	return cv.findParticipant(ctx, func(p *Participant) bool { return p.Identity() == identity }, "identity", identity)
}

func (cv *Conversation) findParticipant(ctx context.Context, match func(*Participant) bool, field, value string) (*Participant, error) {
	ps, err := cv.GetParticipants(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		if match(p) {
			return p, nil
		}
	}
	return nil, wire.Errorf(wire.CodeNotFound, "conversation %s has no participant with %s %q", cv.sid, field, value)
}

func (cv *Conversation) participantBySid(sid string) *Participant {
	cv.client.mu.Lock()
	defer cv.client.mu.Unlock()
	return cv.participants[sid]
}

func (cv *Conversation) participantByIdentity(identity string) *Participant {
	cv.client.mu.Lock()
	defer cv.client.mu.Unlock()
	for _, p := range cv.participants {
		if p.data.Identity == identity {
			return p
		}
	}
	return nil
}

// RemoveParticipant removes a participant named by identity or by participant sid. Which
// one it is follows from its shape (wire.LooksLikeSid): the server refuses identities of a
// sid's shape, so a sid-shaped string is only ever a sid.
func (cv *Conversation) RemoveParticipant(ctx context.Context, identityOrSid string) error {
	if err := cv.client.ready(ctx); err != nil {
		return err
	}
	args := wire.RemoveParticipantArgs{ConversationSid: cv.sid, Identity: identityOrSid}
	if wire.LooksLikeSid(identityOrSid) {
		args = wire.RemoveParticipantArgs{ConversationSid: cv.sid, ParticipantSid: identityOrSid}
	}
	return cv.client.callThenEvents(ctx, wire.OpParticipantRemove, &args, nil, resendRemoval, nil)
}

// removeParticipant forgets a participant and returns its object (a fresh one if unknown).
func (cv *Conversation) removeParticipant(d wire.Participant) *Participant {
	p, _ := cv.upsertParticipant(d)
	cv.client.mu.Lock()
	delete(cv.participants, d.Sid)
	if d.Identity == cv.client.claims.Identity {
		cv.data.Joined = false
	}
	cv.client.touchLocked(cv.sid)
	cv.client.mu.Unlock()
	return p
}
