// Package servertest starts a real convo server (SQLite in a temporary directory, HTTP on
// 127.0.0.1) for tests, and offers a small protocol client to drive it. The server's own
// tests and the client engine's tests both use it.
package servertest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/convo-sdk/convo/server"
	"github.com/convo-sdk/convo/server/auth"
	"github.com/convo-sdk/convo/server/mediastore"
	"github.com/convo-sdk/convo/server/store/sqlite"
	"github.com/convo-sdk/convo/wire"
)

// Options adjust the server Start runs. The zero value is the production defaults.
type Options struct {
	// Dir is the data directory (the SQLite files, media, the media key); empty means a
	// new temporary directory. SmallVolume makes one on a small filesystem of its own.
	Dir             string
	Retention       int // events kept per user stream
	MaxParticipants int
	QueueSize       int // per-connection event queue
	DevTokens       bool
	HelloTimeout    time.Duration
	Static          fs.FS
	// Logger receives the server's logs; nil discards them.
	Logger *slog.Logger
	// Configure, when set, adjusts the server's Config before each start (webhooks,
	// metrics, ...).
	Configure func(*server.Config)
}

// Env is a running server. Its fields stay valid across Restart except Server and Store,
// which are replaced.
type Env struct {
	URL     string // WebSocket URL, ws://127.0.0.1:PORT/v1/ws
	HTTPURL string // http://127.0.0.1:PORT
	Dir     string // data directory (holds convo.db)
	// MediaDir holds uploaded media (Dir/media); the media URL key survives Restart.
	MediaDir string
	Key      auth.Key
	Keys     *auth.Keyring
	Server   *server.Server
	Store    *sqlite.Store

	t        testing.TB
	opts     Options
	mediaKey []byte
	media    *mediastore.Local
	hs       *httptest.Server
	mu       sync.Mutex
}

// Start runs a server until the test ends.
func Start(t testing.TB, opts ...Options) *Env {
	t.Helper()
	e := &Env{t: t, Key: auth.NewKey("test"), mediaKey: []byte(auth.NewKey("media").Secret)}
	if len(opts) > 0 {
		e.opts = opts[0]
	}
	e.Dir = e.opts.Dir
	if e.Dir == "" {
		e.Dir = t.TempDir()
	}
	e.MediaDir = filepath.Join(e.Dir, "media")
	var err error
	if e.media, err = mediastore.NewLocal(e.MediaDir, filepath.Join(e.Dir, "media.key")); err != nil {
		t.Fatal(err)
	}
	if e.opts.Logger == nil {
		e.opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if e.Keys, err = auth.NewKeyring(e.Key); err != nil {
		t.Fatal(err)
	}
	e.start("")
	t.Cleanup(e.stop)
	return e
}

func (e *Env) start(addr string) {
	t := e.t
	t.Helper()
	st, err := sqlite.Open(filepath.Join(e.Dir, "convo.db"), sqlite.Options{Retention: e.opts.Retention, Logger: e.opts.Logger})
	if err != nil {
		t.Fatalf("servertest: open store: %v", err)
	}
	cfg := server.Config{
		Store: st, Keys: e.Keys, Logger: e.opts.Logger, Static: e.opts.Static,
		DevTokens: e.opts.DevTokens, QueueSize: e.opts.QueueSize, MaxParticipants: e.opts.MaxParticipants,
		HelloTimeout: e.opts.HelloTimeout,
		Media:        e.media, MediaKey: e.mediaKey,
	}
	if e.opts.Configure != nil {
		e.opts.Configure(&cfg)
	}
	srv := server.New(cfg)
	hs := httptest.NewUnstartedServer(srv.Handler())
	if addr != "" {
		// Reuse the address so URLs and tokens stay valid; fall back to a fresh port.
		if l, err := net.Listen("tcp", addr); err == nil {
			hs.Listener.Close()
			hs.Listener = l
		}
	}
	hs.Start()
	e.mu.Lock()
	e.Store, e.Server, e.hs = st, srv, hs
	e.HTTPURL = hs.URL
	e.URL = "ws" + strings.TrimPrefix(hs.URL, "http") + "/v1/ws"
	e.mu.Unlock()
}

func (e *Env) stop() {
	e.mu.Lock()
	srv, hs, st := e.Server, e.hs, e.Store
	e.Server, e.hs, e.Store = nil, nil, nil
	e.mu.Unlock()
	if srv == nil {
		return
	}
	hs.Listener.Close() // no new connections while the server says bye
	srv.Close()
	hs.Close()
	if err := st.Close(); err != nil {
		e.t.Errorf("servertest: close store: %v", err)
	}
}

// Restart stops the server (clients get a bye) and starts a new one on the same data
// directory and, when the port is still free, the same address.
func (e *Env) Restart() {
	e.t.Helper()
	addr := strings.TrimPrefix(e.HTTPURL, "http://")
	e.stop()
	e.start(addr)
}

// RestartWith stops the server, replaces its database with a copy of the file at path, as
// an operator restores a backup (the old database's -wal and -shm files go too), and
// starts it again like Restart.
func (e *Env) RestartWith(path string) {
	e.t.Helper()
	addr := strings.TrimPrefix(e.HTTPURL, "http://")
	e.stop()
	db := filepath.Join(e.Dir, "convo.db")
	for _, f := range []string{db, db + "-wal", db + "-shm"} {
		if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
			e.t.Fatalf("servertest: restore: %v", err)
		}
	}
	if err := copyFile(path, db); err != nil {
		e.t.Fatalf("servertest: restore %s: %v", path, err)
	}
	e.start(addr)
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// Token mints a token for identity signed with the Env's key.
func (e *Env) Token(identity string, ttl time.Duration) string {
	e.t.Helper()
	tok, err := auth.Mint(e.Key, identity, ttl, e.URL)
	if err != nil {
		e.t.Fatalf("servertest: mint token: %v", err)
	}
	return tok
}

// Connect dials as identity with a one-hour token and fails the test unless welcomed.
func (e *Env) Connect(ctx context.Context, identity string) *Client {
	e.t.Helper()
	c, err := Dial(ctx, e.URL, e.Token(identity, time.Hour), nil)
	if err != nil {
		e.t.Fatalf("servertest: connect %s: %v", identity, err)
	}
	e.t.Cleanup(c.Close)
	return c
}

// Client is a minimal protocol client: one goroutine at a time may use it.
type Client struct {
	WS      *websocket.Conn
	Welcome wire.WelcomeData
	nextID  uint64
	// events holds events read while waiting for a reply, in arrival order.
	events []*wire.Frame
	// Signals collects the signal frames read while waiting for replies or events.
	Signals []*wire.Frame
}

// DialRaw opens a WebSocket with the convo subprotocol and sends nothing.
func DialRaw(ctx context.Context, url string) (*websocket.Conn, error) {
	ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{wire.Subprotocol}})
	if err != nil {
		return nil, err
	}
	ws.SetReadLimit(wire.MaxServerFrameBytes) // what a server may send
	return ws, nil
}

