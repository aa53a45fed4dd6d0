package store

// FeatureStore is the part of Store behind the client API's features: updates and removal,
// read horizons, notification levels, users, media, push registrations, receipts.
//
// Add a method here only together with its implementation in every store (sqlite), so the
// tree always builds.
type FeatureStore interface {
	// PushRegistrations returns the push registrations of each identity that has any.
	// (Implemented by the client-features work; read by the webhook dispatcher.)
	// PushRegistrations(ctx context.Context, identities []string) (map[string][]PushRegistration, error)
}

// PushRegistration is a device registered for push notifications.
type PushRegistration struct {
	Identity       string
	ChannelType    string // wire.PushFCM or wire.PushAPN
	RegistrationID string
}

// EventConversationCreated names the webhook-only event a store records (with no recipient
// stream) when a conversation is created, so the webhook dispatcher can report it.
const EventConversationCreated = "conversationCreated"
