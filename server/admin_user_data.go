package server

import (
	"errors"
	"net/http"
	"slices"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/wire"
)

// A user's data, as the admin API exports or erases it: their user record, their
// participants and the conversations they are in, the messages they wrote (in any
// conversation, also ones they left) and their push registrations.

// userDataPage is how many messages or conversations one store read of an export or an
// erasure takes.
const userDataPage = 500

// UserExport is the answer of GET /users/{identity}/export.
type UserExport struct {
	User              *wire.User           `json:"user"` // null: no user record
	Conversations     []ExportedMembership `json:"conversations"`
	Messages          []wire.Message       `json:"messages"`
	PushRegistrations []ExportedDevice     `json:"pushRegistrations"`
}

// ExportedMembership is a conversation the user is in, with their participant.
type ExportedMembership struct {
	Conversation wire.Conversation `json:"conversation"`
	Participant  wire.Participant  `json:"participant"`
}

// ExportedDevice is a push registration.
type ExportedDevice struct {
	ChannelType    string `json:"channelType"`
	RegistrationID string `json:"registrationId"`
}

func (s *Server) adminExportUser(r *adminReq) (int, any, error) {
	id := r.path("identity")
	if err := checkIdentityRef("identity", id); err != nil {
		return 0, nil, err
	}
	out := UserExport{Conversations: []ExportedMembership{}, Messages: []wire.Message{}, PushRegistrations: []ExportedDevice{}}
	u, err := s.cfg.Store.User(r.ctx, id)
	switch {
	case err == nil:
		out.User = &u
	case !errors.Is(err, store.ErrNotFound):
		return 0, nil, err
	}
	for after := ""; ; {
		convs, next, err := s.cfg.Store.ConversationsOf(r.ctx, id, after, userDataPage)
		if err != nil {
			return 0, nil, err
		}
		for _, c := range convs {
			p, err := s.cfg.Store.Participant(r.ctx, c.Sid, id)
			if errors.Is(err, store.ErrNotFound) {
				continue // left meanwhile
			}
			if err != nil {
				return 0, nil, err
			}
			out.Conversations = append(out.Conversations, ExportedMembership{Conversation: c, Participant: p})
		}
		if next == "" {
			break
		}
		after = next
	}
	for after := ""; ; {
		ms, err := s.cfg.Store.MessagesByAuthor(r.ctx, id, after, userDataPage)
		if err != nil {
			return 0, nil, err
		}
		out.Messages = append(out.Messages, ms...)
		if len(ms) < userDataPage {
			break
		}
		after = ms[len(ms)-1].Sid
	}
	regs, err := s.cfg.Store.PushRegistrations(r.ctx, []string{id})
	if err != nil {
		return 0, nil, err
	}
	for _, reg := range regs[id] {
		out.PushRegistrations = append(out.PushRegistrations, ExportedDevice{ChannelType: reg.ChannelType, RegistrationID: reg.RegistrationID})
	}
	if out.User == nil && len(out.Conversations) == 0 && len(out.Messages) == 0 && len(out.PushRegistrations) == 0 {
		return 0, nil, errUserNotFound(id)
	}
	return http.StatusOK, out, nil
}

// adminEraseUser erases a user's data: every message they wrote is removed as a removal by
// its author would (content erased, messageRemoved to the participants), they leave every
// conversation, their push registrations go and their user record keeps no friendly name
// or attributes. Each step commits on its own; a failed erasure can be run again.
func (s *Server) adminEraseUser(r *adminReq) (int, any, error) {
	id := r.path("identity")
	if err := checkIdentityRef("identity", id); err != nil {
		return 0, nil, err
	}
	defer s.webhooks.Nudge()
	for after := ""; ; {
		ms, err := s.cfg.Store.MessagesByAuthor(r.ctx, id, after, userDataPage)
		if err != nil {
			return 0, nil, err
		}
		for _, m := range ms {
			_, ds, err := s.cfg.Store.RemoveMessage(r.ctx, m.ConversationSid, m.Sid)
			if errors.Is(err, store.ErrNotFound) {
				continue // removed meanwhile
			}
			if err != nil {
				return 0, nil, err
			}
			s.hub.deliver(ds)
			media := make([]string, len(m.Media))
			for i, md := range m.Media {
				media[i] = md.Sid
			}
			s.removeMediaFiles(media)
		}
		if len(ms) < userDataPage {
			break
		}
		after = ms[len(ms)-1].Sid
	}
	for tried := map[string]bool{}; ; {
		// Each page is read from the start: the conversations left are no longer listed.
		convs, _, err := s.cfg.Store.ConversationsOf(r.ctx, id, "", userDataPage)
		if err != nil {
			return 0, nil, err
		}
		convs = slices.DeleteFunc(convs, func(c wire.Conversation) bool { return tried[c.Sid] })
		if len(convs) == 0 {
			break
		}
		for _, c := range convs {
			tried[c.Sid] = true
			p, err := s.cfg.Store.Participant(r.ctx, c.Sid, id)
			if err == nil {
				var ds []store.Delivery
				_, ds, err = s.cfg.Store.RemoveParticipant(r.ctx, c.Sid, p.Sid, false)
				s.hub.deliver(ds)
			}
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return 0, nil, err
			}
		}
	}
	for _, ch := range []string{wire.PushFCM, wire.PushAPN} {
		if _, err := s.cfg.Store.RemovePushRegistrations(r.ctx, id, ch, ""); err != nil {
			return 0, nil, err
		}
	}
	if _, err := s.cfg.Store.User(r.ctx, id); err == nil {
		empty := ""
		u, reasons, err := s.cfg.Store.UpdateUser(r.ctx, id, &empty, wire.RawJSON(`{}`))
		if err != nil {
			return 0, nil, err
		}
		if len(reasons) > 0 {
			s.userUpdated(u, reasons, nil)
		}
	} else if !errors.Is(err, store.ErrNotFound) {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}
