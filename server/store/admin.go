package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/convo-sdk/convo/wire"
)

// AdminStore is the part of Store behind the admin REST API and outbound webhooks.
//
// Add a method here only together with its implementation in every store (sqlite,
// postgres), so the tree always builds.
type AdminStore interface {
	// Ping runs a cheap query, for health checks.
	Ping(ctx context.Context) error

	// AllConversations lists every conversation, oldest first, after the cursor (admin API).
	AllConversations(ctx context.Context, after string, limit int) (items []wire.Conversation, next string, err error)

	// ContentTemplates lists content templates, oldest first, after the cursor.
	// (Implemented by the admin work; read by the client op content.list.)
	ContentTemplates(ctx context.Context, after string, limit int) (items []wire.ContentTemplate, next string, err error)
	// ContentTemplate returns ErrNotFound when there is none.
	ContentTemplate(ctx context.Context, sid string) (wire.ContentTemplate, error)
	CreateContentTemplate(ctx context.Context, t NewContentTemplate) (wire.ContentTemplate, error)
	// UpdateContentTemplate changes the fields that are set; ErrNotFound when there is none.
	UpdateContentTemplate(ctx context.Context, sid string, u ContentTemplateUpdate) (wire.ContentTemplate, error)
	DeleteContentTemplate(ctx context.Context, sid string) error

	// SetChannelMetadata records what a non-chat channel said about a message (read back by
	// FeatureStore.ChannelMetadata). ErrNotFound when the message is not in the conversation.
	SetChannelMetadata(ctx context.Context, conversationSid, messageSid string, meta wire.ChannelMetadata) error
	// UpsertReceipt creates or updates the detailed receipt of a message for a non-chat
	// participant and emits messageUpdated (reason deliveryReceipt), with the message's new
	// aggregated receipt, to every participant. ErrNotFound when the message or participant
	// is not in the conversation.
	UpsertReceipt(ctx context.Context, r ReceiptUpsert) (wire.DetailedReceipt, []Delivery, error)
	// MutedIdentities returns the chat participants of a conversation whose notification
	// level is muted.
	MutedIdentities(ctx context.Context, conversationSid string) ([]string, error)

	// WebhookStore is the durable state of the outbound webhook dispatcher.
	WebhookStore
}

// NewContentTemplate are the fields of a content template to create.
type NewContentTemplate struct {
	FriendlyName string
	Variables    []wire.ContentVariable
	Variants     json.RawMessage // empty: {}
}

// ContentTemplateUpdate changes the fields that are non-nil.
type ContentTemplateUpdate struct {
	FriendlyName *string
	Variables    *[]wire.ContentVariable
	Variants     json.RawMessage
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

// PrefixContent is the sid prefix of content templates.
const PrefixContent = "HX"

// StoredEvent is one row of the committed events log: every change appends one in the
// transaction that commits it, whatever its recipients.
type StoredEvent struct {
	ID      int64
	Name    string
	Payload json.RawMessage
	// Variant: a per-recipient copy of an earlier event (see FeatureStore); report that one.
	Variant bool
}

// WebhookDelivery is one webhook request waiting in the outbox. ID is the delivery id sent
// as X-Convo-Delivery, stable across retries.
type WebhookDelivery struct {
	ID          string
	Type        string
	Body        json.RawMessage
	Attempts    int
	NextAttempt time.Time
	Created     time.Time
}

// Webhook outbox timings shared by every store.
const (
	// WebhookClaim is how long a delivery handed out by WebhookDue stays claimed: longer
	// than a dispatcher takes to post a batch, short enough to retry soon after one died.
	WebhookClaim = 5 * time.Minute
	// WebhookDoneKept is how long the id of a delivery that left the outbox is remembered,
	// so that a node reading the events log late does not queue it again.
	WebhookDoneKept = time.Hour
)

// WebhookStore keeps the dispatcher's cursor in the events log and its outbox. The store
// never prunes events after the cursor while the dispatcher is enabled. Several nodes may
// run dispatchers on one database: the cursor only moves forward, done deliveries are not
// queued again, and each due delivery is handed to one dispatcher at a time.
type WebhookStore interface {
	// WebhookStart enables or disables dispatching and returns the cursor to continue
	// from. Disabling moves the cursor to the newest event; enabling after a disabled
	// period does the same, so only events committed while enabled are dispatched.
	WebhookStart(ctx context.Context, enabled bool) (cursor int64, err error)
	// WebhookFollowHead moves the cursor of a disabled dispatcher to the newest event.
	WebhookFollowHead(ctx context.Context) error
	// EventsAfter returns up to limit events with id > after, in id order. An event that
	// commits later gets a greater id than every event returned so far, however
	// transactions interleave, so a reader that moves past an id skips nothing.
	EventsAfter(ctx context.Context, after int64, limit int) ([]StoredEvent, error)
	// WebhookEnqueue adds deliveries to the outbox (ignoring ids already there, or done
	// within WebhookDoneKept: another node may have read the same events a moment later),
	// moves the cursor forward to cursor (never back) and deletes the webhook-only events up
	// to it, in one transaction.
	WebhookEnqueue(ctx context.Context, cursor int64, ds []WebhookDelivery) error
	// WebhookDue returns up to limit deliveries whose next attempt is at or before now,
	// oldest first, and claims them until now+WebhookClaim: no WebhookDue call, on any node,
	// returns them again before WebhookRetry or WebhookDone ends the claim, or it expires
	// (the dispatcher that claimed them died).
	WebhookDue(ctx context.Context, now time.Time, limit int) ([]WebhookDelivery, error)
	// WebhookDone removes a delivery from the outbox (delivered, or given up).
	WebhookDone(ctx context.Context, id string) error
	// WebhookRetry records a failed attempt and when to try again, ending the claim.
	WebhookRetry(ctx context.Context, id string, attempts int, next time.Time) error
	// WebhookPending counts the deliveries in the outbox.
	WebhookPending(ctx context.Context) (int, error)
}
