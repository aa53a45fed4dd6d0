package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/convo-sdk/convo/wire"
)

// FeatureStore is the part of Store behind the client API's features: updates and removal,
// read horizons, notification levels, users, media, push registrations, receipts.
//
// Add a method here only together with its implementation in every store (sqlite,
// postgres), so the tree always builds.
//
// Events. Conversation payloads (conversationJoined, conversationUpdated) carry the
// recipient's own fields (Joined, NotificationLevel, LastReadMessageIndex), so one logical
// event may be stored as several payload rows: recipients whose payloads are identical share
// one row; the first row is the event and the others are its variants (sqlite: column
// events.variant_of names the first row). A webhook dispatcher reports each event once by
// skipping variants. Webhook-only events (EventConversationCreated) are stored with no
// recipient (sqlite: events.webhook_only = 1); the stream pruner never deletes those: the
// webhook dispatcher deletes them after delivery.
type FeatureStore interface {
	// PushRegistrations returns the push registrations of each identity that has any.
	// (Implemented by the client-features work; read by the webhook dispatcher.)
	PushRegistrations(ctx context.Context, identities []string) (map[string][]PushRegistration, error)
	// AddPushRegistration records a device; added is false when it was already there (its
	// registration time is refreshed). An identity keeps at most MaxPushRegistrations: the
	// least recently registered beyond that are dropped.
	AddPushRegistration(ctx context.Context, r PushRegistration) (added bool, err error)
	// RemovePushRegistrations removes identity's registration of that channel type, or all
	// of that channel type when registrationID is empty, and reports how many went.
	RemovePushRegistrations(ctx context.Context, identity, channelType, registrationID string) (int64, error)

	// User returns identity's public record with IsNotifiable filled (IsOnline is the
	// server's business); ErrNotFound when the user never connected nor was added.
	User(ctx context.Context, identity string) (wire.User, error)
	// UpdateUser changes the fields that are set and returns the record and the update
	// reasons (empty when nothing changed).
	UpdateUser(ctx context.Context, identity string, friendlyName *string, attributes json.RawMessage) (wire.User, []string, error)

	// ConversationView returns a conversation as identity sees it (Joined,
	// NotificationLevel, LastReadMessageIndex filled) and identity's participant record, nil
	// when identity is not a participant.
	ConversationView(ctx context.Context, sid, identity string) (wire.Conversation, *wire.Participant, error)
	// UpdateConversation changes the fields that are set and emits conversationUpdated, with
	// the reasons of the fields that changed plus dateUpdated, to every participant. ErrConflict
	// when the unique name is taken. Nothing changed: no event.
	UpdateConversation(ctx context.Context, u ConversationUpdate) (wire.Conversation, []Delivery, error)
	// DeleteConversation deletes a conversation with its participants, messages, receipts
	// and media records, emits conversationRemoved to every participant and returns the sids
	// of the media whose files the caller should delete.
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
	// SetConversationTimers sets (0: clears) the durations after which an active conversation
	// without new messages becomes inactive, and any conversation closed. The deadlines run
	// from now and restart with every message. (For the admin API.)
	SetConversationTimers(ctx context.Context, sid string, inactiveAfter, closedAfter time.Duration) error
	// SetConversationState sets the lifecycle state (wire.StateActive, StateInactive,
	// StateClosed) and emits conversationUpdated (reason state) to every participant when it
	// changed. Activating restarts the timers. (For the admin API.)
	SetConversationState(ctx context.Context, sid, state string) (wire.Conversation, []Delivery, error)
	// AdvanceConversationStates moves the conversations whose deadlines passed by now to
	// inactive or closed, with the events of SetConversationState.
	AdvanceConversationStates(ctx context.Context, now time.Time) ([]Delivery, error)

	// ParticipantBySid returns a participant of a conversation; ErrNotFound when absent.
	ParticipantBySid(ctx context.Context, conversationSid, participantSid string) (wire.Participant, error)
	// UpdateParticipant replaces a participant's attributes and emits participantUpdated
	// (attributes, dateUpdated) to every participant when they changed.
	UpdateParticipant(ctx context.Context, conversationSid, participantSid string, attributes json.RawMessage) (wire.Participant, []Delivery, error)
	// RemoveParticipant removes a participant, emits conversationLeft to it (chat
	// participants) and participantLeft to every participant, itself included. With ban (a
	// removal by someone else), a chat participant's identity may not be added again without
	// NewParticipant.LiftBan (see AddParticipant).
	RemoveParticipant(ctx context.Context, conversationSid, participantSid string, ban bool) (wire.Participant, []Delivery, error)

	// Message returns one message; ErrNotFound when absent or removed.
	Message(ctx context.Context, conversationSid, sid string) (wire.Message, error)
	// UpdateMessage changes the fields that are set and emits messageUpdated (the reasons of
	// what changed plus lastUpdatedBy and dateUpdated) to every participant.
	UpdateMessage(ctx context.Context, u MessageUpdate) (wire.Message, []Delivery, error)
	// RemoveMessage deletes a message (and its media records and receipts; other indexes are
	// unchanged) and emits messageRemoved with the message as it was to every participant.
	RemoveMessage(ctx context.Context, conversationSid, sid string) (wire.Message, []Delivery, error)
	// Receipts lists a message's detailed delivery receipts, oldest first.
	Receipts(ctx context.Context, conversationSid, messageSid string) ([]wire.DetailedReceipt, error)
	// ChannelMetadata returns what a non-chat channel recorded about a message; nil when
	// nothing was.
	ChannelMetadata(ctx context.Context, conversationSid, messageSid string) (*wire.ChannelMetadata, error)

	// CreateMedia records an uploaded file (its content is stored by the caller under sid).
	CreateMedia(ctx context.Context, m MediaRecord) error
	// Media returns a media record; ErrNotFound when absent.
	Media(ctx context.Context, sid string) (MediaRecord, error)
	// DeleteMedia removes media records (not files).
	DeleteMedia(ctx context.Context, sids []string) error
	// DeleteUnattachedMedia removes up to limit records of media created before the time
	// and never attached to a message, and returns their sids so the caller deletes the
	// files. A media attached meanwhile is not removed (one transaction).
	DeleteUnattachedMedia(ctx context.Context, before time.Time, limit int) ([]string, error)
}

