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
	"errors"
	"time"
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
	// ErrFull: the database's disk is full. Nothing of the failed write was applied;
	// reads keep working, and the same write (with the same idempotency key for sends)
	// succeeds once space is freed, without a restart.
	ErrFull = errors.New("store: storage full")
	// ErrClosed: the conversation is closed and takes no new messages.
	ErrClosed = errors.New("store: conversation closed")
	// ErrMediaUnusable: a media sid given to SendMessage does not exist, was uploaded by
	// someone else or is attached to another message already.
	ErrMediaUnusable = errors.New("store: media unusable")
)

// Store is the server's persistence, one interface per entity. Conversations, participants
// and messages use the wire types; a returned wire.Conversation has Joined false and no
// per-user fields (they depend on who asks) unless the method says otherwise
// (ConversationsOf, ConversationView).
//
// Add a method to one of these interfaces only together with its implementation in every
// store (sqlite, postgres), so the tree always builds.
type Store interface {
	ConversationStore
	LifecycleStore
	ParticipantStore
	MessageStore
	MediaStore
	UserStore
	PushRegistrationStore
	ContentTemplateStore
	StreamStore
	WebhookStore
	LimitStore

	// Ping runs a cheap query, for health checks.
	Ping(ctx context.Context) error
	Close() error
}

// Sid prefixes, as the vendor uses them.
const (
	PrefixConversation = "CH"
	PrefixParticipant  = "MB"
	PrefixMessage      = "IM"
	PrefixMedia        = "ME"
	PrefixReceipt      = "DY"
	PrefixContent      = "HX"
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
