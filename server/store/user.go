package store

import (
	"context"

	"github.com/convo-sdk/convo/wire"
)

// UserStore keeps users' public records.
type UserStore interface {
	// EnsureUser returns identity's record, creating it (and its event stream) on first use.
	EnsureUser(ctx context.Context, identity string) (wire.User, error)
	// User returns identity's public record with IsNotifiable filled (IsOnline is the
	// server's business); ErrNotFound when the user never connected nor was added.
	User(ctx context.Context, identity string) (wire.User, error)
	// UpdateUser changes the fields that are set and returns the record and the update
	// reasons (empty when nothing changed).
	UpdateUser(ctx context.Context, identity string, friendlyName *string, attributes wire.RawJSON) (wire.User, []string, error)
}
