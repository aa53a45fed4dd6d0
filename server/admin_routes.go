package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/wire"
)

// registerAdmin adds the admin routes to the mux.
func (s *Server) registerAdmin() {
	s.adminRoute("POST /conversations", s.adminCreateConversation)
	s.adminRoute("GET /conversations", s.adminListConversations)
	s.adminRoute("GET /conversations/{conv}", s.adminGetConversation)
	s.adminRoute("PATCH /conversations/{conv}", s.adminUpdateConversation)
	s.adminRoute("POST /conversations/{conv}", s.adminUpdateConversation)
	s.adminRoute("DELETE /conversations/{conv}", s.adminDeleteConversation)

	s.adminRoute("GET /conversations/{conv}/participants", s.adminListParticipants)
	s.adminRoute("POST /conversations/{conv}/participants", s.adminAddParticipant)
	s.adminRoute("GET /conversations/{conv}/participants/{p}", s.adminGetParticipant)
	s.adminRoute("PATCH /conversations/{conv}/participants/{p}", s.adminUpdateParticipant)
	s.adminRoute("DELETE /conversations/{conv}/participants/{p}", s.adminRemoveParticipant)

	s.adminRoute("GET /conversations/{conv}/messages", s.adminListMessages)
	s.adminRoute("POST /conversations/{conv}/messages", s.adminSendMessage)
	s.adminRoute("GET /conversations/{conv}/messages/{m}", s.adminGetMessage)
	s.adminRoute("PATCH /conversations/{conv}/messages/{m}", s.adminUpdateMessage)
	s.adminRoute("DELETE /conversations/{conv}/messages/{m}", s.adminRemoveMessage)
	s.adminRoute("GET /conversations/{conv}/messages/{m}/receipts", s.adminListReceipts)
	s.adminRoute("PUT /conversations/{conv}/messages/{m}/receipts/{p}", s.adminUpsertReceipt)

	s.adminRoute("GET /users/{identity}", s.adminGetUser)
	s.adminRoute("PATCH /users/{identity}", s.adminUpdateUser)

	s.adminRoute("POST /content", s.adminCreateContent)
	s.adminRoute("GET /content", s.adminListContent)
	s.adminRoute("GET /content/{sid}", s.adminGetContent)
	s.adminRoute("PATCH /content/{sid}", s.adminUpdateContent)
	s.adminRoute("DELETE /content/{sid}", s.adminDeleteContent)
}

// ---- conversations

// adminConversationArgs create or change a conversation. Timers, when present, replace both
// timers (an omitted one is cleared).
type adminConversationArgs struct {
	FriendlyName *string         `json:"friendlyName"`
	UniqueName   *string         `json:"uniqueName"`
	Attributes   json.RawMessage `json:"attributes"`
	State        string          `json:"state"`
	Timers       *adminTimers    `json:"timers"`
	CreatedBy    string          `json:"createdBy"` // create only
}

type adminTimers struct {
	Inactive string `json:"inactive,omitempty"`
	Closed   string `json:"closed,omitempty"`
}

func (a *adminConversationArgs) check() (json.RawMessage, error) {
	if a.FriendlyName != nil {
		if err := maxChars("friendlyName", *a.FriendlyName, wire.MaxFriendlyNameChars); err != nil {
			return nil, err
		}
	}
	if a.UniqueName != nil {
		if err := maxChars("uniqueName", *a.UniqueName, wire.MaxUniqueNameChars); err != nil {
			return nil, err
		}
	}
	switch a.State {
	case "", wire.StateActive, wire.StateInactive, wire.StateClosed:
	default:
		return nil, wire.Errorf(wire.CodeBadRequest, "state must be %q, %q or %q, got %q", wire.StateActive, wire.StateInactive, wire.StateClosed, a.State)
	}
	if a.CreatedBy != "" {
		if err := checkIdentityArg("createdBy", a.CreatedBy); err != nil {
			return nil, err
		}
	}
	if _, _, err := a.timers(); err != nil {
		return nil, err
	}
	return checkAttributes("attributes", a.Attributes, wire.MaxConversationAttrsBytes)
}

