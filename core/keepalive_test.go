//go:build !js

package core_test

import (
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/core"
	"github.com/convo-sdk/convo/server/servertest"
)

// stallProxy relays TCP connections to a server. stallAll makes every connection relayed so
// far a black hole: bytes stop moving both ways but neither socket closes, as when a NAT
// forgets a connection or a laptop sleeps. Connections made later relay normally.
type stallProxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	pairs []*stallPair
}

type stallPair struct {
	client, server net.Conn
	stalled        chan struct{}
	once           sync.Once
}

func newStallProxy(t *testing.T, target string) *stallProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &stallProxy{ln: ln, target: target}
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, pr := range p.pairs {
			pr.client.Close()
			pr.server.Close()
		}
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			pr := &stallPair{client: c, server: s, stalled: make(chan struct{})}
			p.mu.Lock()
			p.pairs = append(p.pairs, pr)
			p.mu.Unlock()
			go pr.pump(c, s)
			go pr.pump(s, c)
		}
	}()
	return p
}

// pump copies src to dst until the pair stalls; then it stops reading, so nothing more
// moves and nothing is closed.
func (pr *stallPair) pump(src, dst net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		select {
		case <-pr.stalled:
			<-make(chan struct{}) // swallow and hang until the test's cleanup closes src
		default:
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if err != io.EOF {
				dst.Close()
			} else if tc, ok := dst.(*net.TCPConn); ok {
				tc.CloseWrite()
			}
			return
		}
	}
}

func (p *stallProxy) stallAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pr := range p.pairs {
		pr.once.Do(func() { close(pr.stalled) })
	}
}

func (p *stallProxy) url(serverURL string) string {
	return "ws://" + p.ln.Addr().String() + serverURL[strings.Index(serverURL, "/v1/"):]
}

// A connection that goes silent without closing is noticed by the keep-alive, cut, and
// replaced: the send waiting on it goes out on the new connection (once), and the messages
// sent meanwhile arrive. Without the keep-alive the client waited on the dead connection
// forever, with every later send queued behind the first.
func TestBlackHoledConnectionIsDetectedAndReplaced(t *testing.T) {
	env := servertest.Start(t)
	ctx := testCtx(t)
	proxy := newStallProxy(t, strings.TrimPrefix(env.HTTPURL, "http://"))
	alice := startClient(t, env, "alice", &core.Options{
		ServerURL:  proxy.url(env.URL),
		BackoffMin: 20 * time.Millisecond, BackoffMax: 200 * time.Millisecond, Logf: t.Logf,
		PingInterval: 300 * time.Millisecond, PingTimeout: 300 * time.Millisecond,
	})
	bob := newClient(t, env, "bob", nil)
	aliceSaw := messageLog(alice)
	a, b := chatRoom(t, alice, bob)
	time.Sleep(100 * time.Millisecond) // alice processes the join events

	proxy.stallAll()
	_, err := b.SendMessage(ctx, "while alice was in the hole", nil)
	require.NoError(t, err)
	sendCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	index, err := a.SendMessage(sendCtx, "from the hole", nil)
	require.NoError(t, err, "the send waited on the dead connection")
	assert.EqualValues(t, 1, index)
	waitFor(t, "alice to see both messages", func() bool { return len(aliceSaw.snapshot()) >= 2 })
	time.Sleep(100 * time.Millisecond) // a duplicate would show up here
	assert.Equal(t, []string{"while alice was in the hole", "from the hole"}, aliceSaw.snapshot())
	page, err := b.GetMessages(ctx, 10, nil, "")
	require.NoError(t, err)
	assert.Equal(t, []string{"while alice was in the hole", "from the hole"}, bodies(page.Items), "stored once")
}

// Without Ping on the Conn (the browser's WebSocket has none), the keep-alive checks with a
// request instead.
func TestBlackHoleDetectedWithoutPing(t *testing.T) {
	env := servertest.Start(t)
	ctx := testCtx(t)
	proxy := newStallProxy(t, strings.TrimPrefix(env.HTTPURL, "http://"))
	alice := core.New(env.Token("alice", time.Hour), &core.Options{
		ServerURL:  proxy.url(env.URL),
		BackoffMin: 20 * time.Millisecond, BackoffMax: 200 * time.Millisecond, Logf: t.Logf,
		PingInterval: 300 * time.Millisecond, PingTimeout: 300 * time.Millisecond,
		Dial: func(ctx context.Context, url string) (core.Conn, error) {
			c, err := core.DialWebSocket(ctx, url)
			if err != nil {
				return nil, err
			}
			return struct{ core.Conn }{c}, nil // hides Ping
		},
	})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = alice.Shutdown(ctx)
	})
	require.NoError(t, alice.WaitInitialized(ctx))
	conv, err := alice.CreateConversation(ctx, core.CreateConversationOptions{})
	require.NoError(t, err)
	require.NoError(t, conv.Join(ctx))
	proxy.stallAll()
	sendCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err = conv.SendMessage(sendCtx, "from the hole", nil)
	require.NoError(t, err, "the send waited on the dead connection")
}
