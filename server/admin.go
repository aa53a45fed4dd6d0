package server

// The admin REST API: JSON over HTTP for app backends, under /v1/admin/, authenticated with
// HTTP Basic (username: API key id, password: its secret). Every change goes through the same
// store methods as the client ops, so it appends the same events to the participants'
// streams, and the admin handler pushes them through the hub like an op does: connected
// clients see admin changes live. docs/ADMIN-API.md documents the routes.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/wire"
)

// adminBodyLimit bounds an admin request body: a message (32 KB body + 4 KB attributes) or
// a content template fits with room to spare.
const adminBodyLimit = 1 << 20

// adminReq is one admin request as a handler sees it.
type adminReq struct {
	ctx context.Context
	r   *http.Request
	key string // the API key id that authenticated
}

func (a *adminReq) path(name string) string { return a.r.PathValue(name) }

// decode reads the JSON body into v (an empty body leaves v as it is).
func (a *adminReq) decode(v any) error {
	b, err := io.ReadAll(a.r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return wire.Errorf(wire.CodeTooLarge, "the request body exceeds %d bytes", adminBodyLimit)
		}
		return wire.Errorf(wire.CodeBadRequest, "reading the request body failed: %v", err)
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return nil
	}
	return decodeArgs(b, v)
}

type adminHandler func(*adminReq) (status int, body any, err error)

// adminRoute registers an admin route; pattern is "METHOD /path" relative to /v1/admin.
func (s *Server) adminRoute(pattern string, h adminHandler) {
	method, path, _ := strings.Cut(pattern, " ")
	route := method + " /v1/admin" + path
	s.mux.HandleFunc(route, func(w http.ResponseWriter, r *http.Request) {
		s.limitBodyRead(w)
		start := time.Now()
		status := s.serveAdmin(w, r, h)
		s.metrics.adminRequest(method, path, status, time.Since(start))
	})
}