// Dial connects, says hello and waits for the welcome. A bye comes back as its *wire.Error.
func Dial(ctx context.Context, url, token string, resume *wire.Resume) (*Client, error) {
	ws, err := DialRaw(ctx, url)
	if err != nil {
		return nil, err
	}
	c := &Client{WS: ws}
	if err := c.Send(ctx, &wire.Frame{Type: wire.TypeHello, Data: marshal(wire.HelloData{Token: token, Resume: resume, Client: "servertest"})}); err != nil {
		ws.CloseNow()
		return nil, err
	}
	f, err := c.ReadFrame(ctx)
	if err != nil {
		ws.CloseNow()
		return nil, err
	}
	if f.Type != wire.TypeWelcome {
		ws.CloseNow()
		return nil, fmt.Errorf("servertest: expected welcome, got %q frame", f.Type)
	}
	if err := json.Unmarshal(f.Data, &c.Welcome); err != nil {
		ws.CloseNow()
		return nil, err
	}
	return c, nil
}

// Close closes the socket without ceremony.
func (c *Client) Close() { c.WS.CloseNow() }

// Send writes one frame.
func (c *Client) Send(ctx context.Context, f *wire.Frame) error {
	b, err := wire.Encode(f)
	if err != nil {
		return err
	}
	return c.WS.Write(ctx, websocket.MessageText, b)
}

// ReadFrame reads the next frame. A bye frame is returned as its *wire.Error.
func (c *Client) ReadFrame(ctx context.Context) (*wire.Frame, error) {
	_, b, err := c.WS.Read(ctx)
	if err != nil {
		return nil, err
	}
	f, err := wire.Decode(b)
	if err != nil {
		return nil, err
	}
	if f.Type == wire.TypeBye {
		if f.Error == nil {
			return nil, errors.New("servertest: bye without error")
		}
		return nil, f.Error
	}
	return f, nil
}

