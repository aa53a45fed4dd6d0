package core

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"time"
	"weak"

	"github.com/convo-sdk/convo/wire"
)

// Conversation event names, emitted on a Conversation's emitter.
const (
	ConversationEventMessageAdded      = "messageAdded"      // *Message
	ConversationEventParticipantJoined = "participantJoined" // *Participant
)

// Conversation statuses from the current user's point of view.
const (
	StatusJoined           = "joined"
	StatusNotParticipating = "notParticipating"
)

// Conversation is a conversation the client knows. One sid maps to one *Conversation for the
// life of the client, so applications can compare pointers.
type Conversation struct {
	*Emitter
	client *Client
	sid    string

	// Guarded by client.mu.
	data         wire.Conversation
	participants map[string]*Participant // by sid
	messages     map[string]*Message     // by sid: the newest MessageCacheSize (see trimLocked)
	byIndex      []*Message              // messages' values in ascending index order, so trimming finds the oldest at once
	// evicted holds messages trimmed from messages that may still be referenced, until they
	// are collected; evictedAnnounced is the highest index of an announced one collected.
	evicted          map[string]weak.Pointer[Message]
	evictedAnnounced int64
	lastTyping       time.Time // when Typing last sent a signal
	// streamLast is the newest message index the event stream has accounted for: announced
	// with messageAdded, or history from before the client followed the conversation. A
	// resync replays from there. (data.LastMessage is no guide: a send's reply or a history
	// page moves it before the messages up to it were announced.)
	streamLast *int64
	// left: the user was a participant and no longer is; the client has dropped the
	// conversation, and reads answer from what it still holds.
	left bool
	read readReport // the read horizon report waiting to be sent
	// reporting is held (a token in it) while a read report is being sent: a channel, so
	// that a flush waiting for it can give up with its context.
	reporting chan struct{}
	// names holds one copy of each author and participant sid of the cached messages
	// (guarded by client.mu; see upsertMessage).
	names map[string]string
}

// upsertConversation returns the one object for d.Sid, updated to d, and whether it is new.
func (c *Client) upsertConversation(d wire.Conversation) (*Conversation, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	conv, ok := c.conversations[d.Sid]
	if !ok {
		conv = &Conversation{
			Emitter:          NewEmitter(),
			client:           c,
			sid:              d.Sid,
			participants:     make(map[string]*Participant),
			messages:         make(map[string]*Message),
			evictedAnnounced: -1,
			reporting:        make(chan struct{}, 1),
		}
		conv.OnListenerPanic = c.OnListenerPanic
		conv.OnWarning = c.OnWarning
		c.conversations[d.Sid] = conv
	}
	// Keep the newest lastMessage: a snapshot may be older than an event already applied.
	if conv.data.LastMessage != nil && (d.LastMessage == nil || d.LastMessage.Index < conv.data.LastMessage.Index) {
		d.LastMessage = conv.data.LastMessage
	}
	conv.data = d
	return conv, !ok
}

func (cv *Conversation) snapshot() wire.Conversation {
	cv.client.mu.Lock()
	defer cv.client.mu.Unlock()
	return cv.data
}

// Sid returns the conversation's sid.
func (cv *Conversation) Sid() string { return cv.sid }

// Client returns the client this conversation belongs to.
func (cv *Conversation) Client() *Client { return cv.client }

// FriendlyName returns the display name, possibly empty.
func (cv *Conversation) FriendlyName() string { return cv.snapshot().FriendlyName }

// UniqueName returns the unique name, possibly empty.
func (cv *Conversation) UniqueName() string { return cv.snapshot().UniqueName }

// CreatedBy returns the creator's identity.
func (cv *Conversation) CreatedBy() string { return cv.snapshot().CreatedBy }

// DateCreated returns the creation time.
func (cv *Conversation) DateCreated() time.Time { return cv.snapshot().DateCreated }

// DateUpdated returns the last update time.
func (cv *Conversation) DateUpdated() time.Time { return cv.snapshot().DateUpdated }

// AttributesJSON returns the attributes as JSON ("{}" when unset).
func (cv *Conversation) AttributesJSON() json.RawMessage {
	return orEmptyObject(cv.snapshot().Attributes)
}

// Status returns StatusJoined or StatusNotParticipating.
func (cv *Conversation) Status() string {
	if cv.snapshot().Joined {
		return StatusJoined
	}
	return StatusNotParticipating
}

// LastMessage returns the newest message's index and date, or nil while there is none.
func (cv *Conversation) LastMessage() *wire.LastMessage {
	lm := cv.snapshot().LastMessage
	if lm == nil {
		return nil
	}
	copied := *lm
	return &copied
}