func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request, h adminHandler) int {
	key, ok := s.adminAuth(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Basic realm="convo", charset="UTF-8"`)
		return writeAdminError(w, wire.Errorf(wire.CodeTokenInvalid, "admin API: give an API key id and its secret with HTTP Basic authentication"))
	}
	s.reqMu.RLock()
	defer s.reqMu.RUnlock()
	if s.closed {
		return writeAdminError(w, wire.Errorf(wire.CodeUnavailable, "server is shutting down; retry later"))
	}
	ctx, cancel := context.WithTimeout(r.Context(), opTimeout)
	defer cancel()
	r.Body = http.MaxBytesReader(w, r.Body, adminBodyLimit)
	status, body, err := h(&adminReq{ctx: ctx, r: r, key: key})
	if err != nil {
		var we *wire.Error
		if !errors.As(err, &we) {
			s.log.Error("admin request failed", "method", r.Method, "path", r.URL.Path, "err", err)
			s.metrics.internalError("admin")
			we = wire.Errorf(wire.CodeInternal, "internal error; the server log has details")
		}
		return writeAdminError(w, we)
	}
	if status == http.StatusNoContent {
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		return status
	}
	writeJSON(w, status, body)
	return status
}

// adminAuth checks HTTP Basic credentials against the keyring.
func (s *Server) adminAuth(r *http.Request) (string, bool) {
	id, secret, ok := r.BasicAuth()
	if !ok || id == "" {
		return "", false
	}
	if !s.cfg.Keys.CheckSecret(id, secret) {
		s.log.Info("admin authentication failed", "remote", r.RemoteAddr)
		return "", false
	}
	return id, true
}

// httpStatus maps a wire code to its HTTP status, or 500 for one that is not an error status.
func httpStatus(code wire.Code) int {
	st := code.Status()
	if st < 400 || st > 599 || http.StatusText(st) == "" {
		return http.StatusInternalServerError
	}
	return st
}

func writeAdminError(w http.ResponseWriter, e *wire.Error) int {
	st := httpStatus(e.Code)
	writeJSON(w, st, e)
	return st
}

// ---- shared helpers

func queryInt(r *http.Request, name string) (int, bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, false, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, false, wire.Errorf(wire.CodeBadRequest, "query parameter %s must be an integer, got %q", name, v)
	}
	return n, true, nil
}

func badCursor(after string) error {
	return wire.Errorf(wire.CodeBadRequest, "after %q is not a cursor this server returned", after)
}

// adminConversation resolves a conversation by sid or, failing that, by unique name.
func (s *Server) adminConversation(ctx context.Context, ref string) (wire.Conversation, error) {
	if ref == "" {
		return wire.Conversation{}, wire.Errorf(wire.CodeBadRequest, "conversation sid or uniqueName is required")
	}
	conv, err := s.cfg.Store.Conversation(ctx, ref)
	if errors.Is(err, store.ErrNotFound) {
		conv, err = s.cfg.Store.ConversationByUniqueName(ctx, ref)
	}
	if errors.Is(err, store.ErrNotFound) {
		return conv, wire.Errorf(wire.CodeNotFound, "conversation %q not found", ref)
	}
	return conv, err
}

// adminParticipant resolves a participant of conv by sid or, failing that, by identity.
func (s *Server) adminParticipant(ctx context.Context, conv, ref string) (wire.Participant, error) {
	p, err := s.cfg.Store.ParticipantBySid(ctx, conv, ref)
	if errors.Is(err, store.ErrNotFound) {
		p, err = s.cfg.Store.Participant(ctx, conv, ref)
	}
	if errors.Is(err, store.ErrNotFound) {
		return p, wire.Errorf(wire.CodeNotFound, "participant %q not found in conversation %q", ref, conv)
	}
	return p, err
}

// adminConvMessage resolves the {conv} and {m} path values of a request.
func (s *Server) adminConvMessage(r *adminReq) (wire.Conversation, wire.Message, error) {
	conv, err := s.adminConversation(r.ctx, r.path("conv"))
	if err != nil {
		return conv, wire.Message{}, err
	}
	m, err := s.adminMessage(r.ctx, conv.Sid, r.path("m"))
	return conv, m, err
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

// adminList reads the pageSize and after query values and lists one page with them.
func adminList[T any](r *adminReq, list func(ctx context.Context, after string, limit int) ([]T, string, error)) ([]T, string, error) {
	n, _, err := queryInt(r.r, "pageSize")
	if err != nil {
		return nil, "", err
	}
	size, err := pageSize(n, wire.DefaultConversationPerPage)
	if err != nil {
		return nil, "", err
	}
	after := r.r.URL.Query().Get("after")
	items, next, err := list(r.ctx, after, size)
	if errors.Is(err, store.ErrBadCursor) {
		return nil, "", badCursor(after)
	}
	return items, next, err
}

func (s *Server) adminMessage(ctx context.Context, conv, sid string) (wire.Message, error) {
	m, err := s.cfg.Store.Message(ctx, conv, sid)
	if errors.Is(err, store.ErrNotFound) {
		return m, wire.Errorf(wire.CodeNotFound, "message %q not found in conversation %q", sid, conv)
	}
	return m, err
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

// storeErr maps the store's sentinel errors to wire errors with a message about what.
func storeErr(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound):
		return wire.Errorf(wire.CodeNotFound, "%s not found", what)
	case errors.Is(err, store.ErrConflict):
		return wire.Errorf(wire.CodeConflict, "%s: conflict", what)
	case errors.Is(err, store.ErrTooManyParticipants):
		return wire.Errorf(wire.CodeTooManyMembers, "%s: the participant limit is reached", what)
	case errors.Is(err, store.ErrClosed):
		return wire.Errorf(wire.CodeForbidden, "%s: the conversation is closed", what)
	case errors.Is(err, store.ErrMediaUnusable):
		return wire.Errorf(wire.CodeBadRequest, "%s: a media sid does not exist, was uploaded by someone else than the author, or is attached already", what)
	case errors.Is(err, store.ErrBadCursor):
		return wire.Errorf(wire.CodeBadRequest, "%s: invalid paging cursor", what)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// serveHealth answers 200 "ok" when the store answers a cheap query, else 503.
func (s *Server) serveHealth(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := s.cfg.Store.Ping(ctx); err != nil {
		s.log.Warn("health check: store unavailable", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("store unavailable"))
		return
	}
	_, _ = w.Write([]byte("ok"))
}
