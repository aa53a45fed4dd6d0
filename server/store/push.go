package store

import "context"

// PushRegistrationStore keeps the devices registered for push notifications.
type PushRegistrationStore interface {
	// PushRegistrations returns the push registrations of each identity that has any.
	PushRegistrations(ctx context.Context, identities []string) (map[string][]PushRegistration, error)
	// AddPushRegistration records a device; added is false when it was already there (its
	// registration time is refreshed). An identity keeps at most MaxPushRegistrations: the
	// least recently registered beyond that are dropped.
	AddPushRegistration(ctx context.Context, r PushRegistration) (added bool, err error)
	// RemovePushRegistrations removes identity's registration of that channel type, or all
	// of that channel type when registrationID is empty, and reports how many went.
	RemovePushRegistrations(ctx context.Context, identity, channelType, registrationID string) (int64, error)
}

// MaxPushRegistrations is how many push registrations one identity keeps.
const MaxPushRegistrations = 20

// PushRegistration is a device registered for push notifications.
type PushRegistration struct {
	Identity       string
	ChannelType    string // wire.PushFCM or wire.PushAPN
	RegistrationID string
}