// Join makes the current user a participant.
func (cv *Conversation) Join(ctx context.Context) error {
	if err := cv.client.ready(ctx); err != nil {
		return err
	}
	var p wire.Participant
	if err := cv.client.callThenEvents(ctx, wire.OpConversationJoin, wire.ConversationRef{ConversationSid: cv.sid}, &p, false); err != nil {
		return err
	}
	cv.client.mu.Lock()
	cv.data.Joined = true
	cv.client.mu.Unlock()
	cv.upsertParticipant(p)
	return nil
}

// Add makes identity a participant. attributes may be nil.
func (cv *Conversation) Add(ctx context.Context, identity string, attributes json.RawMessage) error {
	if err := cv.client.ready(ctx); err != nil {
		return err
	}
	var p wire.Participant
	args := wire.AddParticipantArgs{ConversationSid: cv.sid, Identity: identity, Attributes: attributes}
	if err := cv.client.callThenEvents(ctx, wire.OpParticipantAdd, args, &p, false); err != nil {
		return err
	}
	cv.upsertParticipant(p)
	return nil
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
	if err := cv.client.call(ctx, wire.OpParticipantList, wire.ConversationRef{ConversationSid: cv.sid}, &page, true); err != nil {
		return nil, err
	}
	out := make([]*Participant, len(page.Items))
	for i, p := range page.Items {
		out[i], _ = cv.upsertParticipant(p)
	}
	return out, nil
}

// SendMessage posts a text message and returns its index. The send carries a fresh
// idempotency key, so a retry after a dropped connection never stores it twice.
func (cv *Conversation) SendMessage(ctx context.Context, body string, attributes json.RawMessage) (int64, error) {
	if err := cv.client.ready(ctx); err != nil {
		return 0, err
	}
	if len(body) > wire.MaxMessageBodyBytes {
		return 0, wire.Errorf(wire.CodeTooLarge, "message body is %d bytes; the limit is %d", len(body), wire.MaxMessageBodyBytes)
	}
	args := wire.SendMessageArgs{ConversationSid: cv.sid, Body: &body, Attributes: attributes, IdempotencyKey: newIdempotencyKey()}
	return cv.send(ctx, args)
}

// send posts a message through the outbox: sends leave in the order they were made, wait out
// a disconnection, and are stored once however often they are retried.
func (cv *Conversation) send(ctx context.Context, args wire.SendMessageArgs) (int64, error) {
	var m wire.Message
	err := cv.client.thenEvents(func() error {
		if err := cv.client.outbox.submit(ctx, wire.OpMessageSend, args, &m); err != nil {
			return err
		}
		cv.upsertMessage(m)
		return nil
	})
	return m.Index, err
}

// newIdempotencyKey returns 128 random bits in hex. They need to be unique, not secret:
// math/rand/v2's generator (ChaCha8, seeded by the runtime) is plenty, and crypto/rand
// would link the FIPS crypto packages into the wasm for this alone.
func newIdempotencyKey() string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(b[8:], rand.Uint64())
	return hex.EncodeToString(b[:])
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
	if err := cv.client.call(ctx, wire.OpMessageList, args, &page, true); err != nil {
		return nil, err
	}
	items := make([]*Message, len(page.Items))
	for i, m := range page.Items {
		items[i], _ = cv.upsertMessage(m)
	}
	p := &Paginator[*Message]{Items: items, HasPrevPage: page.HasPrev, HasNextPage: page.HasNext}
	if len(items) > 0 {
		first, last := items[0].Index(), items[len(items)-1].Index()
		p.prev = func(ctx context.Context) (*Paginator[*Message], error) {
			a := first - 1
			return cv.GetMessages(ctx, pageSize, &a, wire.Backwards)
		}
		p.next = func(ctx context.Context) (*Paginator[*Message], error) {
			a := last + 1
			return cv.GetMessages(ctx, pageSize, &a, wire.Forward)
		}
	}
	return p, nil
}

// OnMessageAdded calls fn for each new message in this conversation.
func (cv *Conversation) OnMessageAdded(fn func(*Message)) (off func()) {
	return cv.On(ConversationEventMessageAdded, func(args ...any) { fn(args[0].(*Message)) })
}

// OnParticipantJoined calls fn for each participant that joins this conversation.
func (cv *Conversation) OnParticipantJoined(fn func(*Participant)) (off func()) {
	return cv.On(ConversationEventParticipantJoined, func(args ...any) { fn(args[0].(*Participant)) })
}

func orEmptyObject(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return json.RawMessage("{}")
	}
	return raw
}
