// Package store defines what the server persists and how it asks for it. Implementations
// (sqlite, postgres) live in subpackages, storeopen picks one, and storetest is the
// behaviour suite they all pass; the server only sees [Store].
//
// Writes that produce events append them to every recipient's stream in the same transaction
// as the change itself and return them as [Delivery] values, so the server can push what was
// committed, and a client that missed a push can read it back from the stream.
package store

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"time"

	"github.com/convo-sdk/convo/wire"
)

// Errors a Store returns; callers test them with errors.Is.
var (
	ErrNotFound = errors.New("store: not found")
	// ErrConflict: a unique name taken, a participant already present.
	ErrConflict = errors.New("store: conflict")
	// ErrTooManyParticipants: the conversation is full.
	ErrTooManyParticipants = errors.New("store: too many participants")
	// ErrBadCursor: a paging cursor this store did not hand out.
	ErrBadCursor = errors.New("store: invalid cursor")
	// ErrRemoved: the identity was removed from the conversation by someone else and may
	// not come back unless added with NewParticipant.LiftBan.
	ErrRemoved = errors.New("store: removed from the conversation")
	// ErrUnavailable: the database cannot be reached right now (down, restarting, the
	// connection broke, no answer in time). The operation may or may not have been applied;
	// retrying it (with the same idempotency key for sends) is safe and should succeed once
	// the database is back.
	ErrUnavailable = errors.New("store: database unavailable")
)

// Store is the server's persistence. Conversations, participants and messages use the wire
// types; a returned wire.Conversation has Joined false and no per-user fields (they depend
// on who asks) unless the method says otherwise (ConversationsOf, ConversationView).
type Store interface {
	// EnsureUser returns identity's record, creating it (and its event stream) on first use.
	EnsureUser(ctx context.Context, identity string) (wire.User, error)

	CreateConversation(ctx context.Context, c NewConversation) (wire.Conversation, error)
	// Conversation and ConversationByUniqueName return ErrNotFound when there is none.
	Conversation(ctx context.Context, sid string) (wire.Conversation, error)
	ConversationByUniqueName(ctx context.Context, uniqueName string) (wire.Conversation, error)
	// ConversationsOf lists the conversations identity participates in (with identity's
	// Joined, NotificationLevel and LastReadMessageIndex filled), oldest first,
	// starting after the cursor (empty for the first page). next is empty on the last page.
	ConversationsOf(ctx context.Context, identity, after string, limit int) (items []wire.Conversation, next string, err error)

	// AddParticipant adds a participant and emits conversationJoined to it and
	// participantJoined to every participant, itself included. A chat identity that was
	// removed by someone else (RemoveParticipant with ban) gets ErrRemoved unless
	// NewParticipant.LiftBan is set, in which case the ban ends with this add, in the same
	// transaction.
	AddParticipant(ctx context.Context, p NewParticipant) (wire.Participant, []Delivery, error)
	// Participant returns ErrNotFound when identity is not in the conversation.
	Participant(ctx context.Context, conversationSid, identity string) (wire.Participant, error)
	Participants(ctx context.Context, conversationSid string) ([]wire.Participant, error)

	// SendMessage stores a message with the conversation's next index and emits messageAdded
	// to every participant. ErrClosed when the conversation is closed; an inactive one
	// becomes active again (conversationUpdated, reason state) and its timers restart. With an idempotency key already used by the same author in the
	// same conversation it returns the first message, created false, and no deliveries.
	SendMessage(ctx context.Context, m NewMessage) (msg wire.Message, created bool, ds []Delivery, err error)
	Messages(ctx context.Context, q MessageQuery) (wire.MessagePage, error)

	// StreamHead describes identity's event stream, creating it if needed.
	StreamHead(ctx context.Context, identity string) (StreamHead, error)
	// FeatureStore holds what the client API needs beyond the basics (see features.go);
	// AdminStore what the admin REST API and webhooks need (see admin.go).
	FeatureStore
	AdminStore

	// ReadStream returns up to limit retained events with offset > after, in offset order.
	ReadStream(ctx context.Context, identity string, after uint64, limit int) ([]Delivery, error)

	Close() error
}

// NewConversation are the fields of a conversation to create.
type NewConversation struct {
	UniqueName   string // empty: none
	FriendlyName string
	Attributes   json.RawMessage // empty: {}
	CreatedBy    string
}

// NewParticipant are the fields of a participant to add.
type NewParticipant struct {
	ConversationSid string
	Identity        string
	Type            string // empty: "chat"
	Attributes      json.RawMessage
	// Address, ProxyAddress and Bindings describe a non-chat participant (Type sms,
	// whatsapp or email), which has no Identity. ErrConflict when the conversation has a
	// participant with the same address and proxy address.
	Address      string
	ProxyAddress string
	Bindings     json.RawMessage
	// Max is the participant limit checked in the same transaction; 0 means
	// wire.MaxParticipantsPerConv.
	Max int
	// LiftBan: the add is by someone entitled to bring back a removed identity (the
	// conversation's creator, the admin API); it ends the ban. Without it a banned identity
	// gets ErrRemoved (joining on its own, or added by another participant).
	LiftBan bool
}

// NewMessage are the fields of a message to send.
type NewMessage struct {
	ConversationSid string
	Author          string
	ParticipantSid  string
	Body            *string
	Attributes      json.RawMessage
	IdempotencyKey  string // empty: none
	Subject         *string
	// MediaSids name media uploaded by Author and not attached yet (else
	// ErrMediaUnusable); they are attached in this order.
	MediaSids        []string
	ContentSid       string
	ContentVariables []wire.ContentVariable
}

// MessageQuery selects a page of messages; see wire.ListMessagesArgs.
type MessageQuery struct {
	ConversationSid string
	PageSize        int
	Anchor          *int64
	Forward         bool
}

// Delivery is one event in one user's stream.
type Delivery struct {
	Identity string
	Offset   uint64
	Event    string
	Payload  json.RawMessage
	// At is when the store committed the event (zero for events read back from a stream);
	// the server measures fan-out latency from it.
	At time.Time
}

// StreamHead describes a user's stream. Offsets start at 1; Last is 0 while the stream is
// empty. Oldest is the oldest offset still retained (Last+1 when nothing is retained), so a
// resume after offset o can be replayed exactly when Oldest <= o+1 and o <= Last.
type StreamHead struct {
	Epoch  string
	Last   uint64
	Oldest uint64
}

// CanResume reports whether every event after offset is still retained.
func (h StreamHead) CanResume(epoch string, offset uint64) bool {
	return epoch == h.Epoch && offset <= h.Last && offset+1 >= h.Oldest
}

// Sid prefixes, as the vendor uses them.
const (
	PrefixConversation = "CH"
	PrefixParticipant  = "MB"
	PrefixMessage      = "IM"
)

// NewSid returns prefix followed by 32 hex digits: the time in milliseconds (12 digits),
// then 80 random bits. Sids made later sort later, so a table's sid index grows at its end
// (one page written per commit) instead of at a random page per row.
func NewSid(prefix string) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(time.Now().UnixMilli())<<16)
	_, _ = rand.Read(b[6:]) // crypto/rand.Read never fails
	return prefix + hex.EncodeToString(b[:])
}

// NewEpoch returns a random stream epoch.
func NewEpoch() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
