//go:build !js

package core_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/convo-sdk/convo/core"
	"github.com/convo-sdk/convo/server/servertest"
	"github.com/convo-sdk/convo/wire"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// unavailableConn turns the first replies to message sends into "unavailable", as a server
// whose database was briefly out of reach answers (here after storing the message, the
// worst case: the retry must not store it again).
type unavailableConn struct {
	core.Conn
	mu    sync.Mutex
	sends map[uint64]bool
	faked *int
}

func (c *unavailableConn) Write(ctx context.Context, b []byte) error {
	if f, err := wire.Decode(b); err == nil && f.Op == wire.OpMessageSend {
		c.mu.Lock()
		c.sends[f.ID] = true
		c.mu.Unlock()
	}
	return c.Conn.Write(ctx, b)
}

func (c *unavailableConn) Read(ctx context.Context) ([]byte, error) {
	b, err := c.Conn.Read(ctx)
	if err != nil {
		return b, err
	}
	f, derr := wire.Decode(b)
	c.mu.Lock()
	defer c.mu.Unlock()
	if derr == nil && f.Type == wire.TypeReply && c.sends[f.ID] && *c.faked < 2 {
		*c.faked++
		return wire.Encode(wire.ReplyError(f.ID, wire.Errorf(wire.CodeUnavailable, "the database is unreachable; retry shortly")))
	}
	return b, nil
}

func TestSendRetriesWhileTheDatabaseIsUnavailable(t *testing.T) {
	env := servertest.Start(t)
	ctx := testCtx(t)
	alice, bob := newClient(t, env, "alice", nil), newClient(t, env, "bob", nil)
	_, b := chatRoom(t, alice, bob)

	faked := 0
	dial := func(ctx context.Context, url string) (core.Conn, error) {
		c, err := core.DialWebSocket(ctx, url)
		if err != nil {
			return nil, err
		}
		return &unavailableConn{Conn: c, sends: map[uint64]bool{}, faked: &faked}, nil
	}
	flaky := core.New(env.Token("bob", time.Hour), &core.Options{Dial: dial})
	t.Cleanup(func() { _ = flaky.Shutdown(context.Background()) })
	require.NoError(t, flaky.WaitInitialized(ctx))
	conv, err := flaky.GetConversationBySid(ctx, b.Sid())
	require.NoError(t, err)

	idx, err := conv.SendMessage(ctx, "stored once", nil)
	require.NoError(t, err, "unavailable replies are retried, not reported")
	assert.EqualValues(t, 0, idx)
	assert.Equal(t, 2, faked, "both unavailable replies were seen")
	_, err = conv.SendMessage(ctx, "next", nil)
	require.NoError(t, err)

	page, err := conv.GetMessages(ctx, 10, nil, core.Backwards)
	require.NoError(t, err)
	assert.Equal(t, []string{"stored once", "next"}, bodies(page.Items), "the retries reused the idempotency key")
}

func TestSendRetriedAfterAConnectionDropIsStoredOnce(t *testing.T) {
	env := servertest.Start(t)
	ctx := testCtx(t)
	var d dialer
	alice, bob := newClient(t, env, "alice", &d), newClient(t, env, "bob", nil)
	bobSaw := messageLog(bob)
	a, _ := chatRoom(t, alice, bob)

	// Cut the connection right after the send leaves, before its reply can arrive.
	var once sync.Once
	d.mu.Lock()
	d.onWrite = func(frame []byte, c core.Conn) {
		if strings.Contains(string(frame), `"op":"message.send"`) {
			once.Do(func() { c.Close() })
		}
	}
	d.mu.Unlock()
	index, err := a.SendMessage(ctx, "exactly once", nil)
	require.NoError(t, err)
	assert.EqualValues(t, 0, index)

	page, err := a.GetMessages(ctx, 10, nil, "")
	require.NoError(t, err)
	assert.Equal(t, []string{"exactly once"}, bodies(page.Items))
	waitFor(t, "bob's copy", func() bool { return len(bobSaw.snapshot()) == 1 })
	time.Sleep(100 * time.Millisecond)
	assert.Equal(t, []string{"exactly once"}, bobSaw.snapshot())
}

func TestSendsWhileOfflineGoOutInOrder(t *testing.T) {
	env := servertest.Start(t)
	ctx := testCtx(t)
	var d dialer
	alice, bob := newClient(t, env, "alice", &d), newClient(t, env, "bob", nil)
	bobSaw := messageLog(bob)
	a, _ := chatRoom(t, alice, bob)

	d.setRefuse(true)
	d.cut()
	waitFor(t, "alice offline", func() bool { return alice.ConnectionState() == core.StateConnecting })
	var wg sync.WaitGroup
	results := make([]int64, 5)
	for i := range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			idx, err := a.SendMessage(ctx, fmt.Sprintf("offline%d", i), nil)
			assert.NoError(t, err)
			results[i] = idx
		}()
		time.Sleep(20 * time.Millisecond) // fixes the order in which they were made
	}
	// The sends wait, and so do the stream's events behind them; the client's own news does not.
	var news recorder
	news.watch(alice, core.EventConnectionError, core.EventConnectionStateChanged)
	news.waitFor(t, core.EventConnectionError, 2)
	d.setRefuse(false)
	alice.NetworkOnline()
	news.waitFor(t, core.EventConnectionStateChanged, 1)
	wg.Wait()
	assert.Equal(t, []int64{0, 1, 2, 3, 4}, results)
	waitFor(t, "bob to get them", func() bool { return len(bobSaw.snapshot()) == 5 })
	assert.Equal(t, []string{"offline0", "offline1", "offline2", "offline3", "offline4"}, bobSaw.snapshot())
}

func TestRemovalsWhoseReplyWasLostSucceedWhenRepeated(t *testing.T) {
	env := servertest.Start(t)
	ctx := testCtx(t)
	var d dialer
	alice, bob := newClient(t, env, "alice", &d), newClient(t, env, "bob", nil)
	a, _ := chatRoom(t, alice, bob)
	_, err := a.SendMessage(ctx, "to remove", nil)
	require.NoError(t, err)
	page, err := a.GetMessages(ctx, 1, nil, "")
	require.NoError(t, err)

	// Each removal reaches the server, which applies it, and the connection drops before the
	// reply: the repeat on the next connection finds nothing left to remove.
	cutAfter := func(op string) {
		var once sync.Once
		d.mu.Lock()
		d.onWrite = func(frame []byte, c core.Conn) {
			if strings.Contains(string(frame), `"op":"`+op+`"`) {
				once.Do(func() { c.Close() })
			}
		}
		d.mu.Unlock()
	}
	cutAfter(wire.OpMessageRemove)
	require.NoError(t, page.Items[0].Remove(ctx), "the message was removed")
	cutAfter(wire.OpParticipantRemove)
	require.NoError(t, a.RemoveParticipant(ctx, "bob"), "bob was removed")
	cutAfter(wire.OpConversationLeave)
	require.NoError(t, a.Leave(ctx), "alice left")
	waitFor(t, "alice's conversationLeft", func() bool { return a.Status() == core.StatusNotParticipating })
}
