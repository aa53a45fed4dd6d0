package core

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/convo-sdk/convo/internal/jsonc"
	"github.com/convo-sdk/convo/wire"
)

// Message is a message of a conversation. One sid maps to one *Message per client.
//
// A client caches up to MessageCacheSize of them per conversation, so the struct is kept to
// the 112-byte size class: what few messages use lives behind ext and data.rare.
type Message struct {
	ext       atomic.Pointer[messageExt] // nil until first used: most cached messages never are
	conv      *Conversation
	sidHex    messageSid  // the sid, unless oddSid (see messageSid)
	data      messageData // guarded by client.mu
	announced bool        // messageAdded was emitted; guarded by client.mu
	oddSid    bool        // the sid is not of the packable form: it is ext.sid
	bindingID int32       // see BindingID
}

// messageExt is what a message gets once an app listens to it or reads its media.
type messageExt struct {
	emitter *Emitter
	media   map[string]*Media // one *Media per sid; guarded by client.mu
	sid     string            // for a message with oddSid, set when the message is made
}

// extension returns m.ext, creating it on first use.
func (m *Message) extension() *messageExt {
	if x := m.ext.Load(); x != nil {
		return x
	}
	x := &messageExt{emitter: m.conv.client.newEmitter()}
	if m.ext.CompareAndSwap(nil, x) {
		return x
	}
	return m.ext.Load()
}

// Emitter returns the message's string-named emitter, for bindings (see EventSource), created
// on first use. An emit creates it too, so a replay listener added later still receives the
// latest value.
func (m *Message) Emitter() *Emitter { return m.extension().emitter }

// ListenerCount returns how many listeners event has, without creating the emitter.
func (m *Message) ListenerCount(event string) int {
	if x := m.ext.Load(); x != nil {
		return x.emitter.ListenerCount(event)
	}
	return 0
}

// BindingID is a slot for a binding's handle on the message (jsapi keeps the id of the
// message's JS wrapper here, so a cached message needs no map entry for it). Core never reads
// it; the binding guards it with its own lock.
func (m *Message) BindingID() *int32 { return &m.bindingID }

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
	return m.data.wire(m.Sid(), m.conv.sid)
}

// MessageFields are the fields of a message that a listener reads first, read at once.
type MessageFields struct {
	Index                    int64
	Author, ParticipantSid   string
	Body                     *string
	DateCreated, DateUpdated time.Time
}

// Fields returns the message's index, author, participant sid, body and dates, read at once.
func (m *Message) Fields() MessageFields {
	m.conv.client.mu.Lock()
	defer m.conv.client.mu.Unlock()
	d := &m.data
	return MessageFields{Index: d.Index, Author: d.Author, ParticipantSid: d.ParticipantSid, Body: d.Body,
		DateCreated: d.created.time(), DateUpdated: d.updated.time()}
}

// Sid returns the message's sid.
func (m *Message) Sid() string {
	if m.oddSid {
		return m.ext.Load().sid
	}
	return m.sidHex.String()
}

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
func (m *Message) AttributesJSON() wire.RawJSON { return orEmptyObject(m.snapshot().Attributes) }

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
func (m *Message) ContentVariables() []ContentVariable {
	return contentVariablesOf(m.snapshot().ContentVariables)
}

// AggregatedDeliveryReceipt summarises the delivery of a message to its non-chat recipients:
// how many there are and, per delivery status, whether "none", "some" or "all" reached it.
type AggregatedDeliveryReceipt struct {
	Total       int
	Sent        string
	Delivered   string
	Read        string
	Undelivered string
	Failed      string
}

// AggregatedDeliveryReceipt summarises delivery to non-chat recipients; nil when none.
func (m *Message) AggregatedDeliveryReceipt() *AggregatedDeliveryReceipt {
	r := m.snapshot().Receipts
	if r == nil {
		return nil
	}
	copied := AggregatedDeliveryReceipt(*r)
	return &copied
}

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
	return c.callThenEvents(ctx, wire.OpMessageRemove, &wire.MessageRef{ConversationSid: m.conv.sid, MessageSid: m.Sid()}, nil, resendRemoval, nil)
}

