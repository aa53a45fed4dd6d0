package store

import (
	"context"
	"time"

	"github.com/convo-sdk/convo/wire"
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

// StoredEvent is one row of the committed events log: every change appends one in the
// transaction that commits it, whatever its recipients.
type StoredEvent struct {
	ID      int64
	Name    string
	Payload wire.RawJSON
	// Variant: a per-recipient copy of an earlier event (see StreamStore); report that one.
	Variant bool
}

// WebhookDelivery is one webhook request waiting in the outbox. ID is the delivery id sent
// as X-Convo-Delivery, stable across retries.
type WebhookDelivery struct {
	ID          string
	Type        string
	Body        wire.RawJSON
	Attempts    int
	NextAttempt time.Time
	Created     time.Time
	// MessageSid names the message whose content the delivery carries (empty: none).
	// WebhookEnqueue does not queue it once that message is gone: removed after the
	// dispatcher read its event, it must not be sent. Not stored: WebhookDue leaves it empty.
	MessageSid string
	// ConversationSid names the conversation whose own or participants' fields the delivery
	// carries (empty: none); WebhookEnqueue does not queue it once that conversation is gone,
	// as for MessageSid.
	ConversationSid string
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
