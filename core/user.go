package core

import (
	"context"

	"github.com/convo-sdk/convo/wire"
)

// MaxSubscribedUsers is how many users a client follows at once; the oldest subscription is
// dropped (userUnsubscribed) to make room.
const MaxSubscribedUsers = 100

// User is a user's public record. One identity maps to one *User per client; Client.User() is
// the signed-in user, always subscribed and never counted against MaxSubscribedUsers.
type User struct {
	emitter *Emitter
	client  *Client
	// Guarded by client.mu.
	data       wire.User
	subscribed bool
}

func newUser(c *Client, d wire.User) *User {
	u := &User{emitter: NewEmitter(), client: c, data: d}
	u.emitter.OnListenerPanic = func(event string, r any) { c.opts.Logf("convo: a %q listener panicked: %v", event, r) }
	return u
}

// Emitter returns the user's string-named emitter, for bindings; see EventSource.
func (u *User) Emitter() *Emitter { return u.emitter }

func (u *User) apply(d wire.User) {
	u.client.mu.Lock()
	u.data = d
	u.client.touchLocked("")
	u.client.mu.Unlock()
}

func (u *User) snapshot() wire.User {
	u.client.mu.Lock()
	defer u.client.mu.Unlock()
	return u.data
}

// Identity returns the user's identity.
func (u *User) Identity() string {
	if id := u.snapshot().Identity; id != "" {
		return id
	}
	if u == u.client.user {
		return u.client.claims.Identity
	}
	return ""
}

// FriendlyName returns the display name, possibly empty.
func (u *User) FriendlyName() string { return u.snapshot().FriendlyName }

// AttributesJSON returns the attributes as JSON ("{}" when unset).
func (u *User) AttributesJSON() wire.RawJSON { return orEmptyObject(u.snapshot().Attributes) }

// IsOnline reports whether the user has a live connection.
func (u *User) IsOnline() bool { return u.snapshot().IsOnline }

// IsNotifiable reports whether the user has a push registration.
func (u *User) IsNotifiable() bool { return u.snapshot().IsNotifiable }

// IsSubscribed reports whether the client follows this user's updates.
func (u *User) IsSubscribed() bool {
	if u == u.client.user {
		return true
	}
	u.client.mu.Lock()
	defer u.client.mu.Unlock()
	return u.subscribed
}

// UpdateFriendlyName changes the signed-in user's display name.
func (u *User) UpdateFriendlyName(ctx context.Context, name string) error {
	return u.update(ctx, wire.UpdateUserArgs{FriendlyName: &name})
}

// UpdateAttributes replaces the signed-in user's attributes.
func (u *User) UpdateAttributes(ctx context.Context, attributes wire.RawJSON) error {
	return u.update(ctx, wire.UpdateUserArgs{Attributes: orEmptyObject(attributes)})
}

func (u *User) update(ctx context.Context, args wire.UpdateUserArgs) error {
	c := u.client
	if u != c.user {
		return wire.Errorf(wire.CodeForbidden, "only the signed-in user's own record can be changed, not %q's", u.Identity())
	}
	if err := c.ready(ctx); err != nil {
		return err
	}
	var d wire.User
	return c.callThenEvents(ctx, wire.OpUserUpdate, &args, &d, resendAfterReconnect, func() { u.apply(d) })
}

// Unsubscribe stops following the user's updates.
func (u *User) Unsubscribe(ctx context.Context) error {
	c := u.client
	if u == c.user {
		return nil // the own user stays subscribed
	}
	c.mu.Lock()
	was := u.subscribed
	u.subscribed = false
	c.removeSubscriptionLocked(u)
	c.touchLocked("")
	c.mu.Unlock()
	if !was {
		return nil
	}
	c.events.push(func() { c.emitUnsubscribed(u) })
	return c.call(ctx, wire.OpUserUnsubscribe, &wire.UserRef{Identity: u.Identity()}, nil, resendAfterReconnect)
}

// GetUser returns a user and follows its updates. Following more than MaxSubscribedUsers
// drops the oldest subscription.
func (c *Client) GetUser(ctx context.Context, identity string) (*User, error) {
	if identity == "" || len([]rune(identity)) > wire.MaxIdentityChars {
		return nil, wire.Errorf(CodeClientArgument, "an identity is 1 to %d characters, got %d", wire.MaxIdentityChars, len([]rune(identity)))
	}
	if err := c.ready(ctx); err != nil {
		return nil, err
	}
	if identity == c.user.Identity() {
		return c.user, nil
	}
	var d wire.User
	if err := c.call(ctx, wire.OpUserSubscribe, &wire.UserRef{Identity: identity}, &d, resendAfterReconnect); err != nil {
		if wire.CodeOf(err) == CodeClientOffline { // offline: the one the client holds, if any
			c.mu.Lock()
			u := c.users[identity]
			c.mu.Unlock()
			if u != nil {
				return u, nil
			}
		}
		return nil, err
	}
	c.mu.Lock()
	u, ok := c.users[identity]
	if !ok {
		u = newUser(c, d)
		c.users[identity] = u
	}
	u.data = d
	newly := !u.subscribed
	u.subscribed = true
	c.removeSubscriptionLocked(u)
	c.subscriptions = append(c.subscriptions, u)
	var evicted *User
	if len(c.subscriptions) > MaxSubscribedUsers {
		evicted = c.subscriptions[0]
		evicted.subscribed = false
		c.subscriptions = c.subscriptions[1:]
	}
	c.touchLocked("")
	c.mu.Unlock()
	if newly {
		c.events.push(func() {
			UserEventSubscribed.emit(u.emitter, u)
			EventUserSubscribed.emit(c.emitter, u)
		})
	}
	if evicted != nil {
		c.events.push(func() { c.emitUnsubscribed(evicted) })
		go func() {
			if err := c.call(c.ctx, wire.OpUserUnsubscribe, &wire.UserRef{Identity: evicted.Identity()}, nil, resendAfterReconnect); err != nil && c.ctx.Err() == nil {
				c.opts.Logf("convo: unsubscribing %q failed: %v", evicted.Identity(), err)
			}
		}()
	}
	return u, nil
}

