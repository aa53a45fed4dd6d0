package core

import (
	"context"
	"encoding/json"
	"time"

	"github.com/convo-sdk/convo/wire"
)

// More Conversation event names.
const (
	ConversationEventMessageUpdated     = "messageUpdated"     // MessageUpdate
	ConversationEventMessageRemoved     = "messageRemoved"     // *Message
	ConversationEventParticipantLeft    = "participantLeft"    // *Participant
	ConversationEventParticipantUpdated = "participantUpdated" // ParticipantUpdate
	ConversationEventTypingStarted      = "typingStarted"      // *Participant
	ConversationEventTypingEnded        = "typingEnded"        // *Participant
	ConversationEventUpdated            = "updated"            // ConversationUpdate
	ConversationEventRemoved            = "removed"            // *Conversation
)

// Limits are the media limits the vendor SDK reports on Conversation.limits.
type Limits struct {
	MediaAttachmentsCountLimit         int
	MediaAttachmentSizeLimitInMb       int
	MediaAttachmentsTotalSizeLimitInMb int
	EmailHistoriesAllowedContentTypes  []string
	EmailBodiesAllowedContentTypes     []string
}

// Limits returns the media limits the server enforces.
func (cv *Conversation) Limits() Limits {
	mb := wire.DefaultMaxMediaBytes >> 20
	return Limits{
		MediaAttachmentsCountLimit:         wire.MaxMediaPerMessage,
		MediaAttachmentSizeLimitInMb:       mb,
		MediaAttachmentsTotalSizeLimitInMb: mb * wire.MaxMediaPerMessage,
		EmailHistoriesAllowedContentTypes:  []string{"text/html", "text/plain"},
		EmailBodiesAllowedContentTypes:     []string{"text/html", "text/plain"},
	}
}

// State returns the lifecycle state; an active one since creation when the server sent none.
func (cv *Conversation) State() wire.ConversationState {
	d := cv.snapshot()
	if d.State == nil {
		return wire.ConversationState{Current: wire.StateActive, DateUpdated: d.DateCreated}
	}
	return *d.State
}

// NotificationLevel returns "default" or "muted" for the current user.
func (cv *Conversation) NotificationLevel() string {
	if l := cv.snapshot().NotificationLevel; l != "" {
		return l
	}
	return wire.NotificationDefault
}

// LastReadMessageIndex returns the current user's read horizon, nil until first set.
func (cv *Conversation) LastReadMessageIndex() *int64 {
	if i := cv.snapshot().LastReadMessageIndex; i != nil {
		v := *i
		return &v
	}
	return nil
}

// BindingsJSON returns the conversation's channel bindings as JSON ("{}" when none).
func (cv *Conversation) BindingsJSON() json.RawMessage { return orEmptyObject(cv.snapshot().Bindings) }

// Leave removes the current user from the conversation. Leaving one the user is not part of
// does nothing, as with the vendor.
func (cv *Conversation) Leave(ctx context.Context) error {
	if err := cv.client.ready(ctx); err != nil {
		return err
	}
	if cv.Status() != StatusJoined {
		return nil
	}
	return cv.client.callThenEvents(ctx, wire.OpConversationLeave, wire.ConversationRef{ConversationSid: cv.sid}, nil, true)
}

// Delete deletes the conversation (its creator only).
func (cv *Conversation) Delete(ctx context.Context) error {
	if err := cv.client.ready(ctx); err != nil {
		return err
	}
	return cv.client.callThenEvents(ctx, wire.OpConversationDelete, wire.ConversationRef{ConversationSid: cv.sid}, nil, true)
}

// Update changes the fields that are set. A name or unique name set to the value it already
// has, with nothing else, sends nothing, as with the vendor.
func (cv *Conversation) Update(ctx context.Context, args wire.UpdateConversationArgs) error {
	if err := cv.client.ready(ctx); err != nil {
		return err
	}
	if args.Attributes == nil && (args.FriendlyName == nil) != (args.UniqueName == nil) {
		d := cv.snapshot()
		if (args.FriendlyName != nil && *args.FriendlyName == d.FriendlyName) ||
			(args.UniqueName != nil && *args.UniqueName == d.UniqueName) {
			return nil
		}
	}
	args.ConversationSid = cv.sid
	var d wire.Conversation
	if err := cv.client.callThenEvents(ctx, wire.OpConversationUpdate, args, &d, true); err != nil {
		return err
	}
	cv.client.upsertConversation(d)
	return nil
}