// UpdateBody changes the text (its author only).
func (m *Message) UpdateBody(ctx context.Context, body string) error {
	if err := checkBodySize(body); err != nil {
		return err
	}
	return m.update(ctx, wire.UpdateMessageArgs{Body: &body})
}

// UpdateAttributes replaces the attributes (its author only).
func (m *Message) UpdateAttributes(ctx context.Context, attributes wire.RawJSON) error {
	return m.update(ctx, wire.UpdateMessageArgs{Attributes: orEmptyObject(attributes)})
}

func (m *Message) update(ctx context.Context, args wire.UpdateMessageArgs) error {
	c := m.conv.client
	if err := c.ready(ctx); err != nil {
		return err
	}
	args.ConversationSid, args.MessageSid = m.conv.sid, m.Sid()
	var d wire.Message
	return c.callThenEvents(ctx, wire.OpMessageUpdate, &args, &d, resendAfterReconnect, func() { m.conv.upsertMessage(d) })
}

// DetailedDeliveryReceipt is the delivery of a message to one non-chat recipient.
type DetailedDeliveryReceipt struct {
	Sid               string
	MessageSid        string
	ConversationSid   string
	ChannelMessageSid string
	ParticipantSid    string
	Status            string // "sent", "delivered", "read", "undelivered" or "failed"
	ErrorCode         int
	DateCreated       time.Time
	DateUpdated       time.Time
}

// GetDetailedDeliveryReceipts returns the message's per-recipient delivery receipts.
func (m *Message) GetDetailedDeliveryReceipts(ctx context.Context) ([]DetailedDeliveryReceipt, error) {
	c := m.conv.client
	if err := c.ready(ctx); err != nil {
		return nil, err
	}
	var page wire.ReceiptPage
	err := c.call(ctx, wire.OpMessageReceipts, &wire.MessageRef{ConversationSid: m.conv.sid, MessageSid: m.Sid()}, &page, resendAfterReconnect)
	return convertAll(page.Items, func(r wire.DetailedReceipt) DetailedDeliveryReceipt { return DetailedDeliveryReceipt(r) }), err
}

// ChannelMetadata is what a non-chat channel recorded about a message: the channel type and
// its data as JSON.
type ChannelMetadata struct {
	Type string
	Data wire.RawJSON
}

// GetChannelMetadata returns what a non-chat channel recorded about the message, or nil.
func (m *Message) GetChannelMetadata(ctx context.Context) (*ChannelMetadata, error) {
	c := m.conv.client
	if err := c.ready(ctx); err != nil {
		return nil, err
	}
	var meta optChannelMetadata
	err := c.call(ctx, wire.OpMessageChannelMeta, &wire.MessageRef{ConversationSid: m.conv.sid, MessageSid: m.Sid()}, &meta, resendAfterReconnect)
	return (*ChannelMetadata)(meta.v), err
}

// optChannelMetadata decodes a channel metadata reply, which is null for a chat message.
type optChannelMetadata struct{ v *wire.ChannelMetadata }

func (o *optChannelMetadata) DecodeJSON(d *jsonc.Decoder) {
	if d.Null() {
		o.v = nil
		return
	}
	o.v = new(wire.ChannelMetadata)
	o.v.DecodeJSON(d)
}

// Recipient is one recipient of a (non-chat) message. Type is "email" for an email
// recipient, described by Level ("to" or "cc"), Name and Address; any other type carries what
// the channel recorded in RawData.
type Recipient struct {
	Type       string
	MessageSid string
	Level      string
	Name       string
	Address    string
	RawData    wire.RawJSON
}

