package server

import (
	"errors"
	"net/http"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/wire"
)

func (s *Server) adminGetUser(r *adminReq) (int, any, error) {
	id := r.path("identity")
	if err := checkIdentityRef("identity", id); err != nil {
		return 0, nil, err
	}
	u, err := s.cfg.Store.User(r.ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil, errUserNotFound(id)
	}
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, u, nil
}

// adminUpdateUser changes a user's friendly name and attributes, creating the user when it
// does not exist yet (so a backend can prepare a profile before the first login).
func (s *Server) adminUpdateUser(r *adminReq) (int, any, error) {
	id := r.path("identity")
	if err := checkIdentityArg("identity", id); err != nil {
		return 0, nil, err
	}
	var a wire.UpdateUserArgs
	if err := r.decode(&a); err != nil {
		return 0, nil, err
	}
	if a.FriendlyName != nil {
		if err := maxChars("friendlyName", *a.FriendlyName, wire.MaxFriendlyNameChars); err != nil {
			return 0, nil, err
		}
	}
	attrs, err := checkAttributesChange("attributes", a.Attributes, wire.MaxUserAttrsBytes)
	if err != nil {
		return 0, nil, err
	}
	if _, err := s.cfg.Store.EnsureUser(r.ctx, id); err != nil {
		return 0, nil, err
	}
	u, reasons, err := s.cfg.Store.UpdateUser(r.ctx, id, a.FriendlyName, attrs)
	if err != nil {
		return 0, nil, storeErr(err, userThing(id))
	}
	if len(reasons) > 0 {
		s.userUpdated(u, reasons, nil)
	}
	return http.StatusOK, u, nil
}