func (a *adminConversationArgs) timers() (inactive, closed time.Duration, err error) {
	if a.Timers == nil {
		return 0, 0, nil
	}
	if inactive, err = parseTimer("timers.inactive", a.Timers.Inactive); err != nil {
		return 0, 0, err
	}
	closed, err = parseTimer("timers.closed", a.Timers.Closed)
	return inactive, closed, err
}

// applyStateAndTimers sets what adminConversationArgs ask beyond the plain fields.
func (s *Server) applyStateAndTimers(r *adminReq, sid string, a *adminConversationArgs) error {
	if a.Timers != nil {
		in, cl, _ := a.timers()
		if err := s.cfg.Store.SetConversationTimers(r.ctx, sid, in, cl); err != nil {
			return storeErr(err, "conversation "+sid)
		}
	}
	if a.State != "" {
		_, ds, err := s.cfg.Store.SetConversationState(r.ctx, sid, a.State)
		if err != nil {
			return storeErr(err, "conversation "+sid)
		}
		s.hub.deliver(ds)
	}
	return nil
}

func (s *Server) adminCreateConversation(r *adminReq) (int, any, error) {
	var a adminConversationArgs
	if err := r.decode(&a); err != nil {
		return 0, nil, err
	}
	attrs, err := a.check()
	if err != nil {
		return 0, nil, err
	}
	nc := store.NewConversation{Attributes: attrs, CreatedBy: a.CreatedBy}
	if a.FriendlyName != nil {
		nc.FriendlyName = *a.FriendlyName
	}
	if a.UniqueName != nil {
		nc.UniqueName = *a.UniqueName
	}
	conv, err := s.cfg.Store.CreateConversation(r.ctx, nc)
	if errors.Is(err, store.ErrConflict) {
		return 0, nil, wire.Errorf(wire.CodeConflict, "a conversation with uniqueName %q already exists", nc.UniqueName)
	}
	if err != nil {
		return 0, nil, err
	}
	s.webhooks.nudge()
	if a.State != "" || a.Timers != nil {
		if err := s.applyStateAndTimers(r, conv.Sid, &a); err != nil {
			return 0, nil, err
		}
		if conv, err = s.cfg.Store.Conversation(r.ctx, conv.Sid); err != nil {
			return 0, nil, err
		}
	}
	return http.StatusCreated, conv, nil
}

func (s *Server) adminListConversations(r *adminReq) (int, any, error) {
	items, next, err := adminList(r, s.cfg.Store.AllConversations)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, wire.ConversationPage{Items: items, Next: next}, nil
}

