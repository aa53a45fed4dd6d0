//go:build !js

// These tests start a real server in-process, so they run natively only.

package core_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/convo-sdk/convo/core"
	"github.com/convo-sdk/convo/server/servertest"
	"github.com/stretchr/testify/require"
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// dialer wraps the real WebSocket dialer so a test can cut connections, refuse new ones and
// act on frames as the client writes them.
type dialer struct {
	mu      sync.Mutex
	conns   []core.Conn
	refuse  bool
	onWrite func(frame []byte, c core.Conn) // called after each successful write
}

func (d *dialer) dial(ctx context.Context, url string) (core.Conn, error) {
	d.mu.Lock()
	refuse := d.refuse
	d.mu.Unlock()
	if refuse {
		return nil, fmt.Errorf("test: network down")
	}
	c, err := core.DialWebSocket(ctx, url)
	if err != nil {
		return nil, err
	}
	wc := &watchedConn{Conn: c, d: d}
	d.mu.Lock()
	d.conns = append(d.conns, wc)
	d.mu.Unlock()
	return wc, nil
}

func (d *dialer) setRefuse(v bool) {
	d.mu.Lock()
	d.refuse = v
	d.mu.Unlock()
}

// cut closes every connection made so far, as a network failure would.
func (d *dialer) cut() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, c := range d.conns {
		c.Close()
	}
}

type watchedConn struct {
	core.Conn
	d *dialer
}

func (c *watchedConn) Write(ctx context.Context, b []byte) error {
	err := c.Conn.Write(ctx, b)
	c.d.mu.Lock()
	hook := c.d.onWrite
	c.d.mu.Unlock()
	if err == nil && hook != nil {
		hook(b, c)
	}
	return err
}

// events records a client's emitted events by name, in order.
type events struct {
	mu   sync.Mutex
	list []string
}

func (e *events) add(s string) {
	e.mu.Lock()
	e.list = append(e.list, s)
	e.mu.Unlock()
}

func (e *events) snapshot() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.list...)
}

// take returns what was recorded since the last take.
func (e *events) take() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := e.list
	e.list = nil
	return out
}

// waitFor polls until cond holds or the test's patience ends.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func newClient(t *testing.T, env *servertest.Env, identity string, d *dialer) *core.Client {
	t.Helper()
	opts := &core.Options{BackoffMin: 20 * time.Millisecond, BackoffMax: 200 * time.Millisecond, Logf: t.Logf}
	if d != nil {
		opts.Dial = d.dial
	}
	return startClient(t, env, identity, opts)
}

// startClient is a client with opts, initialised, and shut down when the test ends.
func startClient(t *testing.T, env *servertest.Env, identity string, opts *core.Options) *core.Client {
	t.Helper()
	c := core.New(env.Token(identity, time.Hour), opts)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = c.Shutdown(ctx)
	})
	require.NoError(t, c.WaitInitialized(testCtx(t)))
	return c
}

// chatRoom makes alice create and join a conversation that bob joins too.
func chatRoom(t *testing.T, alice, bob *core.Client) (*core.Conversation, *core.Conversation) {
	t.Helper()
	ctx := testCtx(t)
	a, err := alice.CreateConversation(ctx, core.CreateConversationOptions{FriendlyName: "room"})
	require.NoError(t, err)
	require.NoError(t, a.Join(ctx))
	b, err := bob.PeekConversationBySid(ctx, a.Sid())
	require.NoError(t, err)
	require.NoError(t, b.Join(ctx))
	return a, b
}

func bodies(msgs []*core.Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = *m.Body()
	}
	return out
}

// messageLog collects messageAdded bodies of a client.
func messageLog(c *core.Client) *events {
	var ev events
	c.OnMessageAdded(func(m *core.Message) { ev.add(*m.Body()) })
	return &ev
}

// recorder keeps the events of one emitter by name, with their payloads.
type recorder struct {
	mu  sync.Mutex
	got []recorded
}

type recorded struct {
	name string
	args []any
}

// eventName is an event declaration of core: an Event or a Signal.
type eventName interface{ Name() string }

func (r *recorder) watch(e core.EventSource, events ...eventName) {
	for _, ev := range events {
		n := ev.Name()
		e.Emitter().On(n, func(args ...any) {
			r.mu.Lock()
			r.got = append(r.got, recorded{n, args})
			r.mu.Unlock()
		})
	}
}

func (r *recorder) named(ev eventName) []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []recorded
	for _, e := range r.got {
		if e.name == ev.Name() {
			out = append(out, e)
		}
	}
	return out
}

// names lists the recorded event names in order.
func (r *recorder) names() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, len(r.got))
	for i, e := range r.got {
		out[i] = e.name
	}
	return out
}

func (r *recorder) waitFor(t *testing.T, ev eventName, n int) []recorded {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d %q events", n, ev.Name()), func() bool { return len(r.named(ev)) >= n })
	return r.named(ev)
}

// admin calls the server's admin REST API as an app backend would.
func admin(t *testing.T, env *servertest.Env, method, path string, body, out any) {
	t.Helper()
	var r bytes.Buffer
	if body != nil {
		require.NoError(t, json.NewEncoder(&r).Encode(body))
	}
	req, err := http.NewRequest(method, env.HTTPURL+"/v1/admin"+path, &r)
	require.NoError(t, err)
	req.SetBasicAuth(env.Key.ID, env.Key.Secret)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Less(t, res.StatusCode, 300, "%s %s: HTTP %d", method, path, res.StatusCode)
	if out != nil {
		require.NoError(t, json.NewDecoder(res.Body).Decode(out))
	}
}
