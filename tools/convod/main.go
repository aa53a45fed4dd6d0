// Command convod runs the convo server: SQLite storage in a data directory, the WebSocket
// API, and optionally the demo page and SDK files.
//
//	convod --dev --web ./web            # development: dev tokens, demo page
//	CONVO_API_KEYS=k1:secret convod     # production: tokens minted by your backend
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/convo-sdk/convo/server"
	"github.com/convo-sdk/convo/server/auth"
	"github.com/convo-sdk/convo/server/bus"
	"github.com/convo-sdk/convo/server/mediastore"
	"github.com/convo-sdk/convo/server/store/storeopen"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "convod:", err)
		os.Exit(1)
	}
}

type options struct {
	addr, data, web, publicURL string
	dev                        bool
	// publicOrigins are the origins clients reach this server at (server.Config.PublicOrigins).
	publicOrigins []string

	webhookURL, webhookSecret string
	webhookMaxAge             time.Duration
	metrics, metricsAuthOnly  bool
	logFormat, logLevel       string

	retention           int
	idleTimeout         time.Duration // keep-alive HTTP connections without a request
	bodyReadTimeout     time.Duration // reading an upload's or admin request's body
	allowedOrigins      []string
	maxConnsPerIdentity int
	maxMediaBytes       int64
	requestRate         float64
	conversationRate    float64

	// store is an SQLite file path or a postgres:// URL; bus is "local" or a nats:// URL.
	store, bus string
	// media is a folder or an s3:// URL; s3 locates and opens the bucket of an s3:// one.
	media string
	s3    mediastore.S3Options

	// debugAddr, when set, serves Go's profiler (net/http/pprof) there; loopback only.
	debugAddr string
}

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("convod", flag.ContinueOnError)
	devDefault, _ := strconv.ParseBool(env("CONVO_DEV", "false"))
	fs.StringVar(&o.addr, "addr", env("CONVO_ADDR", "127.0.0.1:8080"), "listen address (env CONVO_ADDR)")
	fs.StringVar(&o.data, "data", env("CONVO_DATA", "./data"), "data directory: media files and keys, and the SQLite database unless --store says otherwise; nodes of one cluster share it (env CONVO_DATA)")
	fs.StringVar(&o.store, "store", env("CONVO_STORE", ""), "the store: an SQLite file path or a postgres:// URL (env CONVO_STORE; default DATA/convo.db)")
	fs.StringVar(&o.bus, "bus", env("CONVO_BUS", "local"), "fan-out between server nodes: local (one node) or a nats:// URL (env CONVO_BUS)")
	fs.StringVar(&o.media, "media", env("CONVO_MEDIA", ""), "where uploaded media live: a folder, or s3://BUCKET/PREFIX for an S3-compatible object store, which nodes of a cluster share (env CONVO_MEDIA; default DATA/media)")
	fs.StringVar(&o.s3.Endpoint, "s3-endpoint", env("CONVO_S3_ENDPOINT", os.Getenv("AWS_ENDPOINT_URL_S3")), "the object store of an s3:// --media: host:port (https) or an http(s):// URL (env CONVO_S3_ENDPOINT or AWS_ENDPOINT_URL_S3)")
	fs.StringVar(&o.s3.Region, "s3-region", env("CONVO_S3_REGION", os.Getenv("AWS_REGION")), "the bucket's region (env CONVO_S3_REGION or AWS_REGION; empty: asked of the server)")
	fs.StringVar(&o.s3.AccessKey, "s3-access-key", env("CONVO_S3_ACCESS_KEY", os.Getenv("AWS_ACCESS_KEY_ID")), "access key id for the object store (env CONVO_S3_ACCESS_KEY or AWS_ACCESS_KEY_ID)")
	fs.StringVar(&o.s3.SecretKey, "s3-secret-key", env("CONVO_S3_SECRET_KEY", os.Getenv("AWS_SECRET_ACCESS_KEY")), "secret key for the object store; prefer the env CONVO_S3_SECRET_KEY or AWS_SECRET_ACCESS_KEY (flags show in ps)")
	fs.StringVar(&o.web, "web", env("CONVO_WEB", ""), "directory served at / (demo page, /sdk/...) (env CONVO_WEB)")
	fs.BoolVar(&o.dev, "dev", devDefault, "development mode: POST /v1/dev/token hands out tokens (env CONVO_DEV)")
	fs.StringVar(&o.publicURL, "public-url", env("CONVO_PUBLIC_URL", ""), "WebSocket URL put in dev tokens (env CONVO_PUBLIC_URL; default ws://ADDR/v1/ws)")
	fs.StringVar(&o.webhookURL, "webhook-url", env("CONVO_WEBHOOK_URL", ""), "URL that receives webhooks (env CONVO_WEBHOOK_URL; empty: none)")
	fs.StringVar(&o.webhookSecret, "webhook-secret", env("CONVO_WEBHOOK_SECRET", ""), "secret signing webhook bodies; prefer the env CONVO_WEBHOOK_SECRET (flags show in ps)")
	maxAge, err := time.ParseDuration(env("CONVO_WEBHOOK_MAX_AGE", "24h"))
	if err != nil {
		return o, fmt.Errorf("CONVO_WEBHOOK_MAX_AGE: %w", err)
	}
	fs.DurationVar(&o.webhookMaxAge, "webhook-max-age", maxAge, "how long failing webhook deliveries are retried (env CONVO_WEBHOOK_MAX_AGE)")
	durationFlag := func(p *time.Duration, name, envName, def, usage string) error {
		v, err := time.ParseDuration(env(envName, def))
		if err != nil {
			return fmt.Errorf("%s: %w", envName, err)
		}
		fs.DurationVar(p, name, v, usage+" (env "+envName+")")
		return nil
	}
	if err := durationFlag(&o.idleTimeout, "idle-timeout", "CONVO_IDLE_TIMEOUT", "2m", "how long an idle keep-alive HTTP connection stays open"); err != nil {
		return o, err
	}
	if err := durationFlag(&o.bodyReadTimeout, "body-read-timeout", "CONVO_BODY_READ_TIMEOUT", "2m", "time to read a media upload's or admin request's body (WebSockets are not affected)"); err != nil {
		return o, err
	}
	metricsDefault, _ := strconv.ParseBool(env("CONVO_METRICS", "true"))
	authOnlyDefault, _ := strconv.ParseBool(env("CONVO_METRICS_AUTH_ONLY", "false"))
	fs.BoolVar(&o.metrics, "metrics", metricsDefault, "serve Prometheus metrics at GET /metrics to loopback clients and admin Basic auth (env CONVO_METRICS)")
	fs.BoolVar(&o.metricsAuthOnly, "metrics-auth-only", authOnlyDefault, "require admin Basic auth for /metrics from loopback too, e.g. behind a local reverse proxy (env CONVO_METRICS_AUTH_ONLY)")
	fs.StringVar(&o.logFormat, "log-format", env("CONVO_LOG_FORMAT", "text"), "log format: text or json (env CONVO_LOG_FORMAT)")
	fs.StringVar(&o.logLevel, "log-level", env("CONVO_LOG_LEVEL", "info"), "log level: debug, info, warn or error (env CONVO_LOG_LEVEL)")
	intFlag := func(p *int, name, envName string, def int, usage string) error {
		v, err := strconv.Atoi(env(envName, strconv.Itoa(def)))
		if err != nil {
			return fmt.Errorf("%s: %w", envName, err)
		}
		fs.IntVar(p, name, v, usage+" (env "+envName+")")
		return nil
	}
	if err := intFlag(&o.retention, "retention", "CONVO_RETENTION", 10000, "events kept per user for resuming; a client away longer resynchronises"); err != nil {
		return o, err
	}
	if err := intFlag(&o.maxConnsPerIdentity, "max-conns-per-identity", "CONVO_MAX_CONNS_PER_IDENTITY", 20, "live connections one identity may hold"); err != nil {
		return o, err
	}
	var maxMedia int
	if err := intFlag(&maxMedia, "max-media-bytes", "CONVO_MAX_MEDIA_BYTES", 16<<20, "largest media upload, in bytes"); err != nil {
		return o, err
	}
	rate, err := strconv.ParseFloat(env("CONVO_REQUEST_RATE", "50"), 64)
	if err != nil {
		return o, fmt.Errorf("CONVO_REQUEST_RATE: %w", err)
	}
	fs.Float64Var(&o.requestRate, "request-rate", rate, "requests a second one connection may make, with bursts of twice that; negative: no limit (env CONVO_REQUEST_RATE)")
	convRate, err := strconv.ParseFloat(env("CONVO_CONVERSATION_WRITE_RATE", "30"), 64)
	if err != nil {
		return o, fmt.Errorf("CONVO_CONVERSATION_WRITE_RATE: %w", err)
	}
	fs.Float64Var(&o.conversationRate, "conversation-write-rate", convRate, "writes a second one conversation takes from all its users together; negative: no limit (env CONVO_CONVERSATION_WRITE_RATE)")
	fs.StringVar(&o.debugAddr, "debug-addr", env("CONVO_DEBUG_ADDR", ""), "loopback address that serves Go's profiler at /debug/pprof/, e.g. 127.0.0.1:6060 (env CONVO_DEBUG_ADDR; empty: off)")
	public := fs.String("public-origins", env("CONVO_PUBLIC_ORIGINS", ""), "comma-separated origins clients reach this server at, e.g. https://chat.example.com behind a proxy; requests for other host names than these, IP addresses and localhost get 421 (env CONVO_PUBLIC_ORIGINS; --public-url's origin is one)")
	origins := fs.String("allowed-origins", env("CONVO_ALLOWED_ORIGINS", ""), "comma-separated host patterns of pages that may open the WebSocket, e.g. app.example.com,*.example.com (env CONVO_ALLOWED_ORIGINS; empty: same origin only)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	o.maxMediaBytes = int64(maxMedia)
	for _, p := range strings.Split(*public, ",") {
		if p = strings.TrimSpace(p); p != "" {
			if _, err := server.NormalizeOrigin(p); err != nil {
				return o, fmt.Errorf("--public-origins: %w", err)
			}
			o.publicOrigins = append(o.publicOrigins, p)
		}
	}
	if o.publicURL != "" {
		u, err := url.Parse(o.publicURL)
		if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" || u.User != nil {
			return o, fmt.Errorf("--public-url must be a ws:// or wss:// URL, got %q", o.publicURL)
		}
	}
	for _, p := range strings.Split(*origins, ",") {
		if p = strings.TrimSpace(p); p != "" {
			o.allowedOrigins = append(o.allowedOrigins, p)
		}
	}
	if o.retention < 1 || o.maxConnsPerIdentity < 1 || o.maxMediaBytes < 1 {
		return o, errors.New("--retention, --max-conns-per-identity and --max-media-bytes must be positive")
	}
	if o.requestRate == 0 || o.conversationRate == 0 {
		return o, errors.New("--request-rate and --conversation-write-rate must be positive (a limit) or negative (none)")
	}
	if o.store == "" {
		o.store = filepath.Join(o.data, "convo.db")
	}
	if o.media == "" {
		o.media = filepath.Join(o.data, "media")
	}
	if strings.HasPrefix(o.media, "s3:") {
		o.s3.URL = o.media
		if _, _, err := mediastore.ParseS3URL(o.media); err != nil {
			return o, fmt.Errorf("--media: %w", err)
		}
		if o.s3.Endpoint == "" {
			return o, errors.New("--media s3://... needs --s3-endpoint (or CONVO_S3_ENDPOINT): the object store's host:port or http(s):// URL")
		}
	}
	if o.bus != "local" && !strings.HasPrefix(o.bus, "nats://") && !strings.HasPrefix(o.bus, "tls://") {
		return o, fmt.Errorf("--bus must be local or a nats:// URL, got %q", o.bus)
	}
	if o.idleTimeout <= 0 || o.bodyReadTimeout <= 0 {
		return o, errors.New("--idle-timeout and --body-read-timeout must be positive")
	}
	if o.webhookURL != "" {
		u, err := url.Parse(o.webhookURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return o, errors.New("--webhook-url must be an http or https URL")
		}
	}
	if o.debugAddr != "" {
		// The profiler shows memory and stacks: never reachable from another machine.
		host, _, err := net.SplitHostPort(o.debugAddr)
		if ip := net.ParseIP(host); err != nil || (host != "localhost" && (ip == nil || !ip.IsLoopback())) {
			return o, fmt.Errorf("--debug-addr must be a loopback host:port, got %q", o.debugAddr)
		}
	}
	if o.logFormat != "text" && o.logFormat != "json" {
		return o, fmt.Errorf("--log-format must be text or json, got %q", o.logFormat)
	}
	return o, nil
}

