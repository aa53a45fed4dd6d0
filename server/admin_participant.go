package server

import (
	"context"
	"errors"
	"net/http"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/wire"
)

// adminParticipantArgs add a chat participant (identity) or a non-chat one (address and
// proxyAddress; type derived from them unless given).
type adminParticipantArgs struct {
	Identity     string       `json:"identity"`
	Type         string       `json:"type"`
	Address      string       `json:"address"`
	ProxyAddress string       `json:"proxyAddress"`
	Attributes   wire.RawJSON `json:"attributes"`
	Bindings     wire.RawJSON `json:"bindings"`
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
		return 0, nil, storeErr(err, conversationThing(conv.Sid))
	}
	s.hub.deliver(ds)
	s.webhooks.Nudge()
	return http.StatusCreated, p, nil
}

func (s *Server) adminGetParticipant(r *adminReq) (int, any, error) {
	_, p, err := s.adminConvParticipant(r)
	return http.StatusOK, p, err // serveAdmin answers err instead when set
}

func (s *Server) adminUpdateParticipant(r *adminReq) (int, any, error) {
	conv, p, err := s.adminConvParticipant(r)
	if err != nil {
		return 0, nil, err
	}
	var a struct {
		Attributes wire.RawJSON `json:"attributes"`
	}
	if err := r.decode(&a); err != nil {
		return 0, nil, err
	}
	attrs, err := checkAttributes("attributes", a.Attributes, wire.MaxParticipantAttrsBytes)
	if err != nil {
		return 0, nil, err
	}
	if attrs == nil {
		attrs = wire.RawJSON(`{}`)
	}
	p, ds, err := s.cfg.Store.UpdateParticipant(r.ctx, conv.Sid, p.Sid, attrs)
	if err != nil {
		return 0, nil, storeErr(err, participantThing(conv.Sid, p.Sid))
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
		return 0, nil, storeErr(err, participantThing(conv.Sid, p.Sid))
	}
	s.hub.deliver(ds)
	s.webhooks.Nudge()
	return http.StatusNoContent, nil, nil
}

// adminParticipant resolves a {p} path value of conv by its shape: a sid-shaped one as a
// participant sid only, anything else as a chat participant's identity (identities of a
// sid's shape are refused).
func (s *Server) adminParticipant(ctx context.Context, conv, ref string) (wire.Participant, error) {
	var p wire.Participant
	var err error
	if wire.LooksLikeSid(ref) {
		p, err = s.cfg.Store.ParticipantBySid(ctx, conv, ref)
	} else {
		p, err = s.cfg.Store.Participant(ctx, conv, ref)
	}
	if errors.Is(err, store.ErrNotFound) {
		return p, errParticipantNotFound(conv, ref)
	}
	return p, err
}

// adminConvParticipant resolves the {conv} and {p} path values of a request.
func (s *Server) adminConvParticipant(r *adminReq) (wire.Conversation, wire.Participant, error) {
	conv, err := s.adminConversation(r.ctx, r.path("conv"))
	if err != nil {
		return conv, wire.Participant{}, err
	}
	p, err := s.adminParticipant(r.ctx, conv.Sid, r.path("p"))
	return conv, p, err
}
