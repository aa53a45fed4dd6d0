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
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/convo-sdk/convo/server"
	"github.com/convo-sdk/convo/server/auth"
	"github.com/convo-sdk/convo/server/store/sqlite"
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
	fs.StringVar(&o.data, "data", env("CONVO_DATA", "./data"), "data directory; the database is DATA/convo.db (env CONVO_DATA)")
	fs.StringVar(&o.web, "web", env("CONVO_WEB", ""), "directory served at / (demo page, /sdk/...) (env CONVO_WEB)")
	fs.BoolVar(&o.dev, "dev", devDefault, "development mode: POST /v1/dev/token hands out tokens (env CONVO_DEV)")
	fs.StringVar(&o.publicURL, "public-url", env("CONVO_PUBLIC_URL", ""), "WebSocket URL put in dev tokens (env CONVO_PUBLIC_URL; default ws://ADDR/v1/ws)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	return o, nil
}

// run serves until ctx ends (SIGINT/SIGTERM in main), then shuts down gracefully.
func run(ctx context.Context, args []string, out io.Writer) error {
	o, err := parseFlags(args)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := os.MkdirAll(o.data, 0o700); err != nil {
		return err
	}
	keys, err := loadKeys(o, log)
	if err != nil {
		return err
	}
	st, err := sqlite.Open(filepath.Join(o.data, "convo.db"), sqlite.Options{Logger: log})
	if err != nil {
		return err
	}
	defer st.Close()
	cfg := server.Config{Store: st, Keys: keys, Logger: log, DevTokens: o.dev, PublicURL: o.publicURL}
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
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()

	fmt.Fprintf(out, "convo listening on http://%s\n", ln.Addr())
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

// loadKeys reads CONVO_API_KEYS. Without it, dev mode keeps one generated key in
// DATA/dev-key.json so tokens survive restarts; other modes refuse to start.
func loadKeys(o options, log *slog.Logger) (*auth.Keyring, error) {
	if s := os.Getenv("CONVO_API_KEYS"); s != "" {
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
