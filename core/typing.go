package core

import (
	"context"
	"time"

	"github.com/convo-sdk/convo/wire"
)

// Typing tells the other participants that the user is typing. It sends at most one signal
// per wire.TypingThrottle; calls in between do nothing.
func (cv *Conversation) Typing(ctx context.Context) error {
	if err := cv.client.ready(ctx); err != nil {
		return err
	}
	c := cv.client
	c.mu.Lock()
	if time.Since(cv.lastTyping) < wire.TypingThrottle {
		c.mu.Unlock()
		return nil
	}
	cv.lastTyping = time.Now()
	c.mu.Unlock()
	return c.call(ctx, wire.OpConversationTyping, &wire.ConversationRef{ConversationSid: cv.sid}, nil, sendOnce)
}

// typingSignal marks a participant typing and schedules typingEnded.
func (cv *Conversation) typingSignal(sig wire.TypingSignal) {
	p := cv.participantBySid(sig.ParticipantSid)
	if p == nil {
		p = cv.participantByIdentity(sig.Identity)
	}
	if sig.Identity == cv.client.claims.Identity {
		return
	}
	if p != nil {
		p.startTyping()
		return
	}
	// A participant who joined before this client: load the list, then apply the signal.
	c := cv.client
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		if _, err := cv.GetParticipants(c.ctx); err != nil {
			return
		}
		c.events.push(func() {
			if p := cv.participantBySid(sig.ParticipantSid); p != nil {
				p.startTyping()
			}
		})
	}()
}

// IsTyping reports whether the participant is typing now.
func (p *Participant) IsTyping() bool {
	p.conv.client.mu.Lock()
	defer p.conv.client.mu.Unlock()
	return p.typing
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
	ParticipantEventTypingStarted.emit(p.emitter, p)
	EventTypingStarted.emit(c.emitter, p)
	ConversationEventTypingStarted.emit(p.conv.emitter, p)
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
	ParticipantEventTypingEnded.emit(p.emitter, p)
	EventTypingEnded.emit(c.emitter, p)
	ConversationEventTypingEnded.emit(p.conv.emitter, p)
}
