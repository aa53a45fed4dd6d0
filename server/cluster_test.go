package server_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/internal/natstest"
	"github.com/convo-sdk/convo/server"
	"github.com/convo-sdk/convo/server/auth"
	"github.com/convo-sdk/convo/server/bus"
	"github.com/convo-sdk/convo/server/servertest"
	"github.com/convo-sdk/convo/server/store/sqlite"
	"github.com/convo-sdk/convo/wire"
)

// Cluster tests: several server.Server nodes in this process, each on its own listener on
// 127.0.0.1, sharing one store (one *sqlite.Store stands in for a shared database) and one
// embedded NATS server.

// Short heartbeats, so NATS reconnects are quick. Only the expiry test uses the short
// timeout: elsewhere a loaded machine must not make a node look dead.
const (
	clusterBeat    = 50 * time.Millisecond
	clusterTimeout = 400 * time.Millisecond
	longTimeout    = time.Minute
)

type cluster struct {
	t     *testing.T
	key   auth.Key
	store *sqlite.Store
	nodes []*clusterNode
}

type clusterNode struct {
	srv *server.Server
	hs  *httptest.Server
	url string
	nc  *nats.Conn // the node's NATS link when the test dialled it (to cut it)
}

// startCluster starts n nodes on natsURL that declare a silent node dead after timeout.
// Nodes listed in ownLink get a NATS connection dialled by the test, which it may close to
// make the node fall silent.
func startCluster(t *testing.T, n int, natsURL string, timeout time.Duration, ownLink ...int) *cluster {
	t.Helper()
	return startClusterWith(t, n, natsURL, timeout, nil, ownLink...)
}

// startClusterWith is startCluster with configure, when set, adjusting node i's Config.
func startClusterWith(t *testing.T, n int, natsURL string, timeout time.Duration, configure func(i int, c *server.Config), ownLink ...int) *cluster {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "convo.db"), sqlite.Options{Logger: logger})
	require.NoError(t, err)
	c := &cluster{t: t, key: auth.NewKey("test"), store: st}
	keys, err := auth.NewKeyring(c.key)
	require.NoError(t, err)
	t.Cleanup(func() {
		for _, nd := range c.nodes {
			nd.hs.Listener.Close()
			nd.srv.Close()
			nd.hs.Close()
		}
		assert.NoError(t, st.Close())
	})
	for i := range n {
		nd := &clusterNode{}
		o := bus.NATSOptions{URL: natsURL, Heartbeat: clusterBeat, HeartbeatTimeout: timeout, Logger: logger}
		for _, j := range ownLink {
			if j == i {
				nd.nc, err = nats.Connect(natsURL, nats.NoEcho())
				require.NoError(t, err)
				t.Cleanup(nd.nc.Close)
				o.Conn = nd.nc
			}
		}
		b, err := bus.NewNATS(o)
		require.NoError(t, err)
		cfg := server.Config{Store: st, Keys: keys, Logger: logger, Bus: b, RequestRate: -1, ConversationWriteRate: -1}
		if configure != nil {
			configure(i, &cfg)
		}
		nd.srv = server.New(cfg)
		nd.hs = httptest.NewServer(nd.srv.Handler())
		nd.url = "ws" + strings.TrimPrefix(nd.hs.URL, "http") + "/v1/ws"
		c.nodes = append(c.nodes, nd)
	}
	return c
}

// connect dials node i as identity.
func (c *cluster) connect(ctx context.Context, i int, identity string) *servertest.Client {
	c.t.Helper()
	tok, err := auth.Mint(c.key, identity, time.Hour, c.nodes[i].url)
	require.NoError(c.t, err)
	cl, err := servertest.Dial(ctx, c.nodes[i].url, tok, nil)
	require.NoError(c.t, err, "connect %s to node %d", identity, i)
	c.t.Cleanup(cl.Close)
	return cl
}