// Errors of FeatureStore.
var (
	// ErrClosed: the conversation is closed and takes no new messages.
	ErrClosed = errors.New("store: conversation closed")
	// ErrMediaUnusable: a media sid given to SendMessage does not exist, was uploaded by
	// someone else or is attached to another message already.
	ErrMediaUnusable = errors.New("store: media unusable")
)

// MaxPushRegistrations is how many push registrations one identity keeps.
const MaxPushRegistrations = 20

// PushRegistration is a device registered for push notifications.
type PushRegistration struct {
	Identity       string
	ChannelType    string // wire.PushFCM or wire.PushAPN
	RegistrationID string
}

// EventConversationCreated names the webhook-only event a store records (with no recipient
// stream) when a conversation is created, so the webhook dispatcher can report it.
const EventConversationCreated = "conversationCreated"

// ConversationUpdate are the changes of UpdateConversation; nil fields stay. UniqueName ""
// clears the unique name.
type ConversationUpdate struct {
	Sid          string
	FriendlyName *string
	UniqueName   *string
	Attributes   json.RawMessage // nil: unchanged
}

// MessageUpdate are the changes of UpdateMessage; nil fields stay.
type MessageUpdate struct {
	ConversationSid string
	Sid             string
	Body            *string
	Attributes      json.RawMessage // nil: unchanged
	By              string          // identity of the editor (lastUpdatedBy)
}

// MediaRecord is a stored media's metadata, with who uploaded it and where it is attached.
type MediaRecord struct {
	wire.Media
	Owner           string
	ConversationSid string // empty until attached
	MessageSid      string // empty until attached
	DateCreated     time.Time
}

// PrefixMedia and PrefixReceipt are the sid prefixes of media and delivery receipts.
const (
	PrefixMedia   = "ME"
	PrefixReceipt = "DY"
)
