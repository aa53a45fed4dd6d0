package server

import (
	"encoding/json"
	"errors"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/wire"
)

// User ops (subscribe, unsubscribe, update), push registrations and token renewal.

// maxRegistrationIDChars bounds a push registration id (FCM tokens are ~160 characters).
const maxRegistrationIDChars = 4096

// userSubscribe returns any user's public record and subscribes the connection to its
// changes (SignalUserUpdated). Any authenticated user may; at most maxSubscriptions per
// connection, the oldest dropped.
func (s *Server) userSubscribe(c *call) (any, error) {
	var a wire.UserRef
	if err := decodeArgs(c.data, &a); err != nil {
		return nil, err
	}
	if err := checkIdentityArg("identity", a.Identity); err != nil {
		return nil, err
	}
	u, err := s.userRecord(c.ctx, a.Identity)
	if errors.Is(err, store.ErrNotFound) {
		return nil, wire.Errorf(wire.CodeNotFound, "user %q not found", a.Identity)
	}
	if err != nil {
		return nil, err
	}
	s.hub.subscribe(c.conn, a.Identity)
	return u, nil
}

// userUnsubscribe drops the connection's subscription to a user (a no-op when there is none).
func (s *Server) userUnsubscribe(c *call) (any, error) {
	var a wire.UserRef
	if err := decodeArgs(c.data, &a); err != nil {
		return nil, err
	}
	if err := required("identity", a.Identity); err != nil {
		return nil, err
	}
	s.hub.unsubscribe(c.conn, a.Identity)
	return wire.Empty{}, nil
}

// userUpdate changes the caller's own friendly name or attributes.
func (s *Server) userUpdate(c *call) (any, error) {
	var a wire.UpdateUserArgs
	if err := decodeArgs(c.data, &a); err != nil {
		return nil, err
	}
	if a.FriendlyName != nil {
		if err := maxChars("friendlyName", *a.FriendlyName, wire.MaxFriendlyNameChars); err != nil {
			return nil, err
		}
	}
	var attrs json.RawMessage
	if a.Attributes != nil {
		var err error
		if attrs, err = checkAttributes("attributes", a.Attributes, wire.MaxUserAttrsBytes); err != nil {
			return nil, err
		}
		if attrs == nil {
			attrs = json.RawMessage(`{}`)
		}
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

func checkPushArgs(a wire.PushRegistrationArgs, needID bool) error {
	if a.ChannelType != wire.PushFCM && a.ChannelType != wire.PushAPN {
		return wire.Errorf(wire.CodeBadRequest, "channelType must be %q or %q, got %q", wire.PushFCM, wire.PushAPN, a.ChannelType)
	}
	if needID {
		if err := required("registrationId", a.RegistrationID); err != nil {
			return err
		}
	}
	return maxChars("registrationId", a.RegistrationID, maxRegistrationIDChars)
}

// pushRegister records a device of the caller for push notifications.
func (s *Server) pushRegister(c *call) (any, error) {
	var a wire.PushRegistrationArgs
	if err := decodeArgs(c.data, &a); err != nil {
		return nil, err
	}
	if err := checkPushArgs(a, true); err != nil {
		return nil, err
	}
	return s.pushChange(c, func() error {
		_, err := s.cfg.Store.AddPushRegistration(c.ctx, store.PushRegistration{
			Identity: c.identity, ChannelType: a.ChannelType, RegistrationID: a.RegistrationID})
		return err
	})
}

// pushUnregister removes the caller's device (or every device of that channel type).
func (s *Server) pushUnregister(c *call) (any, error) {
	var a wire.PushRegistrationArgs
	if err := decodeArgs(c.data, &a); err != nil {
		return nil, err
	}
	if err := checkPushArgs(a, false); err != nil {
		return nil, err
	}
	return s.pushChange(c, func() error {
		_, err := s.cfg.Store.RemovePushRegistrations(c.ctx, c.identity, a.ChannelType, a.RegistrationID)
		return err
	})
}

// pushChange runs a registration change and signals when isNotifiable flipped.
func (s *Server) pushChange(c *call, change func() error) (any, error) {
	before, err := s.cfg.Store.User(c.ctx, c.identity)
	if err != nil {
		return nil, err
	}
	if err := change(); err != nil {
		return nil, err
	}
	after, err := s.userRecord(c.ctx, c.identity)
	if err != nil {
		return nil, err
	}
	if before.IsNotifiable != after.IsNotifiable {
		s.userUpdated(after, []string{wire.ReasonReachabilityNotify}, nil)
	}
	return wire.Empty{}, nil
}

// sessionUpdateToken renews the connection's token: it must verify like a hello token and
// name the same identity; the connection then lives until the new expiry.
func (s *Server) sessionUpdateToken(c *call) (any, error) {
	var a wire.UpdateTokenArgs
	if err := decodeArgs(c.data, &a); err != nil {
		return nil, err
	}
	claims, err := s.cfg.Keys.Verify(a.Token)
	if err != nil {
		return nil, err
	}
	if claims.Identity != c.identity {
		return nil, wire.Errorf(wire.CodeTokenIdentity, "the new token is for %q but this connection is %q; connect anew to change identity", claims.Identity, c.identity)
	}
	c.conn.renewed(claims.ExpiresAt.Time)
	return wire.UpdateTokenResult{TokenExpires: claims.ExpiresAt.UnixMilli()}, nil
}
