package core

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"time"

	"github.com/convo-sdk/convo/wire"
)

// Message is a message of a conversation. One sid maps to one *Message per client.
type Message struct {
	emitter   atomic.Pointer[Emitter] // nil until first used: most cached messages never are
	conv      *Conversation
	sid       string
	data      messageData // guarded by client.mu
	announced bool        // messageAdded was emitted; guarded by client.mu
	media     map[string]*Media
}

// Emitter returns the message's event emitter, created on first use. An emit creates it too,
// so a replay listener added later still receives the latest value.
func (m *Message) Emitter() *Emitter {
	if e := m.emitter.Load(); e != nil {
		return e
	}
	e := m.conv.client.newEmitter()
	if m.emitter.CompareAndSwap(nil, e) {
		return e
	}
	return m.emitter.Load()
}

// On adds fn for event; see Emitter.On.
func (m *Message) On(event string, fn func(args ...any)) (off func()) {
	return m.Emitter().On(event, fn)
}

// Once adds fn for one call of event; see Emitter.Once.
func (m *Message) Once(event string, fn func(args ...any)) (off func()) {
	return m.Emitter().Once(event, fn)
}

// OnWithReplay adds fn after calling it with event's latest arguments; see Emitter.OnWithReplay.
func (m *Message) OnWithReplay(event string, fn func(args ...any)) (off func()) {
	return m.Emitter().OnWithReplay(event, fn)
}

// Emit emits event; see Emitter.Emit.
func (m *Message) Emit(event string, args ...any) bool { return m.Emitter().Emit(event, args...) }