// Call sends a request and waits for its reply, decoding the result into out (may be nil).
// An error reply is returned as its *wire.Error. Events that arrive meanwhile are kept for
// NextEvent.
func (c *Client) Call(ctx context.Context, op string, args, out any) error {
	c.nextID++
	id := c.nextID
	var data wire.Encoder
	if args != nil {
		b, err := json.Marshal(args)
		if err != nil {
			return err
		}
		data = wire.RawJSON(b)
	}
	f, err := wire.Request(id, op, data)
	if err != nil {
		return err
	}
	if err := c.Send(ctx, f); err != nil {
		return err
	}
	for {
		f, err := c.ReadFrame(ctx)
		if err != nil {
			return err
		}
		switch {
		case f.Type == wire.TypeEvent:
			c.events = append(c.events, f)
		case f.Type == wire.TypeSignal:
			c.Signals = append(c.Signals, f)
		case f.Type == wire.TypeReply && f.ID == id:
			if f.Error != nil {
				return f.Error
			}
			if out == nil {
				return nil
			}
			return json.Unmarshal(f.Data, out)
		default:
			return fmt.Errorf("servertest: unexpected %q frame (id %d) while waiting for reply %d", f.Type, f.ID, id)
		}
	}
}

// NextEvent returns the next event frame, buffered or read.
func (c *Client) NextEvent(ctx context.Context) (*wire.Frame, error) {
	if len(c.events) > 0 {
		f := c.events[0]
		c.events = c.events[1:]
		return f, nil
	}
	f, err := c.ReadFrame(ctx)
	for err == nil && f.Type == wire.TypeSignal {
		c.Signals = append(c.Signals, f)
		f, err = c.ReadFrame(ctx)
	}
	if err != nil {
		return nil, err
	}
	if f.Type != wire.TypeEvent {
		return nil, fmt.Errorf("servertest: unexpected %q frame while waiting for an event", f.Type)
	}
	return f, nil
}

// WaitEvent returns the next event named name, skipping others.
func (c *Client) WaitEvent(ctx context.Context, name string) (*wire.Frame, error) {
	for {
		f, err := c.NextEvent(ctx)
		if err != nil || f.Event == name {
			return f, err
		}
	}
}

// NextSignal returns the next signal frame, buffered (Signals) or read; events read
// meanwhile are kept for NextEvent.
func (c *Client) NextSignal(ctx context.Context) (*wire.Frame, error) {
	for len(c.Signals) == 0 {
		f, err := c.ReadFrame(ctx)
		if err != nil {
			return nil, err
		}
		switch f.Type {
		case wire.TypeSignal:
			c.Signals = append(c.Signals, f)
		case wire.TypeEvent:
			c.events = append(c.events, f)
		default:
			return nil, fmt.Errorf("servertest: unexpected %q frame while waiting for a signal", f.Type)
		}
	}
	f := c.Signals[0]
	c.Signals = c.Signals[1:]
	return f, nil
}

// PendingEvents returns and clears the events buffered so far, without reading.
func (c *Client) PendingEvents() []*wire.Frame {
	s := c.events
	c.events = nil
	return s
}

// Upload posts a media file as identity (POST /v1/media with a bearer token) and decodes
// the reply. A non-2xx reply is returned as its *wire.Error.
func (e *Env) Upload(ctx context.Context, identity, filename, category, contentType string, body []byte) (wire.Media, error) {
	e.t.Helper()
	var m wire.Media
	q := url.Values{}
	if filename != "" {
		q.Set("filename", filename)
	}
	if category != "" {
		q.Set("category", category)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.HTTPURL+"/v1/media?"+q.Encode(), bytes.NewReader(body))
	if err != nil {
		return m, err
	}
	req.Header.Set("Authorization", "Bearer "+e.Token(identity, time.Hour))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return m, err
	}
	defer res.Body.Close()
	if res.StatusCode/100 != 2 {
		var body struct {
			Error *wire.Error `json:"error"`
		}
		if err := json.NewDecoder(res.Body).Decode(&body); err != nil || body.Error == nil {
			return m, fmt.Errorf("servertest: upload: HTTP %d", res.StatusCode)
		}
		return m, body.Error
	}
	return m, json.NewDecoder(res.Body).Decode(&m)
}

// Events reads exactly n events.
func (c *Client) Events(ctx context.Context, n int) ([]*wire.Frame, error) {
	out := make([]*wire.Frame, 0, n)
	for len(out) < n {
		f, err := c.NextEvent(ctx)
		if err != nil {
			return out, err
		}
		out = append(out, f)
	}
	return out, nil
}

func marshal(v any) wire.RawJSON {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
