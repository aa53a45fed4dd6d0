// Package server is the convo conversations server: the WebSocket endpoint speaking
// wire, authorization of every op, fan-out of committed events to connected users, a
// dev token endpoint and static files for the demo page and the npm package.
package server

import (
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/convo-sdk/convo/server/auth"
	"github.com/convo-sdk/convo/server/bus"
	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/wire"
)

// Config configures a Server. Store and Keys are required.
type Config struct {
	Store  store.Store
	Keys   *auth.Keyring
	Logger *slog.Logger
	// Bus links this server to the other nodes sharing Store (bus.NewNATS); nil means
	// bus.Local, a server alone. The Server owns it: Close closes it.
	Bus bus.Bus
	// AllowedOrigins are host patterns (path.Match syntax, e.g. "example.com",
	// "*.example.com", "localhost:*") whose pages may open the WebSocket. Empty allows
	// same-origin pages only; clients that send no Origin (native ones) are always allowed.
	AllowedOrigins []string
	// Static, when set, serves every path the API does not claim (demo page, /sdk/...).
	Static fs.FS
	// DevTokens enables POST /v1/dev/token, which hands a token to anyone: development only.
	DevTokens bool
	// DevKey signs dev tokens; it must be in Keys. Zero means Keys.Primary().
	DevKey auth.Key
	// DevTokenTTL is the lifetime of dev tokens; 0 means 24 hours.
	DevTokenTTL time.Duration
	// PublicURL is the WebSocket URL put into dev tokens. Empty derives it from the request.
	PublicURL string

	// HelloTimeout bounds the wait for the first frame; 0 means 10 s.
	HelloTimeout time.Duration
	// WriteTimeout bounds one frame write to a client; 0 means 10 s.
	WriteTimeout time.Duration
	// PingInterval is how often the server pings each WebSocket connection, and PongTimeout
	// how long it waits for the pong before it cuts the connection: a peer gone silent
	// without closing would otherwise hold its slot (MaxConnsPerIdentity) for good. 0 means
	// 30 s and 10 s; a negative PingInterval disables the pings.
	PingInterval time.Duration
	PongTimeout  time.Duration
	// BodyReadTimeout bounds the time to read the body of a media upload, an admin API or a
	// dev token request, so a client trickling bytes cannot hold a connection (and a
	// goroutine) forever; 0 means 2 minutes (a 16 MiB upload at ~1 Mbit/s), negative none.
	// WebSocket connections are not affected.
	BodyReadTimeout time.Duration
	// QueueSize is how many pushed events a connection buffers before it falls back to
	// reading its stream from the store; 0 means 256.
	QueueSize int
	// MaxParticipants per conversation; 0 means wire.MaxParticipantsPerConv.
	MaxParticipants int

	// MaxConnsPerIdentity caps the live connections of one identity on this node (in a
	// cluster, each node counts its own); the next one gets a bye with
	// CodeTooManySessions. 0 means 20.
	MaxConnsPerIdentity int
	// RequestRate (per second) and RequestBurst limit each connection's requests with a
	// token bucket; over the limit a request fails with CodeRateLimited and the connection
	// stays. 0 means 50 and 100; a negative RequestRate disables the limit.
	RequestRate  float64
	RequestBurst int
	// ConversationWriteRate limits the write actions on one conversation per second, from
	// all users together (burst: the same number). 0 means 30; negative disables it.
	ConversationWriteRate float64
	// MediaDir holds uploaded media files, named by sid. Empty disables media uploads.
	MediaDir string
	// MediaKey signs media content URLs (HMAC-SHA256). Empty means a random key per
	// process, so URLs stop working at restart.
	MediaKey []byte
	// MaxMediaBytes bounds one uploaded file; 0 means wire.DefaultMaxMediaBytes.
	MaxMediaBytes int64
	// MediaUploadsPerMinute and MediaUploadBurst limit each identity's media uploads with a
	// token bucket; over the limit an upload gets HTTP 429 with CodeRateLimited. 0 means 10
	// a minute and a burst of 10 (one message's media); a negative MediaUploadsPerMinute disables the limit.
	MediaUploadsPerMinute float64
	MediaUploadBurst      int
	// UnattachedMediaTTL is how long an uploaded media may stay unattached to any message
	// before the sweeper deletes it (record and file); 0 means 24 hours.
	UnattachedMediaTTL time.Duration
	// MediaSweepInterval is how often the sweeper runs (unattached media, and temporary
	// files of uploads that died more than an hour ago); 0 means 5 minutes.
	MediaSweepInterval time.Duration
	// StateInterval is how often conversation lifecycle timers are checked; 0 means 10 s.
	StateInterval time.Duration

	// WebhookURL receives the outbound webhooks (docs/ADMIN-API.md); empty disables them.
	WebhookURL string
	// WebhookSecret signs webhook bodies (X-Convo-Signature); empty sends no signature.
	WebhookSecret string
	// WebhookMaxAge is how long a failing delivery is retried before it is given up; 0
	// means 24 hours.
	WebhookMaxAge time.Duration
	// WebhookBackoff is the first retry delay, doubling per failure up to
	// WebhookMaxBackoff; 0 means 1 s and 5 min.
	WebhookBackoff, WebhookMaxBackoff time.Duration
	// WebhookPoll is how often the dispatcher looks for new events; 0 means 250 ms.
	WebhookPoll time.Duration
	// WebhookTimeout bounds one webhook request; 0 means 10 s.
	WebhookTimeout time.Duration
	// DisableMetrics turns GET /metrics off.
	DisableMetrics bool
	// MetricsAuthOnly makes GET /metrics require admin Basic credentials from loopback
	// clients too (set it when a reverse proxy on this host forwards outside traffic).
	MetricsAuthOnly bool
}

