package core

import (
	"encoding/json"
	"sync"

	"github.com/convo-sdk/convo/core/wire"
)

// User is a user's public record. Client.User() is the signed-in user.
type User struct {
	*Emitter
	client *Client
	mu     sync.Mutex
	data   wire.User
}

func newUser(c *Client, d wire.User) *User {
	u := &User{Emitter: NewEmitter(), client: c, data: d}
	u.OnListenerPanic = func(event string, r any) { c.opts.Logf("convo: a %q listener panicked: %v", event, r) }
	return u
}

func (u *User) apply(d wire.User) {
	u.mu.Lock()
	u.data = d
	u.mu.Unlock()
}

func (u *User) snapshot() wire.User {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.data
}

// Identity returns the user's identity.
func (u *User) Identity() string {
	if id := u.snapshot().Identity; id != "" {
		return id
	}
	return u.client.claims.Identity
}

// FriendlyName returns the display name, possibly empty.
func (u *User) FriendlyName() string { return u.snapshot().FriendlyName }

// AttributesJSON returns the attributes as JSON ("{}" when unset).
func (u *User) AttributesJSON() json.RawMessage { return orEmptyObject(u.snapshot().Attributes) }
