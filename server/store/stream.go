package store

import (
	"context"
	"time"

	"github.com/convo-sdk/convo/wire"
)

// StreamStore reads each user's event stream: the events a write appended for that user.
//
// Conversation payloads (conversationJoined, conversationUpdated) carry the recipient's own
// fields (Joined, NotificationLevel, LastReadMessageIndex), so one logical event may be
// stored as several payload rows: recipients whose payloads are identical share one row; the
// first row is the event and the others are its variants (sqlite: column events.variant_of
// names the first row). A webhook dispatcher reports each event once by skipping variants
// (StoredEvent.Variant). Webhook-only events (EventConversationCreated) are stored with no
// recipient (sqlite: events.webhook_only = 1); the stream pruner never deletes those: the
// webhook dispatcher deletes them after delivery.
type StreamStore interface {
	// StreamHead describes identity's event stream, creating it if needed.
	StreamHead(ctx context.Context, identity string) (StreamHead, error)
	// ReadStream returns up to limit retained events with offset > after, in offset order.
	ReadStream(ctx context.Context, identity string, after uint64, limit int) ([]Delivery, error)
}

// Delivery is one event in one user's stream.
type Delivery struct {
	Identity string
	Offset   uint64
	Event    string
	Payload  wire.RawJSON
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

// EventConversationCreated names the webhook-only event a store records (with no recipient
// stream) when a conversation is created, so the webhook dispatcher can report it.
const EventConversationCreated = "conversationCreated"