// newLogger builds the daemon's structured logger.
func newLogger(o options, w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	hopts := &slog.HandlerOptions{Level: level}
	if o.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, hopts)), nil
	}
	return slog.New(slog.NewTextHandler(w, hopts)), nil
}

// run serves until ctx ends (SIGINT/SIGTERM in main), then shuts down gracefully.
func run(ctx context.Context, args []string, out io.Writer) error {
	o, err := parseFlags(args)
	if err != nil {
		return err
	}
	log, err := newLogger(o, os.Stderr)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(o.data, 0o700); err != nil {
		return err
	}
	keys, err := loadKeys(o, log)
	if err != nil {
		return err
	}
	st, err := storeopen.Open(ctx, o.store, storeopen.Options{Logger: log, Retention: o.retention})
	if err != nil {
		return fmt.Errorf("opening the store: %w", err)
	}
	defer st.Close()
	cfg := server.Config{Store: st, Keys: keys, Logger: log, DevTokens: o.dev, PublicURL: o.publicURL, PublicOrigins: o.publicOrigins,
		WebhookURL: o.webhookURL, WebhookSecret: o.webhookSecret, WebhookMaxAge: o.webhookMaxAge,
		DisableMetrics: !o.metrics, MetricsAuthOnly: o.metricsAuthOnly,
		AllowedOrigins: o.allowedOrigins, MaxConnsPerIdentity: o.maxConnsPerIdentity, MaxMediaBytes: o.maxMediaBytes,
		RequestRate: o.requestRate, RequestBurst: int(2 * o.requestRate), ConversationWriteRate: o.conversationRate,
		BodyReadTimeout: o.bodyReadTimeout}
	if o.bus != "local" {
		// The server owns the bus from here: srv.Close closes it.
		b, err := bus.NewNATS(bus.NATSOptions{URL: o.bus, Logger: log})
		if err != nil {
			return fmt.Errorf("connecting to the bus: %w", err)
		}
		cfg.Bus = b
	}
	if cfg.Media, err = openMedia(o); err != nil {
		return err
	}
	kctx, kcancel := context.WithTimeout(ctx, 30*time.Second)
	cfg.MediaKey, err = cfg.Media.URLKey(kctx)
	kcancel()
	if err != nil {
		return fmt.Errorf("the media URL key (%s): %w", cfg.Media, err)
	}
	log.Info("media store", "media", cfg.Media.String())
	if o.webhookURL != "" && o.webhookSecret == "" {
		log.Warn("webhooks are not signed: set CONVO_WEBHOOK_SECRET")
	}
	if o.web != "" {
		if fi, err := os.Stat(o.web); err != nil || !fi.IsDir() {
			return fmt.Errorf("--web %s is not a directory", o.web)
		}
		cfg.Static = os.DirFS(o.web)
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	if cfg.PublicURL == "" {
		// ws://ADDR/v1/ws, unless ADDR is a wildcard (0.0.0.0, [::]): then the server uses
		// the Host the browser asked for.
		if tcp, ok := ln.Addr().(*net.TCPAddr); ok && !tcp.IP.IsUnspecified() {
			cfg.PublicURL = "ws://" + tcp.String() + "/v1/ws"
		}
	}
	srv := server.New(cfg)
	// No ReadTimeout or WriteTimeout: they would cut the long-lived WebSockets. The handlers
	// that read a body bound that themselves (Config.BodyReadTimeout); IdleTimeout closes
	// keep-alive connections that send no next request.
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: o.idleTimeout}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()

	fmt.Fprintf(out, "convo listening on http://%s\n", ln.Addr())
	if o.debugAddr != "" {
		dl, err := net.Listen("tcp", o.debugAddr)
		if err != nil {
			return fmt.Errorf("--debug-addr: %w", err)
		}
		ds := &http.Server{Handler: debugHandler(), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = ds.Serve(dl) }()
		defer ds.Close()
		fmt.Fprintf(out, "convo profiler on http://%s/debug/pprof/\n", dl.Addr())
	}
	if o.dev {
		fmt.Fprintf(out, "dev mode: open http://%s/ and log in as alice or bob in two tabs\n", ln.Addr())
		if o.web == "" {
			fmt.Fprintln(out, "(no --web directory given, so / serves nothing yet)")
		}
		fmt.Fprintf(out, "dev tokens: curl -d '{\"identity\":\"alice\"}' http://%s/v1/dev/token\n", ln.Addr())
	}

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		log.Info("shutting down")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	// Stop accepting first, then say bye to WebSocket clients (http.Server does not track
	// hijacked connections), then close the store via the defer.
	if err := hs.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("http shutdown", "err", err)
	}
	srv.Close()
	return nil
}