// ListenerCount returns how many listeners event has.
func (m *Message) ListenerCount(event string) int {
	if e := m.emitter.Load(); e != nil {
		return e.ListenerCount(event)
	}
	return 0
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

func (m *Message) snapshot() wire.Message {
	m.conv.client.mu.Lock()
	defer m.conv.client.mu.Unlock()
	return m.data.wire(m.sid, m.conv.sid)
}

// Data returns a copy of the message's fields, read at once.
func (m *Message) Data() wire.Message { return m.snapshot() }

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

// Type returns "text" for every message, media messages included.
func (m *Message) Type() string { return "text" }

// Subject returns the subject of an email-style message, or nil.
func (m *Message) Subject() *string { return m.snapshot().Subject }

// LastUpdatedBy returns who last edited the message, empty if nobody did.
func (m *Message) LastUpdatedBy() string { return m.snapshot().LastUpdatedBy }

// ContentSid returns the content template the message was sent with, if any.
func (m *Message) ContentSid() string { return m.snapshot().ContentSid }

// ContentVariables returns the values the template was filled with.
func (m *Message) ContentVariables() []wire.ContentVariable { return m.snapshot().ContentVariables }

// AggregatedDeliveryReceipt summarises delivery to non-chat recipients; nil when none.
func (m *Message) AggregatedDeliveryReceipt() *wire.AggregatedReceipt { return m.snapshot().Receipts }

// GetParticipant returns the author's participant object.
func (m *Message) GetParticipant(ctx context.Context) (*Participant, error) {
	if sid := m.ParticipantSid(); sid != "" {
		return m.conv.GetParticipantBySid(ctx, sid)
	}
	return m.conv.GetParticipantByIdentity(ctx, m.Author())
}

// Remove deletes the message (its author only).
func (m *Message) Remove(ctx context.Context) error {
	c := m.conv.client
	if err := c.ready(ctx); err != nil {
		return err
	}
	return c.callThenEvents(ctx, wire.OpMessageRemove, wire.MessageRef{ConversationSid: m.conv.sid, MessageSid: m.sid}, nil, resendAfterReconnect)
}

// UpdateBody changes the text (its author only).
func (m *Message) UpdateBody(ctx context.Context, body string) error {
	if err := checkBodySize(body); err != nil {
		return err
	}
	return m.update(ctx, wire.UpdateMessageArgs{Body: &body})
}

// UpdateAttributes replaces the attributes (its author only).
func (m *Message) UpdateAttributes(ctx context.Context, attributes json.RawMessage) error {
	return m.update(ctx, wire.UpdateMessageArgs{Attributes: orEmptyObject(attributes)})
}

func (m *Message) update(ctx context.Context, args wire.UpdateMessageArgs) error {
	c := m.conv.client
	if err := c.ready(ctx); err != nil {
		return err
	}
	args.ConversationSid, args.MessageSid = m.conv.sid, m.sid
	var d wire.Message
	if err := c.callThenEvents(ctx, wire.OpMessageUpdate, args, &d, resendAfterReconnect); err != nil {
		return err
	}
	m.conv.upsertMessage(d)
	return nil
}

// GetDetailedDeliveryReceipts returns the message's per-recipient delivery receipts.
func (m *Message) GetDetailedDeliveryReceipts(ctx context.Context) ([]wire.DetailedReceipt, error) {
	c := m.conv.client
	if err := c.ready(ctx); err != nil {
		return nil, err
	}
	var page wire.ReceiptPage
	err := c.call(ctx, wire.OpMessageReceipts, wire.MessageRef{ConversationSid: m.conv.sid, MessageSid: m.sid}, &page, resendAfterReconnect)
	return page.Items, err
}

// GetChannelMetadata returns what a non-chat channel recorded about the message, or nil.
func (m *Message) GetChannelMetadata(ctx context.Context) (*wire.ChannelMetadata, error) {
	c := m.conv.client
	if err := c.ready(ctx); err != nil {
		return nil, err
	}
	var meta *wire.ChannelMetadata
	err := c.call(ctx, wire.OpMessageChannelMeta, wire.MessageRef{ConversationSid: m.conv.sid, MessageSid: m.sid}, &meta, resendAfterReconnect)
	return meta, err
}

// GetMessageRecipients lists who the (email) message went to.
func (m *Message) GetMessageRecipients(ctx context.Context) ([]wire.Recipient, error) {
	return m.conv.GetMessageRecipients(ctx, m.sid)
}

// GetMessageRecipients lists who an (email) message went to.
func (cv *Conversation) GetMessageRecipients(ctx context.Context, messageSid string) ([]wire.Recipient, error) {
	if err := cv.client.ready(ctx); err != nil {
		return nil, err
	}
	var page wire.RecipientPage
	err := cv.client.call(ctx, wire.OpMessageRecipients, wire.MessageRef{ConversationSid: cv.sid, MessageSid: messageSid}, &page, resendAfterReconnect)
	return page.Items, err
}

// GetMessages returns a page of up to pageSize messages (30 when 0) in ascending index order.
// Backwards (the default) ends the page at anchor, or at the newest message when anchor is
// nil; forward starts it there. PrevPage on the result goes to older messages.
func (cv *Conversation) GetMessages(ctx context.Context, pageSize int, anchor *int64, direction string) (*Paginator[*Message], error) {
	if err := cv.client.ready(ctx); err != nil {
		return nil, err
	}
	if pageSize == 0 {
		pageSize = wire.DefaultMessagePageSize
	}
	if pageSize < 0 || pageSize > wire.MaxPageSize {
		return nil, wire.Errorf(CodeClientArgument, "pageSize must be between 1 and %d, got %d", wire.MaxPageSize, pageSize)
	}
	if direction == "" {
		direction = wire.Backwards
	}
	if direction != wire.Backwards && direction != wire.Forward {
		return nil, wire.Errorf(CodeClientArgument, "direction must be %q or %q, got %q", wire.Backwards, wire.Forward, direction)
	}
	if cv.isLeft() {
		return cv.heldMessages(pageSize, anchor, direction), nil
	}
	args := wire.ListMessagesArgs{ConversationSid: cv.sid, PageSize: pageSize, Anchor: anchor, Direction: direction}
	var page wire.MessagePage
	if err := cv.client.call(ctx, wire.OpMessageList, args, &page, resendAfterReconnect); err != nil {
		return nil, err
	}
	items := make([]*Message, len(page.Items))
	for i, m := range page.Items {
		items[i], _ = cv.upsertMessage(m)
	}
	p := &Paginator[*Message]{Items: items, HasPrevPage: page.HasPrev, HasNextPage: page.HasNext}
	linkMessagePages(p, func(ctx context.Context, anchor int64, direction string) (*Paginator[*Message], error) {
		return cv.GetMessages(ctx, pageSize, &anchor, direction)
	})
	return p, nil
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

func (c *Client) emitMessageAdded(m wire.Message) {
	conv := c.conversation(m.ConversationSid)
	if conv == nil {
		return
	}
	msg, _ := conv.upsertMessage(m)
	if !msg.markAnnounced() {
		return // already announced (a resync overlapping a live event)
	}
	c.mu.Lock()
	if conv.streamLast == nil || *conv.streamLast < m.Index {
		i := m.Index
		conv.streamLast = &i
	}
	c.mu.Unlock()
	// A message from someone typing ends their typing at once.
	if p := conv.participantByIdentity(m.Author); p != nil {
		p.stopTyping()
	}
	c.Emit(EventMessageAdded, msg)
	conv.Emit(ConversationEventMessageAdded, msg)
	c.emitConversationUpdated(conv, []string{wire.ReasonLastMessage})
}
