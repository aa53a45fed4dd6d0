package server_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/internal/natstest"
	"github.com/convo-sdk/convo/server"
	"github.com/convo-sdk/convo/server/auth"
	"github.com/convo-sdk/convo/server/mediastore"
	"github.com/convo-sdk/convo/server/servertest"
	"github.com/convo-sdk/convo/wire"
)

// dial connects identity to node i, returning the refusal instead of failing.
func (c *cluster) dial(ctx context.Context, i int, identity string) (*servertest.Client, error) {
	tok, err := auth.Mint(c.key, identity, time.Hour, c.nodes[i].url)
	require.NoError(c.t, err)
	cl, err := servertest.Dial(ctx, c.nodes[i].url, tok, nil)
	if err == nil {
		c.t.Cleanup(cl.Close)
	}
	return cl, err
}

func TestClusterConnectionCapAcrossNodes(t *testing.T) {
	ctx := ctxT(t)
	cl := startClusterWith(t, 3, natstest.Start(t), longTimeout, func(_ int, c *server.Config) { c.MaxConnsPerIdentity = 4 })
	// Four connections spread over the three nodes reach the cap of one node's promise.
	var held []*servertest.Client
	for _, node := range []int{0, 1, 2, 0} {
		held = append(held, cl.connect(ctx, node, "alice"))
	}
	for node := range 3 {
		_, err := cl.dial(ctx, node, "alice")
		require.Error(t, err, "node %d admits a fifth", node)
		assert.Equal(t, wire.CodeTooManySessions, code(t, err))
	}
	cl.connect(ctx, 1, "bob") // another identity has its own cap

	// Closing one, on node 2, frees a slot on any node.
	held[2].Close()
	require.Eventually(t, func() bool {
		c, err := cl.dial(ctx, 1, "alice")
		if err == nil {
			held[2] = c
		}
		return err == nil
	}, 10*time.Second, 20*time.Millisecond)
	_, err := cl.dial(ctx, 0, "alice")
	assert.Equal(t, wire.CodeTooManySessions, code(t, err), "full again")
}

func TestClusterConversationWriteRateAcrossNodes(t *testing.T) {
	ctx := ctxT(t)
	const rate = 5 // a second, burst 5
	cl := startClusterWith(t, 3, natstest.Start(t), longTimeout, func(_ int, c *server.Config) { c.ConversationWriteRate = rate })
	writers := []*servertest.Client{cl.connect(ctx, 0, "alice"), cl.connect(ctx, 1, "bob"), cl.connect(ctx, 2, "carol")}
	conv := room(t, ctx, writers[0], "bob", "carol")
	// Let the bucket fill again after the room's own writes.
	time.Sleep(time.Second)

	// Everyone sends as fast as the server answers for 1.5 s, each through their own node.
	var accepted, limited atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	stop := start.Add(1500 * time.Millisecond)
	for i, w := range writers {
		wg.Go(func() {
			for n := 0; time.Now().Before(stop); n++ {
				err := w.Call(ctx, wire.OpMessageSend, wire.SendMessageArgs{ConversationSid: conv.Sid, Body: str(fmt.Sprintf("%d-%d", i, n))}, nil)
				switch {
				case err == nil:
					accepted.Add(1)
				case code(t, err) == wire.CodeRateLimited:
					limited.Add(1)
				default:
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	// One node's promise: the burst plus the rate over the time taken. Counted per node,
	// three nodes would take about three times that.
	most := rate + int64(rate*elapsed.Seconds()) + 1
	assert.LessOrEqual(t, accepted.Load(), most, "accepted over %v with %d refused", elapsed, limited.Load())
	assert.GreaterOrEqual(t, accepted.Load(), int64(rate), "the burst is taken")
	assert.Positive(t, limited.Load())

	var page wire.MessagePage
	require.NoError(t, writers[1].Call(ctx, wire.OpMessageList, wire.ListMessagesArgs{ConversationSid: conv.Sid, PageSize: 100}, &page))
	assert.Len(t, page.Items, int(accepted.Load()), "every accepted write is stored, no refused one")
}

func TestClusterTypingThrottleAndUploadsAcrossNodes(t *testing.T) {
	ctx := ctxT(t)
	media, err := mediastore.NewLocal(filepath.Join(t.TempDir(), "media"), filepath.Join(t.TempDir(), "media.key"))
	require.NoError(t, err)
	cl := startClusterWith(t, 3, natstest.Start(t), longTimeout, func(_ int, c *server.Config) {
		c.Media, c.MediaKey = media, []byte("a shared media key of this test")
		c.MediaUploadsPerMinute, c.MediaUploadBurst = 2, 2
	})
	alice0 := cl.connect(ctx, 0, "alice")
	alice1 := cl.connect(ctx, 1, "alice")
	bob := cl.connect(ctx, 2, "bob")
	conv := room(t, ctx, alice0, "bob")
	_, err = bob.WaitEvent(ctx, wire.EventConversationJoined)
	require.NoError(t, err)

	// Typing through node 0 signals bob; again at once through node 1 succeeds but is
	// within the throttle, so bob hears nothing more.
	ref := wire.ConversationRef{ConversationSid: conv.Sid}
	require.NoError(t, alice0.Call(ctx, wire.OpConversationTyping, ref, nil))
	f, err := bob.NextSignal(ctx)
	require.NoError(t, err)
	require.Equal(t, wire.SignalTyping, f.Event)
	require.NoError(t, alice1.Call(ctx, wire.OpConversationTyping, ref, nil))
	quiet, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	f, err = bob.NextSignal(quiet)
	assert.Error(t, err, "a second typing signal within the throttle: %v", f)

	// Two uploads a minute, wherever they go: the third, on a third node, is refused.
	for node := range 2 {
		res, _, e := upload(t, ctx, httpBase(cl, node), cl.key, "alice", strings.NewReader("x"), 1)
		require.Equal(t, http.StatusCreated, res.StatusCode, "%v", e)
	}
	res, _, e := upload(t, ctx, httpBase(cl, 2), cl.key, "alice", strings.NewReader("x"), 1)
	require.Equal(t, http.StatusTooManyRequests, res.StatusCode)
	assert.Equal(t, wire.CodeRateLimited, e.Code)
}
