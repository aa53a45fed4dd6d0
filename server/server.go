// Package server is the convo conversations server: the WebSocket endpoint speaking
// wire, authorization of every op, fan-out of committed events to connected users, the
// admin REST API, outbound webhooks (package webhook), media over HTTP, a dev token
// endpoint and static files for the demo page and the npm package.
//
// Where things are: config.go (Config and its defaults), routes.go (every HTTP route),
// ops.go (the op table and how an op runs), ops_<entity>.go (the ops of each entity),
// admin.go and admin_<entity>.go (the admin REST API), errors.go (the errors ops and admin
// routes answer with), conn.go and hub.go (connections and fan-out), limits.go (rate
// limits), media.go (media over HTTP), origins.go (the Host and Origin checks).
package server

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/convo-sdk/convo/server/auth"
	"github.com/convo-sdk/convo/server/webhook"
	"github.com/convo-sdk/convo/wire"
)

// Server serves the convo API. Create it with New; it is safe for concurrent use.
type Server struct {
	cfg Config
	log *slog.Logger
	hub *hub
	ops map[string]handler
	mux *http.ServeMux
	// handler is mux behind the Host check (checkHost).
	handler http.Handler
	// publicOrigins are Config.PublicOrigins and PublicURL's origin, normalized;
	// publicHosts their host names (origins.go).
	publicOrigins []string
	publicHosts   map[string]bool

	metrics  *metrics            // Prometheus metrics (metrics.go)
	webhooks *webhook.Dispatcher // outbound webhooks
	limits   *limits             // requests, conversation writes, typing (limits.go)
	uploads  *uploadLimits       // media uploads per identity (limits.go)
	cluster  *clusterLimits      // limits shared through the store; nil alone (cluster_limits.go)

	// stop ends the background loops (lifecycle timers, media sweeper); loops waits for them.
	stop  chan struct{}
	loops sync.WaitGroup

	// reqMu is held shared by every request in flight and exclusively by Close, so Close
	// waits for in-flight writes and no request starts after it.
	reqMu  sync.RWMutex
	closed bool

	backupMu sync.Mutex // held while a backup is taken and sent (admin_backup.go)

	conns     sync.WaitGroup
	closeOnce sync.Once
}

// New builds a Server from cfg.
func New(cfg Config) *Server {
	if cfg.Store == nil || cfg.Keys == nil {
		panic("server: Config.Store and Config.Keys are required")
	}
	cfg.setDefaults()
	s := &Server{cfg: cfg, log: cfg.Logger, hub: newHub(cfg.Bus), limits: newLimits(cfg), uploads: newUploadLimits(cfg),
		cluster: newClusterLimits(cfg.Bus), stop: make(chan struct{})}
	s.metrics = newMetrics(cfg.Store)
	s.ops = s.instrumentOps(encodeResults(s.opTable()))
	s.publicOrigins = publicOrigins(cfg)
	s.publicHosts = publicHosts(s.publicOrigins)
	s.mux = http.NewServeMux()
	s.routes()
	s.handler = s.checkHost(s.mux)
	// Before New returns, that is before the server takes its first request (webhook.New).
	s.webhooks = webhook.New(cfg.Store, s.log.With("component", "webhooks"), webhookMetrics{s.metrics}, webhook.Config{
		URL: cfg.WebhookURL, Secret: cfg.WebhookSecret, Timeout: cfg.WebhookTimeout, Poll: cfg.WebhookPoll,
		Backoff: cfg.WebhookBackoff, MaxBackoff: cfg.WebhookMaxBackoff, MaxAge: cfg.WebhookMaxAge})
	s.loops.Add(3)
	go s.stateLoop()
	go s.mediaSweepLoop()
	go s.leaseLoop()
	cfg.Bus.Attach(busReceiver{s})
	return s
}

// Handler returns the HTTP handler serving every route, behind the Host check.
func (s *Server) Handler() http.Handler { return s.handler }

// Close shuts the server down gracefully: requests in flight finish and their events are
// pushed, no new request starts, every client gets a bye (CodeUnavailable) and is closed,
// and the bus says goodbye to the other nodes. It does not close the store, which the
// caller owns. Close the http.Server first so no new connection arrives; one that still
// does is told to go away.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.reqMu.Lock()
		s.closed = true
		s.reqMu.Unlock()
		close(s.stop)
		s.loops.Wait()
		bye := wire.Errorf(wire.CodeUnavailable, "server is shutting down; reconnect later")
		for _, c := range s.hub.close() {
			c.sayBye(bye)
		}
		done := make(chan struct{})
		go func() { s.conns.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			s.log.Warn("connections still open after shutdown grace period")
		}
		// After the connections, so their users' departures reach the other nodes first.
		if err := s.cfg.Bus.Close(); err != nil {
			s.log.Warn("closing the bus failed", "err", err)
		}
		s.webhooks.Close()
	})
}

// limitBodyRead sets the connection's read deadline for a request whose body is read by
// its handler (Config.BodyReadTimeout). The http.Server resets it for the next request on
// the connection. Handlers that hijack the connection (the WebSocket) never call it.
func (s *Server) limitBodyRead(w http.ResponseWriter) {
	if s.cfg.BodyReadTimeout <= 0 {
		return
	}
	if err := http.NewResponseController(w).SetReadDeadline(time.Now().Add(s.cfg.BodyReadTimeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		s.log.Debug("setting a read deadline failed", "err", err)
	}
}

func (s *Server) serveDevToken(w http.ResponseWriter, r *http.Request) {
	if !s.cfg.DevTokens {
		http.NotFound(w, r)
		return
	}
	s.limitBodyRead(w)
	var req struct {
		Identity string `json:"identity"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": wire.Errorf(wire.CodeBadRequest, `body must be JSON like {"identity":"alice"}`)})
		return
	}
	if e := auth.CheckIdentity(req.Identity); e != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": e})
		return
	}
	url := s.cfg.PublicURL
	if url == "" {
		scheme := "ws"
		if r.TLS != nil {
			scheme = "wss"
		}
		url = scheme + "://" + r.Host + "/v1/ws"
	}
	tok, err := auth.Mint(s.cfg.DevKey, req.Identity, s.cfg.DevTokenTTL, url)
	if err != nil {
		s.log.Error("minting dev token failed", "err", err)
		writeJSON(w, http.StatusInternalServerError, map[string]any{"error": wire.Errorf(wire.CodeInternal, "could not mint a token")})
		return
	}
	s.log.Info("dev token issued", "identity", req.Identity)
	writeJSON(w, http.StatusOK, map[string]string{"token": tok})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
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
