package store

import (
	"context"

	"github.com/convo-sdk/convo/wire"
)

// ConversationStore keeps conversations and each participant's own view of them (read
// horizon, notification level).
type ConversationStore interface {
	CreateConversation(ctx context.Context, c NewConversation) (wire.Conversation, error)
	// Conversation and ConversationByUniqueName return ErrNotFound when there is none.
	Conversation(ctx context.Context, sid string) (wire.Conversation, error)
	ConversationByUniqueName(ctx context.Context, uniqueName string) (wire.Conversation, error)
	// ConversationsOf lists the conversations identity participates in (with identity's
	// Joined, NotificationLevel and LastReadMessageIndex filled), oldest first,
	// starting after the cursor (empty for the first page). next is empty on the last page.
	ConversationsOf(ctx context.Context, identity, after string, limit int) (items []wire.Conversation, next string, err error)
	// AllConversations lists every conversation, oldest first, after the cursor (admin API).
	AllConversations(ctx context.Context, after string, limit int) (items []wire.Conversation, next string, err error)
	// ConversationView returns a conversation as identity sees it (Joined,
	// NotificationLevel, LastReadMessageIndex filled) and identity's participant record, nil
	// when identity is not a participant.
	ConversationView(ctx context.Context, sid, identity string) (wire.Conversation, *wire.Participant, error)
	// UpdateConversation changes the fields that are set and emits conversationUpdated, with
	// the reasons of the fields that changed plus dateUpdated, to every participant. ErrConflict
	// when the unique name is taken. Nothing changed: no event.
	UpdateConversation(ctx context.Context, u ConversationUpdate) (wire.Conversation, []Delivery, error)
	// DeleteConversation deletes a conversation with its participants, messages, receipts
	// and media records, erases its messages' content from the events and the webhook outbox
	// as RemoveMessage does (with no messageRemoved: conversationRemoved says it all), emits
	// conversationRemoved to every participant and returns the sids of the media whose files
	// the caller should delete.
	DeleteConversation(ctx context.Context, sid string) (media []string, ds []Delivery, err error)
	// SetNotificationLevel sets identity's level and emits conversationUpdated (reason
	// notificationLevel) to identity only. ErrNotFound when identity is not a participant.
	SetNotificationLevel(ctx context.Context, conversationSid, identity, level string) (wire.Conversation, []Delivery, error)
	// SetReadHorizon moves identity's read horizon (see wire.ReadArgs; advance never moves
	// back) and, when it changed, stores the time and emits conversationUpdated (reason
	// lastReadMessageIndex) to identity and participantUpdated (lastReadMessageIndex,
	// lastReadTimestamp) to every participant.
	SetReadHorizon(ctx context.Context, conversationSid, identity, mode string, index *int64) (wire.ReadResult, []Delivery, error)
	// Counts returns the message and participant totals and identity's unread count.
	Counts(ctx context.Context, conversationSid, identity string) (wire.Counts, error)
}

// NewConversation are the fields of a conversation to create.
type NewConversation struct {
	UniqueName   string // empty: none
	FriendlyName string
	Attributes   wire.RawJSON // empty: {}
	CreatedBy    string
}

// ConversationUpdate are the changes of UpdateConversation; nil fields stay. UniqueName ""
// clears the unique name.
type ConversationUpdate struct {
	Sid          string
	FriendlyName *string
	UniqueName   *string
	Attributes   wire.RawJSON // nil: unchanged
}
