// Package webhook delivers the server's outbound webhooks (docs/ADMIN-API.md).
//
// The [Dispatcher] reads the store's committed events log (every change appends its event
// row in the transaction that commits it) after a persisted cursor, turns each event into
// webhook deliveries, and writes those to a durable outbox while moving the cursor, in one
// transaction. A sender posts due outbox rows and deletes them on success, or reschedules
// them with exponential backoff until they are older than the maximum age. So a crash or
// restart loses nothing, and a delivery that succeeded is not sent again (a crash between
// the receiver's 2xx and the outbox delete can repeat it: receivers dedupe on the delivery
// id, which never changes across retries).
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"

	"github.com/convo-sdk/convo/wire"
)

// Webhook event types.
const (
	ConversationAdded   = "conversation.added"
	ConversationUpdated = "conversation.updated"
	ConversationRemoved = "conversation.removed"
	ParticipantAdded    = "participant.added"
	ParticipantUpdated  = "participant.updated"
	ParticipantRemoved  = "participant.removed"
	MessageAdded        = "message.added"
	MessageUpdated      = "message.updated"
	MessageRemoved      = "message.removed"
	MessageOutbound     = "message.outbound"
	PushNotification    = "push.notification"
)

// Webhook headers.
const (
	HeaderSignature = "X-Convo-Signature" // "sha256=" + hex HMAC-SHA256 of the body with the webhook secret
	HeaderEvent     = "X-Convo-Event"     // the event type
	HeaderDelivery  = "X-Convo-Delivery"  // the delivery id, stable across retries
)

// Body is the JSON body of every webhook request.
type Body struct {
	ID        string       `json:"id"`
	Type      string       `json:"type"`
	Timestamp int64        `json:"timestamp"` // Unix milliseconds when the event was dispatched
	Data      wire.RawJSON `json:"data"`
}

// Webhook data payloads.
type (
	// ConversationData is the data of conversation.added and conversation.updated.
	ConversationData struct {
		Conversation  wire.Conversation `json:"conversation"`
		UpdateReasons []string          `json:"updateReasons,omitempty"`
	}
	// ConversationRefData is the data of conversation.removed.
	ConversationRefData struct {
		ConversationSid string `json:"conversationSid"`
	}
	// ParticipantData is the data of participant.added, .updated and .removed.
	ParticipantData struct {
		ConversationSid string           `json:"conversationSid"`
		Participant     wire.Participant `json:"participant"`
		UpdateReasons   []string         `json:"updateReasons,omitempty"`
	}
	// MessageData is the data of message.added, .updated and .removed.
	MessageData struct {
		ConversationSid string       `json:"conversationSid"`
		Message         wire.Message `json:"message"`
		UpdateReasons   []string     `json:"updateReasons,omitempty"`
	}
	// OutboundData is the data of message.outbound: a message to deliver to one
	// non-chat participant over its channel (Participant.Type, Address, ProxyAddress).
	OutboundData struct {
		ConversationSid string           `json:"conversationSid"`
		Message         wire.Message     `json:"message"`
		Participant     wire.Participant `json:"participant"`
	}
	// PushData is the data of push.notification: a payload to hand to FCM or APNs for
	// each of the recipient's registrations.
	PushData struct {
		Identity      string           `json:"identity"`
		Payload       wire.PushPayload `json:"payload"`
		Registrations []PushDevice     `json:"registrations"`
	}
	// PushDevice is one push registration.
	PushDevice struct {
		ChannelType    string `json:"channelType"`
		RegistrationID string `json:"registrationId"`
	}
)

// Sign returns the X-Convo-Signature value of body.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// VerifySignature checks an X-Convo-Signature header against body in constant time.
func VerifySignature(secret string, body []byte, header string) bool {
	return hmac.Equal([]byte(Sign(secret, body)), []byte(header))
}