// GetSubscribedUsers returns the followed users, oldest subscription first, the signed-in
// user not included.
func (c *Client) GetSubscribedUsers(ctx context.Context) ([]*User, error) {
	if err := c.ready(ctx); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*User(nil), c.subscriptions...), nil
}

// emitUnsubscribed tells listeners that the client stopped following u.
func (c *Client) emitUnsubscribed(u *User) {
	UserEventUnsubscribed.emit(u.emitter, u)
	EventUserUnsubscribed.emit(c.emitter, u)
}

func (c *Client) removeSubscriptionLocked(u *User) {
	for i, s := range c.subscriptions {
		if s == u {
			c.subscriptions = append(c.subscriptions[:i], c.subscriptions[i+1:]...)
			return
		}
	}
}

// applyUserUpdate applies a userUpdated signal to the user it names.
func (c *Client) applyUserUpdate(d wire.User, reasons []string) {
	c.mu.Lock()
	u := c.users[d.Identity]
	if d.Identity == c.claims.Identity {
		u = c.user
	}
	c.mu.Unlock()
	if u == nil {
		return
	}
	u.apply(d)
	upd := UserUpdate{User: u, UpdateReasons: reasons}
	EventUserUpdated.emit(c.emitter, upd)
	UserEventUpdated.emit(u.emitter, upd)
}

// announceOwnUser tells listeners of the signed-in user's record at start-up, as the vendor's
// client does while it loads it: a userUpdated for each part that is not blank (the name, the
// attributes, then reachability), then userSubscribed.
func (c *Client) announceOwnUser() {
	u := c.user
	reasons := userChanges(wire.User{}, u.snapshot())
	var reach []string
	for _, r := range reasons {
		if r == wire.ReasonReachabilityOnline || r == wire.ReasonReachabilityNotify {
			reach = append(reach, r)
			continue
		}
		EventUserUpdated.emit(c.emitter, UserUpdate{User: u, UpdateReasons: []string{r}})
	}
	if len(reach) > 0 {
		EventUserUpdated.emit(c.emitter, UserUpdate{User: u, UpdateReasons: reach})
	}
	EventUserSubscribed.emit(c.emitter, u)
}

// applyOwnUser takes the signed-in user's record from a welcome. Before initialisation it
// is part of what initialized announces; after (a reconnect, or a start from the local
// store) what changed meanwhile is a userUpdated.
func (c *Client) applyOwnUser(d wire.User) {
	if !c.initialised() {
		c.user.apply(d)
		return
	}
	if reasons := userChanges(c.user.snapshot(), d); len(reasons) > 0 {
		c.events.push(func() { c.applyUserUpdate(d, reasons) })
	}
}

// refreshUsers re-subscribes the followed users after a reconnect (subscriptions live on the
// connection) and emits userUpdated for what changed meanwhile.
func (c *Client) refreshUsers() {
	c.mu.Lock()
	subs := append([]*User(nil), c.subscriptions...)
	c.mu.Unlock()
	for _, u := range subs {
		var d wire.User
		if err := c.call(c.ctx, wire.OpUserSubscribe, &wire.UserRef{Identity: u.Identity()}, &d, resendAfterReconnect); err != nil {
			if c.ctx.Err() == nil {
				c.opts.Logf("convo: re-subscribing %q failed: %v", u.Identity(), err)
			}
			continue
		}
		if reasons := userChanges(u.snapshot(), d); len(reasons) > 0 {
			c.events.push(func() { c.applyUserUpdate(d, reasons) })
		}
	}
}

// userChanges names the fields that differ between two records of one user.
func userChanges(a, b wire.User) []string {
	var reasons []string
	if a.FriendlyName != b.FriendlyName {
		reasons = append(reasons, wire.ReasonFriendlyName)
	}
	if string(orEmptyObject(a.Attributes)) != string(orEmptyObject(b.Attributes)) {
		reasons = append(reasons, wire.ReasonAttributes)
	}
	if a.IsOnline != b.IsOnline {
		reasons = append(reasons, wire.ReasonReachabilityOnline)
	}
	if a.IsNotifiable != b.IsNotifiable {
		reasons = append(reasons, wire.ReasonReachabilityNotify)
	}
	return reasons
}