// nextSignal returns the next userUpdated signal of c; any other signal fails the test.
func nextUserSignal(t *testing.T, ctx context.Context, c *servertest.Client) wire.UserUpdatedSignal {
	t.Helper()
	f, err := c.NextSignal(ctx)
	require.NoError(t, err)
	require.Equal(t, wire.SignalUserUpdated, f.Event)
	return decode[wire.UserUpdatedSignal](t, f)
}

func TestClusterMessagesReachEveryNodeOnceInOrder(t *testing.T) {
	ctx := ctxT(t)
	cl := startCluster(t, 3, natstest.Start(t), longTimeout)
	alice := cl.connect(ctx, 0, "alice")
	bob := cl.connect(ctx, 1, "bob")
	carol := cl.connect(ctx, 2, "carol")
	conv := room(t, ctx, alice, "bob", "carol")
	for _, c := range []*servertest.Client{bob, carol} {
		f, err := c.WaitEvent(ctx, wire.EventConversationJoined)
		require.NoError(t, err)
		assert.Equal(t, conv.Sid, decode[wire.ConversationEvent](t, f).Conversation.Sid)
	}

	// Everyone sends at once, from three nodes.
	const each = 15
	clients := map[string]*servertest.Client{"alice": alice, "bob": bob, "carol": carol}
	var wg sync.WaitGroup
	errs := make(chan error, len(clients))
	for name, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if err := c.Call(ctx, wire.OpMessageSend, wire.SendMessageArgs{ConversationSid: conv.Sid, Body: str(fmt.Sprintf("%s %d", name, i))}, nil); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.NoError(t, alice.Call(ctx, wire.OpConversationUpdate, wire.UpdateConversationArgs{ConversationSid: conv.Sid, FriendlyName: str("renamed")}, nil))

	for name, c := range clients {
		// Every message once, in index order, with dense offsets, then the rename.
		var last uint64
		var next int64
		for next < 3*each {
			f, err := c.NextEvent(ctx)
			require.NoError(t, err, name)
			if last != 0 {
				require.Equal(t, last+1, f.Offset, "%s: offsets are dense", name)
			}
			last = f.Offset
			if f.Event != wire.EventMessageAdded {
				continue // participantJoined etc. before the messages
			}
			m := decode[wire.MessageEvent](t, f).Message
			require.Equal(t, next, m.Index, "%s: every message once and in order", name)
			next++
		}
		f, err := c.NextEvent(ctx)
		require.NoError(t, err)
		assert.Equal(t, last+1, f.Offset)
		assert.Equal(t, wire.EventConversationUpdated, f.Event, name)
		assert.Equal(t, "renamed", decode[wire.ConversationUpdatedEvent](t, f).Conversation.FriendlyName)
	}

	// Participant events cross nodes too: carol leaves, alice and bob hear it.
	require.NoError(t, carol.Call(ctx, wire.OpConversationLeave, wire.ConversationRef{ConversationSid: conv.Sid}, nil))
	for _, c := range []*servertest.Client{alice, bob} {
		f, err := c.NextEvent(ctx)
		require.NoError(t, err)
		require.Equal(t, wire.EventParticipantLeft, f.Event)
		assert.Equal(t, "carol", decode[wire.ParticipantEvent](t, f).Participant.Identity)
	}
}

