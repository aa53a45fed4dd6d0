package server

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/wire"
)

// adminConversationArgs create or change a conversation. Timers, when present, replace both
// timers (an omitted one is cleared).
type adminConversationArgs struct {
	FriendlyName *string      `json:"friendlyName"`
	UniqueName   *string      `json:"uniqueName"`
	Attributes   wire.RawJSON `json:"attributes"`
	State        string       `json:"state"`
	Timers       *adminTimers `json:"timers"`
	CreatedBy    string       `json:"createdBy"` // create only
}

type adminTimers struct {
	Inactive string `json:"inactive,omitempty"`
	Closed   string `json:"closed,omitempty"`
}

func (a *adminConversationArgs) check() (wire.RawJSON, error) {
	if err := checkNames(a.FriendlyName, a.UniqueName); err != nil {
		return nil, err
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
			return storeErr(err, conversationThing(sid))
		}
	}
	if a.State != "" {
		_, ds, err := s.cfg.Store.SetConversationState(r.ctx, sid, a.State)
		if err != nil {
			return storeErr(err, conversationThing(sid))
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
	s.webhooks.Nudge()
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
	return http.StatusOK, conv, err // serveAdmin answers err instead when set
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
			return 0, nil, storeErr(err, conversationThing(conv.Sid))
		}
		s.hub.deliver(ds)
	}
	if err := s.applyStateAndTimers(r, conv.Sid, &a); err != nil {
		return 0, nil, err
	}
	s.webhooks.Nudge()
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
		return 0, nil, storeErr(err, conversationThing(conv.Sid))
	}
	s.hub.deliver(ds)
	s.webhooks.Nudge()
	s.removeMediaFiles(media)
	return http.StatusNoContent, nil, nil
}

// adminConversation resolves a {conv} path value by its shape: a sid-shaped one as a sid
// only, anything else as a unique name. Unique names of a sid's shape are refused, so one
// can never stand for another conversation's sid (not even once that one is deleted).
func (s *Server) adminConversation(ctx context.Context, ref string) (wire.Conversation, error) {
	if ref == "" {
		return wire.Conversation{}, wire.Errorf(wire.CodeBadRequest, "conversation sid or uniqueName is required")
	}
	var conv wire.Conversation
	var err error
	if wire.LooksLikeSid(ref) {
		conv, err = s.cfg.Store.Conversation(ctx, ref)
	} else {
		conv, err = s.cfg.Store.ConversationByUniqueName(ctx, ref)
	}
	if errors.Is(err, store.ErrNotFound) {
		return conv, errConversationNotFound(ref)
	}
	return conv, err
}

// parseTimer reads a timer duration: a Go duration ("90s", "10m", "24h") or an ISO 8601
// duration as the vendor's API takes ("PT10M", "P1DT12H"). "" and zero clear the timer.
func parseTimer(field, v string) (time.Duration, error) {
	if v == "" {
		return 0, nil
	}
	bad := wire.Errorf(wire.CodeBadRequest, "%s must be a duration like \"10m\" or \"PT10M\", got %q", field, v)
	var d time.Duration
	if strings.HasPrefix(v, "P") {
		rest, inTime := v[1:], false
		if rest == "" {
			return 0, bad
		}
		for rest != "" {
			if rest[0] == 'T' {
				if inTime {
					return 0, bad
				}
				inTime, rest = true, rest[1:]
				continue
			}
			i := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' })
			if i <= 0 {
				return 0, bad
			}
			n, err := strconv.ParseInt(rest[:i], 10, 32)
			if err != nil {
				return 0, bad
			}
			unit := map[bool]map[byte]time.Duration{
				false: {'W': 7 * 24 * time.Hour, 'D': 24 * time.Hour},
				true:  {'H': time.Hour, 'M': time.Minute, 'S': time.Second},
			}[inTime][rest[i]]
			if unit == 0 {
				return 0, bad
			}
			d += time.Duration(n) * unit
			rest = rest[i+1:]
		}
	} else {
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			return 0, bad
		}
	}
	if d < 0 {
		return 0, bad
	}
	if d > 0 && d < time.Second {
		return 0, wire.Errorf(wire.CodeBadRequest, "%s must be at least one second, got %q", field, v)
	}
	return d, nil
}
