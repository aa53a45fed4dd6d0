// The admin REST API: JSON over HTTP for app backends, under /v1/admin/, authenticated with
// HTTP Basic (username: API key id, password: its secret). Every change goes through the same
// store methods as the client ops, so it appends the same events to the participants'
// streams, and the admin handler pushes them through the hub like an op does: connected
// clients see admin changes live. docs/ADMIN-API.md documents the routes, routes.go
// registers them and admin_<entity>.go handles them.

package server

import (
	"context"
	"errors"
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

// adminFileRoute registers an admin route whose answer is a file, not JSON: h checks the
// credentials (adminAuth), writes the answer and returns its status.
func (s *Server) adminFileRoute(pattern string, h func(http.ResponseWriter, *http.Request) int) {
	method, path, _ := strings.Cut(pattern, " ")
	s.mux.HandleFunc(method+" /v1/admin"+path, func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		status := h(w, r)
		s.metrics.adminRequest(method, path, status, time.Since(start))
	})
}

func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request, h adminHandler) int {
	key, ok := s.adminAuth(r)
	if !ok {
		return refuseAdmin(w)
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
		if we = storeOutage(err); we != nil {
			s.log.Warn("admin request failed: "+we.Message, "method", r.Method, "path", r.URL.Path, "err", err)
			w.Header().Set("Retry-After", "10")
		} else if !errors.As(err, &we) {
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

// refuseAdmin answers a request without good admin credentials.
func refuseAdmin(w http.ResponseWriter) int {
	w.Header().Set("WWW-Authenticate", `Basic realm="convo", charset="UTF-8"`)
	return writeAdminError(w, wire.Errorf(wire.CodeTokenInvalid, "admin API: give an API key id and its secret with HTTP Basic authentication"))
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