func (s *Server) adminGetConversation(r *adminReq) (int, any, error) {
	conv, err := s.adminConversation(r.ctx, r.path("conv"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, conv, nil
}

func (s *Server) adminUpdateConversation(r *adminReq) (int, any, error) {
	conv, err := s.adminConversation(r.ctx, r.path("conv"))
	if err != nil {
		return 0, nil, err
	}
	var a adminConversationArgs
	if err := r.decode(&a); err != nil {
		return 0, nil, err
	}
	if a.CreatedBy != "" {
		return 0, nil, wire.Errorf(wire.CodeBadRequest, "createdBy cannot be changed")
	}
	attrs, err := a.check()
	if err != nil {
		return 0, nil, err
	}
	if a.FriendlyName != nil || a.UniqueName != nil || attrs != nil {
		_, ds, err := s.cfg.Store.UpdateConversation(r.ctx, store.ConversationUpdate{
			Sid: conv.Sid, FriendlyName: a.FriendlyName, UniqueName: a.UniqueName, Attributes: attrs})
		if errors.Is(err, store.ErrConflict) {
			return 0, nil, wire.Errorf(wire.CodeConflict, "a conversation with uniqueName %q already exists", *a.UniqueName)
		}
		if err != nil {
			return 0, nil, storeErr(err, "conversation "+conv.Sid)
		}
		s.hub.deliver(ds)
	}
	if err := s.applyStateAndTimers(r, conv.Sid, &a); err != nil {
		return 0, nil, err
	}
	s.webhooks.nudge()
	conv, err = s.cfg.Store.Conversation(r.ctx, conv.Sid)
	return http.StatusOK, conv, err
}

func (s *Server) adminDeleteConversation(r *adminReq) (int, any, error) {
	conv, err := s.adminConversation(r.ctx, r.path("conv"))
	if err != nil {
		return 0, nil, err
	}
	media, ds, err := s.cfg.Store.DeleteConversation(r.ctx, conv.Sid)
	if err != nil {
		return 0, nil, storeErr(err, "conversation "+conv.Sid)
	}
	s.hub.deliver(ds)
	s.webhooks.nudge()
	s.removeMediaFiles(media)
	return http.StatusNoContent, nil, nil
}

// ---- participants

// adminParticipantArgs add a chat participant (identity) or a non-chat one (address and
// proxyAddress; type derived from them unless given).
type adminParticipantArgs struct {
	Identity     string          `json:"identity"`
	Type         string          `json:"type"`
	Address      string          `json:"address"`
	ProxyAddress string          `json:"proxyAddress"`
	Attributes   json.RawMessage `json:"attributes"`
	Bindings     json.RawMessage `json:"bindings"`
}

func (s *Server) adminListParticipants(r *adminReq) (int, any, error) {
	conv, err := s.adminConversation(r.ctx, r.path("conv"))
	if err != nil {
		return 0, nil, err
	}
	ps, err := s.cfg.Store.Participants(r.ctx, conv.Sid)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, wire.ParticipantPage{Items: ps}, nil
}

func (s *Server) adminAddParticipant(r *adminReq) (int, any, error) {
	conv, err := s.adminConversation(r.ctx, r.path("conv"))
	if err != nil {
		return 0, nil, err
	}
	var a adminParticipantArgs
	if err := r.decode(&a); err != nil {
		return 0, nil, err
	}
	attrs, err := checkAttributes("attributes", a.Attributes, wire.MaxParticipantAttrsBytes)
	if err != nil {
		return 0, nil, err
	}
	// The backend may bring back an identity that was removed.
	np := store.NewParticipant{ConversationSid: conv.Sid, Attributes: attrs, Max: s.cfg.MaxParticipants, LiftBan: true}
	what := ""
	switch {
	case a.Identity != "":
		if a.Address != "" || a.ProxyAddress != "" || (a.Type != "" && a.Type != wire.ParticipantChat) {
			return 0, nil, wire.Errorf(wire.CodeBadRequest, "give identity for a chat participant, or address and proxyAddress for a non-chat one, not both")
		}
		if err := checkIdentityArg("identity", a.Identity); err != nil {
			return 0, nil, err
		}
		np.Identity, np.Type, what = a.Identity, wire.ParticipantChat, a.Identity
	default:
		if err := required("identity or address", a.Address); err != nil {
			return 0, nil, err
		}
		if err := checkAddress("address", a.Address); err != nil {
			return 0, nil, err
		}
		if a.ProxyAddress != "" {
			if err := checkAddress("proxyAddress", a.ProxyAddress); err != nil {
				return 0, nil, err
			}
		}
		typ := nonChatType(a.ProxyAddress, a.Address)
		switch a.Type {
		case "", typ:
		case wire.ParticipantSMS, wire.ParticipantWhatsApp, wire.ParticipantEmail:
			typ = a.Type
		default:
			return 0, nil, wire.Errorf(wire.CodeBadRequest, "type must be %q, %q or %q for a participant with an address, got %q",
				wire.ParticipantSMS, wire.ParticipantWhatsApp, wire.ParticipantEmail, a.Type)
		}
		if typ != wire.ParticipantEmail {
			if err := required("proxyAddress", a.ProxyAddress); err != nil {
				return 0, nil, err
			}
		}
		bindings, err := checkAttributes("bindings", a.Bindings, wire.MaxParticipantAttrsBytes)
		if err != nil {
			return 0, nil, err
		}
		np.Type, np.Address, np.ProxyAddress, np.Bindings = typ, a.Address, a.ProxyAddress, bindings
		what = a.Address
	}
	p, ds, err := s.cfg.Store.AddParticipant(r.ctx, np)
	switch {
	case errors.Is(err, store.ErrConflict):
		return 0, nil, wire.Errorf(wire.CodeConflict, "%q is already a participant of conversation %q", what, conv.Sid)
	case errors.Is(err, store.ErrTooManyParticipants):
		return 0, nil, wire.Errorf(wire.CodeTooManyMembers, "conversation %q has reached its limit of %d participants", conv.Sid, s.cfg.MaxParticipants)
	case err != nil:
		return 0, nil, storeErr(err, "conversation "+conv.Sid)
	}
	s.hub.deliver(ds)
	s.webhooks.nudge()
	return http.StatusCreated, p, nil
}

func (s *Server) adminGetParticipant(r *adminReq) (int, any, error) {
	_, p, err := s.adminConvParticipant(r)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, p, nil
}

func (s *Server) adminUpdateParticipant(r *adminReq) (int, any, error) {
	conv, p, err := s.adminConvParticipant(r)
	if err != nil {
		return 0, nil, err
	}
	var a struct {
		Attributes json.RawMessage `json:"attributes"`
	}
	if err := r.decode(&a); err != nil {
		return 0, nil, err
	}
	attrs, err := checkAttributes("attributes", a.Attributes, wire.MaxParticipantAttrsBytes)
	if err != nil {
		return 0, nil, err
	}
	if attrs == nil {
		attrs = json.RawMessage(`{}`)
	}
	p, ds, err := s.cfg.Store.UpdateParticipant(r.ctx, conv.Sid, p.Sid, attrs)
	if err != nil {
		return 0, nil, storeErr(err, "participant "+p.Sid)
	}
	s.hub.deliver(ds)
	return http.StatusOK, p, nil
}

func (s *Server) adminRemoveParticipant(r *adminReq) (int, any, error) {
	conv, p, err := s.adminConvParticipant(r)
	if err != nil {
		return 0, nil, err
	}
	// A removal by the backend keeps the identity out: it cannot join again by sid.
	_, ds, err := s.cfg.Store.RemoveParticipant(r.ctx, conv.Sid, p.Sid, true)
	if err != nil {
		return 0, nil, storeErr(err, "participant "+p.Sid)
	}
	s.hub.deliver(ds)
	s.webhooks.nudge()
	return http.StatusNoContent, nil, nil
}

// ---- users

func (s *Server) adminGetUser(r *adminReq) (int, any, error) {
	id := r.path("identity")
	if err := checkIdentityArg("identity", id); err != nil {
		return 0, nil, err
	}
	u, err := s.cfg.Store.User(r.ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil, wire.Errorf(wire.CodeNotFound, "user %q not found", id)
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
	attrs, err := checkAttributes("attributes", a.Attributes, wire.MaxUserAttrsBytes)
	if err != nil {
		return 0, nil, err
	}
	if a.Attributes != nil && attrs == nil {
		attrs = json.RawMessage(`{}`) // "null" resets them
	}
	if _, err := s.cfg.Store.EnsureUser(r.ctx, id); err != nil {
		return 0, nil, err
	}
	u, reasons, err := s.cfg.Store.UpdateUser(r.ctx, id, a.FriendlyName, attrs)
	if err != nil {
		return 0, nil, storeErr(err, "user "+id)
	}
	if len(reasons) > 0 {
		s.userUpdated(u, reasons, nil)
	}
	return http.StatusOK, u, nil
}
