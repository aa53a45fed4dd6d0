package server

import (
	"errors"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/wire"
)

// userSubscribe returns any user's public record and subscribes the connection to its
// changes (SignalUserUpdated). Any authenticated user may; at most maxSubscriptions per
// connection, the oldest dropped.
func (s *Server) userSubscribe(c *call, a wire.UserRef) (any, error) {
	if err := checkIdentityRef("identity", a.Identity); err != nil {
		return nil, err
	}
	u, err := s.userRecord(c.ctx, a.Identity)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errUserNotFound(a.Identity)
	}
	if err != nil {
		return nil, err
	}
	s.hub.subscribe(c.conn, a.Identity)
	return u, nil
}

// userUnsubscribe drops the connection's subscription to a user (a no-op when there is none).
func (s *Server) userUnsubscribe(c *call, a wire.UserRef) (any, error) {
	if err := required("identity", a.Identity); err != nil {
		return nil, err
	}
	s.hub.unsubscribe(c.conn, a.Identity)
	return wire.Empty{}, nil
}

// userUpdate changes the caller's own friendly name or attributes.
func (s *Server) userUpdate(c *call, a wire.UpdateUserArgs) (any, error) {
	if a.FriendlyName != nil {
		if err := maxChars("friendlyName", *a.FriendlyName, wire.MaxFriendlyNameChars); err != nil {
			return nil, err
		}
	}
	attrs, err := checkAttributesChange("attributes", a.Attributes, wire.MaxUserAttrsBytes)
	if err != nil {
		return nil, err
	}
	u, reasons, err := s.cfg.Store.UpdateUser(c.ctx, c.identity, a.FriendlyName, attrs)
	if err != nil {
		return nil, err
	}
	u.IsOnline = s.hub.online(c.identity)
	if len(reasons) > 0 {
		s.userUpdated(u, reasons, nil)
	}
	return u, nil
}