// debugHandler serves the profiler's pages; its own mux keeps them off the public handler.
func debugHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// openMedia opens the media store --media names: an S3 bucket, or a folder whose URL key
// is DATA/media.key.
func openMedia(o options) (mediastore.Store, error) {
	if o.s3.URL != "" {
		return mediastore.NewS3(o.s3)
	}
	return mediastore.NewLocal(o.media, filepath.Join(o.data, "media.key"))
}

// loadKeys reads CONVO_API_KEYS. Without it, dev mode keeps one generated key in
// DATA/dev-key.json so tokens survive restarts; other modes refuse to start. Dev mode with
// CONVO_API_KEYS refuses too: anyone could get a token signed with a production key.
func loadKeys(o options, log *slog.Logger) (*auth.Keyring, error) {
	if s := os.Getenv("CONVO_API_KEYS"); s != "" {
		if o.dev {
			return nil, errors.New("--dev (CONVO_DEV) hands a token to anyone who asks, and with CONVO_API_KEYS set it would sign them with a production key: unset CONVO_API_KEYS for development, or drop --dev")
		}
		return auth.ParseKeyring(s)
	}
	if !o.dev {
		return nil, errors.New("set CONVO_API_KEYS=kid:secret[,kid2:secret2] or run with --dev")
	}
	path := filepath.Join(o.data, "dev-key.json")
	var k auth.Key
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &k); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	case errors.Is(err, os.ErrNotExist):
		k = auth.NewKey("dev")
		b, _ = json.Marshal(k)
		if err := os.WriteFile(path, b, 0o600); err != nil {
			return nil, err
		}
		log.Info("created a dev API key", "path", path, "kid", k.ID)
	default:
		return nil, err
	}
	return auth.NewKeyring(k)
}
