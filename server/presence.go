// A user's record as other users see it (IsOnline is the hub's, IsNotifiable the store's)
// and the signals that tell them when it changes.

package server

import (
	"context"
	"time"

	"github.com/convo-sdk/convo/wire"
)

// userRecord returns identity's public record with both reachability flags.
func (s *Server) userRecord(ctx context.Context, identity string) (wire.User, error) {
	u, err := s.cfg.Store.User(ctx, identity)
	if err != nil {
		return u, err
	}
	u.IsOnline = s.hub.online(identity)
	return u, nil
}

// userUpdated signals a user's new record to its subscribers and its own connections on
// every node. IsOnline is set here, so callers holding a bare store record need not.
func (s *Server) userUpdated(u wire.User, reasons []string, except *conn) {
	u.IsOnline = s.hub.online(u.Identity)
	s.hub.signalUser(u.Identity, userUpdatedFrame(u, reasons), except)
}

func userUpdatedFrame(u wire.User, reasons []string) *wire.Frame {
	return &wire.Frame{Type: wire.TypeSignal, Event: wire.SignalUserUpdated,
		Data: mustJSON(wire.UserUpdatedSignal{User: u, UpdateReasons: reasons})}
}

// reachabilityChanged signals that identity came online (its first connection in the
// cluster) or went offline (its last one closed, or its node died), to this node's
// connections only (except one, the connection that just came online and has the record
// in its welcome): every node learns the same transition from the bus and tells its own.
func (s *Server) reachabilityChanged(identity string, online bool, except *conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	u, err := s.cfg.Store.User(ctx, identity)
	if err != nil {
		s.log.Warn("loading user for a reachability signal failed", "identity", identity, "err", err)
		return
	}
	if u.IsOnline = s.hub.online(identity); u.IsOnline != online {
		return // it flipped back meanwhile; that transition signals for itself
	}
	s.hub.signalUserHere(identity, userUpdatedFrame(u, []string{wire.ReasonReachabilityOnline}), except)
}
