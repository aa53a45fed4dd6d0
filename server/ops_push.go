package server

import (
	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/wire"
)

// maxRegistrationIDChars bounds a push registration id (FCM tokens are ~160 characters).
const maxRegistrationIDChars = 4096

// pushRegister records a device of the caller for push notifications.
func (s *Server) pushRegister(c *call, a wire.PushRegistrationArgs) (any, error) {
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
func (s *Server) pushUnregister(c *call, a wire.PushRegistrationArgs) (any, error) {
	if err := checkPushArgs(a, false); err != nil {
		return nil, err
	}
	return s.pushChange(c, func() error {
		_, err := s.cfg.Store.RemovePushRegistrations(c.ctx, c.identity, a.ChannelType, a.RegistrationID)
		return err
	})
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