// GetMessageRecipients lists who the (email) message went to.
func (m *Message) GetMessageRecipients(ctx context.Context) ([]Recipient, error) {
	return m.conv.GetMessageRecipients(ctx, m.Sid())
}

// GetMessageRecipients lists who an (email) message went to.
func (cv *Conversation) GetMessageRecipients(ctx context.Context, messageSid string) ([]Recipient, error) {
	if err := cv.client.ready(ctx); err != nil {
		return nil, err
	}
	var page wire.RecipientPage
	err := cv.client.call(ctx, wire.OpMessageRecipients, &wire.MessageRef{ConversationSid: cv.sid, MessageSid: messageSid}, &page, resendAfterReconnect)
	return convertAll(page.Items, func(r wire.Recipient) Recipient { return Recipient(r) }), err
}

// Direction says which way a page of messages runs from its anchor.
type Direction string

// The directions of GetMessages.
const (
	Backwards Direction = wire.Backwards // the page ends at the anchor (or the newest message)
	Forward   Direction = wire.Forward   // the page starts at the anchor
)

// GetMessages returns a page of up to pageSize messages (30 when 0) in ascending index order.
// Backwards (the default, also for "") ends the page at anchor, or at the newest message when
// anchor is nil; Forward starts it there. PrevPage on the result goes to older messages.
func (cv *Conversation) GetMessages(ctx context.Context, pageSize int, anchor *int64, direction Direction) (*Paginator[*Message], error) {
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
		direction = Backwards
	}
	if direction != Backwards && direction != Forward {
		return nil, wire.Errorf(CodeClientArgument, "direction must be %q or %q, got %q", Backwards, Forward, direction)
	}
	select { // a start from the local store puts its messages in place just after initialized
	case <-cv.client.restored:
	case <-ctx.Done():
		return nil, cv.client.callError(wire.OpMessageList, ctx.Err())
	}
	if cv.isLeft() {
		return cv.heldMessages(pageSize, anchor, direction), nil
	}
	args := wire.ListMessagesArgs{ConversationSid: cv.sid, PageSize: pageSize, Anchor: anchor, Direction: string(direction)}
	var page wire.MessagePage
	if err := cv.client.call(ctx, wire.OpMessageList, &args, &page, resendAfterReconnect); err != nil {
		if wire.CodeOf(err) == CodeClientOffline { // offline: what the client holds
			return cv.heldMessages(pageSize, anchor, direction), nil
		}
		return nil, err
	}
	items := make([]*Message, len(page.Items))
	for i, m := range page.Items {
		items[i], _ = cv.upsertMessage(m)
	}
	p := &Paginator[*Message]{Items: items, HasPrevPage: page.HasPrev, HasNextPage: page.HasNext}
	linkMessagePages(p, func(ctx context.Context, anchor int64, direction Direction) (*Paginator[*Message], error) {
		return cv.GetMessages(ctx, pageSize, &anchor, direction)
	})
	return p, nil
}

// removeMessage forgets a message and returns its object as it last was: the one the client
// holds, unchanged (a removal carries the message without its content), else one made
// from d.
func (cv *Conversation) removeMessage(d wire.Message) *Message {
	cv.client.mu.Lock()
	m := cv.cachedLocked(d.Sid)
	key := keyOfSid(d.Sid)
	if w, held := cv.evicted[key]; m == nil && held {
		m = w.Value()
	}
	cv.client.mu.Unlock()
	if m == nil {
		m, _ = cv.upsertMessage(d)
	}
	cv.client.mu.Lock()
	if cv.cachedLocked(d.Sid) != nil {
		cv.dropOrderLocked(m)
	}
	delete(cv.evicted, key)
	cv.client.touchLocked(cv.sid)
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
	EventMessageAdded.emit(c.emitter, msg)
	ConversationEventMessageAdded.emit(conv.emitter, msg)
	c.emitConversationUpdated(conv, []string{wire.ReasonLastMessage})
}
