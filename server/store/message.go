package store

import (
	"context"

	"github.com/convo-sdk/convo/wire"
)

// MessageStore keeps messages with their delivery receipts and channel metadata.
type MessageStore interface {
	// SendMessage stores a message with the conversation's next index and emits messageAdded
	// to every participant. ErrClosed when the conversation is closed; an inactive one
	// becomes active again (conversationUpdated, reason state) and its timers restart. With
	// an idempotency key already used by the same author in the same conversation it returns
	// the first message, created false, and no deliveries.
	SendMessage(ctx context.Context, m NewMessage) (msg wire.Message, created bool, ds []Delivery, err error)
	Messages(ctx context.Context, q MessageQuery) (wire.MessagePage, error)
	// Message returns one message; ErrNotFound when absent or removed.
	Message(ctx context.Context, conversationSid, sid string) (wire.Message, error)
	// UpdateMessage changes the fields that are set and emits messageUpdated (the reasons of
	// what changed plus lastUpdatedBy and dateUpdated) to every participant.
	UpdateMessage(ctx context.Context, u MessageUpdate) (wire.Message, []Delivery, error)
	// RemoveMessage deletes a message (and its media records and receipts; other indexes are
	// unchanged), erases its content from the events and the webhook outbox in the same
	// transaction (its earlier messageAdded and messageUpdated events are redacted in place,
	// see wire.MessageEvent; its pending webhook deliveries are given up) and emits
	// messageRemoved, with the message reduced to wire.Message.Redacted, to every
	// participant. It returns the message as it was (the caller deletes its media files).
	RemoveMessage(ctx context.Context, conversationSid, sid string) (wire.Message, []Delivery, error)

	// MessagesByAuthor lists up to limit messages written by author, in every conversation,
	// with sids after after (empty: from the first), in sid order: what the admin API
	// exports or erases of a user. It reads the whole messages table (no index by author).
	MessagesByAuthor(ctx context.Context, author, after string, limit int) ([]wire.Message, error)

	// Receipts lists a message's detailed delivery receipts, oldest first.
	Receipts(ctx context.Context, conversationSid, messageSid string) ([]wire.DetailedReceipt, error)
	// UpsertReceipt creates or updates the detailed receipt of a message for a non-chat
	// participant and emits messageUpdated (reason deliveryReceipt), with the message's new
	// aggregated receipt, to every participant. ErrNotFound when the message or participant
	// is not in the conversation.
	UpsertReceipt(ctx context.Context, r ReceiptUpsert) (wire.DetailedReceipt, []Delivery, error)

	// ChannelMetadata returns what a non-chat channel recorded about a message; nil when
	// nothing was.
	ChannelMetadata(ctx context.Context, conversationSid, messageSid string) (*wire.ChannelMetadata, error)
	// SetChannelMetadata records what a non-chat channel said about a message (read back by
	// ChannelMetadata). ErrNotFound when the message is not in the conversation.
	SetChannelMetadata(ctx context.Context, conversationSid, messageSid string, meta wire.ChannelMetadata) error
}

// NewMessage are the fields of a message to send.
type NewMessage struct {
	ConversationSid string
	Author          string
	ParticipantSid  string
	Body            *string
	Attributes      wire.RawJSON
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

// MessageUpdate are the changes of UpdateMessage; nil fields stay.
type MessageUpdate struct {
	ConversationSid string
	Sid             string
	Body            *string
	Attributes      wire.RawJSON // nil: unchanged
	By              string       // identity of the editor (lastUpdatedBy)
}

// ReceiptUpsert is a delivery status report for UpsertReceipt.
type ReceiptUpsert struct {
	ConversationSid   string
	MessageSid        string
	ParticipantSid    string
	Status            string // wire.DeliveryQueued ... wire.DeliveryFailed
	ErrorCode         int
	ChannelMessageSid string
}