func TestClusterTypingAndUserUpdates(t *testing.T) {
	ctx := ctxT(t)
	cl := startCluster(t, 3, natstest.Start(t), longTimeout)
	alice := cl.connect(ctx, 0, "alice")
	bob := cl.connect(ctx, 1, "bob")
	carol := cl.connect(ctx, 2, "carol")
	conv := room(t, ctx, alice, "bob")

	require.NoError(t, alice.Call(ctx, wire.OpConversationTyping, wire.ConversationRef{ConversationSid: conv.Sid}, nil))
	f, err := bob.NextSignal(ctx)
	require.NoError(t, err)
	require.Equal(t, wire.SignalTyping, f.Event)
	assert.Equal(t, "alice", decode[wire.TypingSignal](t, f).Identity)

	// carol, on a third node, subscribes to alice and hears her update; so does alice.
	var u wire.User
	require.NoError(t, carol.Call(ctx, wire.OpUserSubscribe, wire.UserRef{Identity: "alice"}, &u))
	assert.True(t, u.IsOnline, "online is cluster-wide")
	require.NoError(t, alice.Call(ctx, wire.OpUserUpdate, wire.UpdateUserArgs{FriendlyName: str("Alice")}, nil))
	for _, c := range []*servertest.Client{carol, alice} {
		s := nextUserSignal(t, ctx, c)
		assert.Equal(t, []string{wire.ReasonFriendlyName}, s.UpdateReasons)
		assert.Equal(t, "Alice", s.User.FriendlyName)
		assert.True(t, s.User.IsOnline)
	}
	// bob is not subscribed to alice: his next signal is carol's update, not alice's.
	require.NoError(t, bob.Call(ctx, wire.OpUserSubscribe, wire.UserRef{Identity: "carol"}, nil))
	require.NoError(t, carol.Call(ctx, wire.OpUserUpdate, wire.UpdateUserArgs{FriendlyName: str("Carol")}, nil))
	assert.Equal(t, "carol", nextUserSignal(t, ctx, bob).User.Identity)
}

func TestClusterReachabilityOnceAcrossNodes(t *testing.T) {
	ctx := ctxT(t)
	cl := startCluster(t, 3, natstest.Start(t), longTimeout)
	_, err := cl.store.EnsureUser(ctx, "alice")
	require.NoError(t, err)
	bob := cl.connect(ctx, 0, "bob")
	dave := cl.connect(ctx, 2, "dave")
	watchers := []*servertest.Client{bob, dave}
	for _, c := range watchers {
		var u wire.User
		require.NoError(t, c.Call(ctx, wire.OpUserSubscribe, wire.UserRef{Identity: "alice"}, &u))
		assert.False(t, u.IsOnline)
	}
	online := func(want bool, who ...*servertest.Client) {
		t.Helper()
		for _, c := range who {
			s := nextUserSignal(t, ctx, c)
			assert.Equal(t, []string{wire.ReasonReachabilityOnline}, s.UpdateReasons)
			assert.Equal(t, want, s.User.IsOnline)
		}
	}

	// alice's first connection anywhere: each watcher, on its own node, hears it once.
	a1 := cl.connect(ctx, 1, "alice")
	online(true, watchers...)
	// A second connection on another node changes nothing. (Had node 2 thought alice came
	// online again, dave's next signal below would say so.)
	a2 := cl.connect(ctx, 2, "alice")
	assert.True(t, a2.Welcome.User.IsOnline)
	erin := cl.connect(ctx, 0, "erin")
	var u wire.User
	require.NoError(t, erin.Call(ctx, wire.OpUserSubscribe, wire.UserRef{Identity: "alice"}, &u))
	assert.True(t, u.IsOnline, "online on nodes 1 and 2, asked on node 0")
	watchers = append(watchers, erin)

	// Offline only when both connections are gone, once for each watcher.
	a1.Close()
	require.NoError(t, a2.Call(ctx, wire.OpConversationList, wire.ListArgs{}, nil))
	a2.Close()
	online(false, watchers...)

	// A node that shuts down says goodbye: its users go offline for the others.
	cl.connect(ctx, 2, "alice")
	online(true, watchers...)
	cl.nodes[2].hs.Listener.Close()
	cl.nodes[2].srv.Close()
	online(false, bob, erin)
	for _, c := range []*servertest.Client{a1, a2} {
		assert.Empty(t, c.Signals, "alice's own connections heard no reachability news")
	}
}

func TestClusterSilentNodeExpires(t *testing.T) {
	ctx := ctxT(t)
	cl := startCluster(t, 2, natstest.Start(t), clusterTimeout, 1)
	_, err := cl.store.EnsureUser(ctx, "alice")
	require.NoError(t, err)
	bob := cl.connect(ctx, 0, "bob")
	require.NoError(t, bob.Call(ctx, wire.OpUserSubscribe, wire.UserRef{Identity: "alice"}, nil))
	cl.connect(ctx, 1, "alice")
	assert.True(t, nextUserSignal(t, ctx, bob).User.IsOnline)

	// Node 1 loses its NATS link without a word, like a node killed with SIGKILL.
	cl.nodes[1].nc.Close()
	cut := time.Now()
	s := nextUserSignal(t, ctx, bob)
	assert.False(t, s.User.IsOnline)
	assert.GreaterOrEqual(t, time.Since(cut), clusterTimeout-clusterBeat, "only after the heartbeat timeout")
}

