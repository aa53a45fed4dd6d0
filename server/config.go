package server

import (
	"crypto/rand"
	"io/fs"
	"log/slog"
	"time"

	"github.com/convo-sdk/convo/server/auth"
	"github.com/convo-sdk/convo/server/bus"
	"github.com/convo-sdk/convo/server/mediastore"
	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/wire"
)

// Config configures a Server. Store and Keys are required; a field whose comment gives a
// default gets it from setDefaults when left at zero.
type Config struct {
	Store  store.Store
	Keys   *auth.Keyring
	Logger *slog.Logger
	// Bus links this server to the other nodes sharing Store (bus.NewNATS); nil means
	// bus.Local, a server alone. The Server owns it: Close closes it.
	Bus bus.Bus
	// AllowedOrigins are the other origins whose pages may open the WebSocket and upload
	// media: host patterns (path.Match syntax, with the port when not the default, e.g.
	// "example.com", "*.example.com", "localhost:*"), each optionally preceded by the one
	// scheme it allows ("https://*.example.com"; without one, http and https). Empty allows
	// same-origin pages only (the request's own origin and PublicOrigins, scheme, host and
	// port alike); clients that send no Origin (native ones) are always allowed.
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
	// Its origin is one of PublicOrigins.
	PublicURL string
	// PublicOrigins are the origins (scheme://host[:port]) clients reach this server at,
	// e.g. "https://chat.example.com" behind a proxy or load balancer. Every HTTP request
	// must name one of their hosts in its Host header, or an IP address or localhost, else it
	// gets HTTP 421 (CodeMisdirected): a page cannot then reach the server through a DNS name
	// it rebound (origins.go). Pages of these origins are same-origin.
	PublicOrigins []string

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

	// MaxConnsPerIdentity caps the live connections of one identity, across the cluster
	// when Bus links nodes (leases in Store, cluster_limits.go); the next one gets a bye
	// with CodeTooManySessions. 0 means 20.
	MaxConnsPerIdentity int
	// RequestRate (per second) and RequestBurst limit each connection's requests with a
	// token bucket; over the limit a request fails with CodeRateLimited and the connection
	// stays. 0 means 50 and 100; a negative RequestRate disables the limit.
	RequestRate  float64
	RequestBurst int
	// ConversationWriteRate limits the write actions on one conversation per second, from
	// all users together (burst: the same number), across the cluster when Bus links nodes
	// (a token bucket in Store). 0 means 30; negative disables it.
	ConversationWriteRate float64
	// Media holds the content of uploaded media (mediastore.Local, mediastore.S3); every
	// node of a cluster must use the same. Nil disables media uploads.
	Media mediastore.Store
	// MediaKey signs media content URLs (HMAC-SHA256); nodes of a cluster need the same one
	// (Media.URLKey hands it out). Empty means a random key per process, so URLs stop working
	// at restart.
	MediaKey []byte
	// MaxMediaBytes bounds one uploaded file; 0 means wire.DefaultMaxMediaBytes.
	MaxMediaBytes int64
	// MediaUploadsPerMinute and MediaUploadBurst limit each identity's media uploads with a
	// token bucket (across the cluster when Bus links nodes); over the limit an upload gets
	// HTTP 429 with CodeRateLimited. 0 means 10 a minute and a burst of 10 (one message's
	// media); a negative MediaUploadsPerMinute disables the limit.
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

// Defaults of the Config fields whose zero value means "the default".
const (
	defaultDevTokenTTL           = 24 * time.Hour
	defaultHelloTimeout          = 10 * time.Second
	defaultWriteTimeout          = 10 * time.Second
	defaultPingInterval          = 30 * time.Second
	defaultPongTimeout           = 10 * time.Second
	defaultBodyReadTimeout       = 2 * time.Minute // a 16 MiB upload at ~1 Mbit/s
	defaultQueueSize             = 256
	defaultMaxConnsPerIdentity   = 20
	defaultRequestRate           = 50
	defaultRequestBurst          = 100
	defaultConversationRate      = 30
	defaultMediaUploadsPerMinute = 10
	defaultMediaUploadBurst      = 10 // a message's worth (wire.MaxMediaPerMessage) at once
	defaultUnattachedMediaTTL    = 24 * time.Hour
	defaultMediaSweepInterval    = 5 * time.Minute
	defaultStateInterval         = 10 * time.Second
	defaultWebhookMaxAge         = 24 * time.Hour
	defaultWebhookBackoff        = time.Second
	defaultWebhookMaxBackoff     = 5 * time.Minute
	defaultWebhookPoll           = 250 * time.Millisecond
	defaultWebhookTimeout        = 10 * time.Second
)

// setDefaults fills the fields left at their zero value (or, where the field's comment says
// so, a negative one) with their defaults. It is the one place defaults are set.
func (c *Config) setDefaults() {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Bus == nil {
		c.Bus = bus.Local{}
	}
	if c.DevKey.ID == "" {
		c.DevKey = c.Keys.Primary()
	}
	orPositive(&c.DevTokenTTL, defaultDevTokenTTL)
	orPositive(&c.HelloTimeout, defaultHelloTimeout)
	orPositive(&c.WriteTimeout, defaultWriteTimeout)
	orDefault(&c.PingInterval, defaultPingInterval)
	orPositive(&c.PongTimeout, defaultPongTimeout)
	orDefault(&c.BodyReadTimeout, defaultBodyReadTimeout)
	orPositive(&c.QueueSize, defaultQueueSize)
	orPositive(&c.MaxParticipants, wire.MaxParticipantsPerConv)
	orPositive(&c.MaxConnsPerIdentity, defaultMaxConnsPerIdentity)
	orDefault(&c.RequestRate, defaultRequestRate)
	orPositive(&c.RequestBurst, defaultRequestBurst)
	orDefault(&c.ConversationWriteRate, defaultConversationRate)
	if len(c.MediaKey) == 0 {
		c.MediaKey = make([]byte, 32)
		_, _ = rand.Read(c.MediaKey)
	}
	orPositive(&c.MaxMediaBytes, wire.DefaultMaxMediaBytes)
	orDefault(&c.MediaUploadsPerMinute, defaultMediaUploadsPerMinute)
	orPositive(&c.MediaUploadBurst, defaultMediaUploadBurst)
	orPositive(&c.UnattachedMediaTTL, defaultUnattachedMediaTTL)
	orPositive(&c.MediaSweepInterval, defaultMediaSweepInterval)
	orPositive(&c.StateInterval, defaultStateInterval)
	orPositive(&c.WebhookMaxAge, defaultWebhookMaxAge)
	orPositive(&c.WebhookBackoff, defaultWebhookBackoff)
	orPositive(&c.WebhookMaxBackoff, defaultWebhookMaxBackoff)
	orPositive(&c.WebhookPoll, defaultWebhookPoll)
	orPositive(&c.WebhookTimeout, defaultWebhookTimeout)
}

// orDefault sets *v to def when it is zero.
func orDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// orPositive sets *v to def when it is zero or negative.
func orPositive[T int | int64 | float64 | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}