// Server serves the convo API. Create it with New; it is safe for concurrent use.
type Server struct {
	cfg Config
	log *slog.Logger
	hub *hub
	ops map[string]handler
	fx  *features // typing throttle, rate limiters, media key, state loop
	mux *http.ServeMux

	metrics  *metrics      // Prometheus metrics (metrics.go)
	webhooks *dispatcher   // outbound webhooks (webhook.go)
	uploads  *uploadLimits // media uploads per identity (media_limits.go)

	// reqMu is held shared by every request in flight and exclusively by Close, so Close
	// waits for in-flight writes and no request starts after it.
	reqMu  sync.RWMutex
	closed bool

	conns     sync.WaitGroup
	closeOnce sync.Once
}

// New builds a Server from cfg.
func New(cfg Config) *Server {
	if cfg.Store == nil || cfg.Keys == nil {
		panic("server: Config.Store and Config.Keys are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.DevKey.ID == "" {
		cfg.DevKey = cfg.Keys.Primary()
	}
	if cfg.DevTokenTTL <= 0 {
		cfg.DevTokenTTL = 24 * time.Hour
	}
	if cfg.HelloTimeout <= 0 {
		cfg.HelloTimeout = 10 * time.Second
	}
	if cfg.PingInterval == 0 {
		cfg.PingInterval = 30 * time.Second
	}
	if cfg.PongTimeout <= 0 {
		cfg.PongTimeout = 10 * time.Second
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 10 * time.Second
	}
	if cfg.BodyReadTimeout == 0 {
		cfg.BodyReadTimeout = 2 * time.Minute
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 256
	}
	if cfg.MaxParticipants <= 0 {
		cfg.MaxParticipants = wire.MaxParticipantsPerConv
	}
	if cfg.Bus == nil {
		cfg.Bus = bus.Local{}
	}
	s := &Server{cfg: cfg, log: cfg.Logger, hub: newHub(cfg.Bus)}
	s.metrics = newMetrics(cfg.Store)
	s.ops = s.instrumentOps(encodeResults(s.opTable()))
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("GET /v1/ws", s.countConnections(s.serveWS))
	s.mux.HandleFunc("GET /healthz", s.serveHealth)
	s.registerAdmin()
	if !cfg.DisableMetrics {
		s.mux.Handle("GET /metrics", s.serveMetrics())
	}
	s.webhooks = newDispatcher(s)
	s.mux.HandleFunc("POST /v1/dev/token", s.serveDevToken)
	s.initFeatures()
	s.mux.Handle("/", s.staticHandler())
	cfg.Bus.Attach(busReceiver{s})
	return s
}

// Handler returns the HTTP handler serving every route.
func (s *Server) Handler() http.Handler { return s.mux }

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
		s.stopFeatures()
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
		s.webhooks.close()
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