func TestClusterNATSOutage(t *testing.T) {
	ctx := ctxT(t)
	ns := natstest.StartT(t)
	cl := startCluster(t, 2, ns.URL(), longTimeout)
	alice := cl.connect(ctx, 0, "alice")
	bob := cl.connect(ctx, 1, "bob")
	conv := room(t, ctx, alice, "bob")
	_, err := bob.WaitEvent(ctx, wire.EventParticipantJoined) // bob's own, after conversationJoined
	require.NoError(t, err)
	_, err = alice.WaitEvent(ctx, wire.EventParticipantJoined) // bob's, for alice
	require.NoError(t, err)

	// NATS goes away: the send still commits and alice, on the sender's node, gets it.
	ns.Shutdown()
	var m wire.Message
	require.NoError(t, alice.Call(ctx, wire.OpMessageSend, wire.SendMessageArgs{ConversationSid: conv.Sid, Body: str("during the outage")}, &m))
	f, err := alice.WaitEvent(ctx, wire.EventMessageAdded)
	require.NoError(t, err)
	assert.Equal(t, str("during the outage"), decode[wire.MessageEvent](t, f).Message.Body)
	require.NoError(t, bob.Call(ctx, wire.OpConversationList, wire.ListArgs{}, nil))
	assert.Empty(t, bob.PendingEvents(), "bob's node cannot have heard of it")

	// NATS comes back: bob gets the message although nothing follows it.
	require.NoError(t, ns.Restart())
	f, err = bob.NextEvent(ctx)
	require.NoError(t, err)
	require.Equal(t, wire.EventMessageAdded, f.Event)
	assert.Equal(t, m.Sid, decode[wire.MessageEvent](t, f).Message.Sid)

	// And live delivery resumes.
	require.NoError(t, alice.Call(ctx, wire.OpMessageSend, wire.SendMessageArgs{ConversationSid: conv.Sid, Body: str("after")}, nil))
	g, err := bob.NextEvent(ctx)
	require.NoError(t, err)
	assert.Equal(t, f.Offset+1, g.Offset)
	assert.Equal(t, str("after"), decode[wire.MessageEvent](t, g).Message.Body)
}

func TestClusterEventTooLargeForNATSComesFromTheStore(t *testing.T) {
	ctx := ctxT(t)
	ns, err := natstest.StartServerWith(natstest.Options{MaxPayload: 4096})
	require.NoError(t, err)
	t.Cleanup(ns.Shutdown)
	cl := startCluster(t, 2, ns.URL(), longTimeout)
	alice := cl.connect(ctx, 0, "alice")
	bob := cl.connect(ctx, 1, "bob")
	conv := room(t, ctx, alice, "bob")

	// The bus carries an event this large as a hint; bob's node reads it from the store.
	big := strings.Repeat("b", 8000)
	require.NoError(t, alice.Call(ctx, wire.OpMessageSend, wire.SendMessageArgs{ConversationSid: conv.Sid, Body: &big}, nil))
	f, err := bob.WaitEvent(ctx, wire.EventMessageAdded)
	require.NoError(t, err)
	assert.Equal(t, &big, decode[wire.MessageEvent](t, f).Message.Body)
	require.NoError(t, alice.Call(ctx, wire.OpMessageSend, wire.SendMessageArgs{ConversationSid: conv.Sid, Body: str("small")}, nil))
	g, err := bob.NextEvent(ctx)
	require.NoError(t, err)
	assert.Equal(t, f.Offset+1, g.Offset)
	assert.Equal(t, str("small"), decode[wire.MessageEvent](t, g).Message.Body)
}