// SetUserNotificationLevel sets the current user's notification level ("default" or "muted").
func (cv *Conversation) SetUserNotificationLevel(ctx context.Context, level string) error {
	if level != wire.NotificationDefault && level != wire.NotificationMuted {
		return wire.Errorf(CodeClientArgument, "notification level must be %q or %q, got %q", wire.NotificationDefault, wire.NotificationMuted, level)
	}
	if err := cv.client.ready(ctx); err != nil {
		return err
	}
	var d wire.Conversation
	if err := cv.client.callThenEvents(ctx, wire.OpConversationNotify, wire.NotificationLevelArgs{ConversationSid: cv.sid, Level: level}, &d, true); err != nil {
		return err
	}
	cv.client.upsertConversation(d)
	return nil
}

// GetUnreadMessagesCount asks the server how many messages lie after the read horizon; nil
// while the horizon is unset.
func (cv *Conversation) GetUnreadMessagesCount(ctx context.Context) (*int64, error) {
	counts, err := cv.counts(ctx)
	return counts.Unread, err
}

// GetMessagesCount returns how many messages the conversation has.
func (cv *Conversation) GetMessagesCount(ctx context.Context) (int64, error) {
	counts, err := cv.counts(ctx)
	return counts.Messages, err
}

// GetParticipantsCount returns how many participants the conversation has.
func (cv *Conversation) GetParticipantsCount(ctx context.Context) (int64, error) {
	counts, err := cv.counts(ctx)
	return counts.Participants, err
}

func (cv *Conversation) counts(ctx context.Context) (wire.Counts, error) {
	var counts wire.Counts
	if err := cv.client.ready(ctx); err != nil {
		return counts, err
	}
	if err := cv.client.flushReads(ctx, cv); err != nil {
		return counts, err
	}
	err := cv.client.call(ctx, wire.OpConversationCounts, wire.ConversationRef{ConversationSid: cv.sid}, &counts, true)
	return counts, err
}

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
	return c.call(ctx, wire.OpConversationTyping, wire.ConversationRef{ConversationSid: cv.sid}, nil, false)
}

// AddNonChatParticipant adds an SMS, WhatsApp or email participant.
func (cv *Conversation) AddNonChatParticipant(ctx context.Context, proxyAddress, address string, attributes, bindings json.RawMessage) error {
	if err := cv.client.ready(ctx); err != nil {
		return err
	}
	args := wire.AddNonChatParticipantArgs{ConversationSid: cv.sid, ProxyAddress: proxyAddress, Address: address, Attributes: attributes, Bindings: bindings}
	var p wire.Participant
	if err := cv.client.callThenEvents(ctx, wire.OpParticipantAddNonChat, args, &p, false); err != nil {
		return err
	}
	cv.upsertParticipant(p)
	return nil
}

// RemoveParticipant removes a participant named by identity or by participant sid.
func (cv *Conversation) RemoveParticipant(ctx context.Context, identityOrSid string) error {
	if err := cv.client.ready(ctx); err != nil {
		return err
	}
	args := wire.RemoveParticipantArgs{ConversationSid: cv.sid, Identity: identityOrSid}
	if p := cv.participantBySid(identityOrSid); p != nil {
		args = wire.RemoveParticipantArgs{ConversationSid: cv.sid, ParticipantSid: p.sid}
	}
	return cv.client.callThenEvents(ctx, wire.OpParticipantRemove, args, nil, true)
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

// removeParticipant forgets a participant and returns its object (a fresh one if unknown).
func (cv *Conversation) removeParticipant(d wire.Participant) *Participant {
	p, _ := cv.upsertParticipant(d)
	cv.client.mu.Lock()
	delete(cv.participants, d.Sid)
	if d.Identity == cv.client.claims.Identity {
		cv.data.Joined = false
	}
	cv.client.mu.Unlock()
	return p
}

// removeMessage forgets a message and returns its object as it last was.
func (cv *Conversation) removeMessage(d wire.Message) *Message {
	m, _ := cv.upsertMessage(d)
	cv.client.mu.Lock()
	if _, cached := cv.messages[d.Sid]; cached {
		cv.dropOrderLocked(m)
	}
	delete(cv.messages, d.Sid)
	delete(cv.evicted, d.Sid)
	cv.client.mu.Unlock()
	return m
}

// GetMessageRecipients lists who an (email) message went to.
func (cv *Conversation) GetMessageRecipients(ctx context.Context, messageSid string) ([]wire.Recipient, error) {
	if err := cv.client.ready(ctx); err != nil {
		return nil, err
	}
	var page wire.RecipientPage
	err := cv.client.call(ctx, wire.OpMessageRecipients, wire.MessageRef{ConversationSid: cv.sid, MessageSid: messageSid}, &page, true)
	return page.Items, err
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

func (c *Client) removeConversation(sid string) *Conversation {
	c.mu.Lock()
	defer c.mu.Unlock()
	conv := c.conversations[sid]
	delete(c.conversations, sid)
	return conv
}
