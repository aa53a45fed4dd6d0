//go:build !js

package core_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/convo-sdk/convo/core"
	"github.com/convo-sdk/convo/server/servertest"
	"github.com/convo-sdk/convo/wire"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// catchUp lets away reconnect and checks that it announces exactly the missed messages, in
// order, then a live one sent through from.
func catchUp(t *testing.T, away *core.Client, d *dialer, from *core.Conversation, saw *events, missed []string) {
	t.Helper()
	d.setRefuse(false)
	away.NetworkOnline()
	waitFor(t, "the client to catch up", func() bool { return len(saw.snapshot()) >= len(missed) })
	_, err := from.SendMessage(testCtx(t), "live", nil)
	require.NoError(t, err)
	waitFor(t, "the live message", func() bool { return len(saw.snapshot()) >= len(missed)+1 })
	time.Sleep(100 * time.Millisecond) // a duplicate would show up here
	assert.Equal(t, append(missed, "live"), saw.snapshot())
}

// missWhileAway cuts away's connection and keeps it from reconnecting, waits until its
// client notices, then sends n messages to it through from. It returns their bodies.
func missWhileAway(t *testing.T, away *core.Client, d *dialer, from *core.Conversation, n int) []string {
	t.Helper()
	d.setRefuse(true)
	d.cut()
	waitFor(t, "the client to notice", func() bool { return away.ConnectionState() == core.StateConnecting })
	var bodies []string
	for i := range n {
		body := fmt.Sprintf("missed%d", i)
		bodies = append(bodies, body)
		_, err := from.SendMessage(testCtx(t), body, nil)
		require.NoError(t, err)
	}
	return bodies
}

func TestResumeAfterServerRestartLosesAndRepeatsNothing(t *testing.T) {
	env := servertest.Start(t)
	ctx := testCtx(t)
	alice, bob := newClient(t, env, "alice", nil), newClient(t, env, "bob", nil)
	aliceSaw := messageLog(alice)
	a, b := chatRoom(t, alice, bob)
	_, err := a.SendMessage(ctx, "before", nil)
	require.NoError(t, err)
	waitFor(t, "the first message", func() bool { return len(aliceSaw.snapshot()) == 1 })

	env.Restart()
	// Sent while alice may still be reconnecting: she must get each exactly once, in order.
	for i := range 5 {
		_, err := b.SendMessage(ctx, fmt.Sprintf("after%d", i), nil)
		require.NoError(t, err)
	}
	waitFor(t, "all messages after the restart", func() bool { return len(aliceSaw.snapshot()) >= 6 })
	time.Sleep(100 * time.Millisecond) // a duplicate would show up here
	assert.Equal(t, []string{"before", "after0", "after1", "after2", "after3", "after4"}, aliceSaw.snapshot())
	assert.Equal(t, core.StateConnected, alice.ConnectionState())
}

func TestResyncWhenTheGapIsBeyondRetention(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Retention: 3})
	var d dialer
	alice, bob := newClient(t, env, "alice", &d), newClient(t, env, "bob", nil)
	aliceSaw := messageLog(alice)
	_, b := chatRoom(t, alice, bob)

	want := missWhileAway(t, alice, &d, b, 10) // more than the 3 events the server keeps for alice
	catchUp(t, alice, &d, b, aliceSaw, want)
}

// A resync that fails (here its conversation list times out while the connection is down
// again) runs again at the next connection, although that one resumes its stream: the gap
// it was filling lies before where the stream resumes. A message that arrives live while the
// attempt fails moves the conversation past the gap, which must not hide the gap's messages.
func TestAFailedResyncRunsAgainAtTheNextConnection(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Retention: 3})
	var (
		d      dialer
		logMu  sync.Mutex
		failed bool
	)
	opts := &core.Options{BackoffMin: 20 * time.Millisecond, BackoffMax: 200 * time.Millisecond,
		RequestTimeout: 500 * time.Millisecond, Dial: d.dial, Logf: func(format string, args ...any) {
			t.Logf(format, args...)
			// The list call, or the page fetch after it, fails: either leaves the gap unfilled.
			if strings.HasPrefix(format, "convo: resynchronising after reconnect failed") ||
				strings.HasPrefix(format, "convo: fetching missed messages") {
				logMu.Lock()
				failed = true
				logMu.Unlock()
			}
		}}
	alice := startClient(t, env, "alice", opts)
	bob := newClient(t, env, "bob", nil)
	aliceSaw := messageLog(alice)
	_, b := chatRoom(t, alice, bob)

	missed := missWhileAway(t, alice, &d, b, 10) // more than the 3 events the server keeps for alice
	// The reconnect cannot resume, so a resync starts. While its first call is out, a message
	// arrives live; then the connection drops and stays down longer than the call may wait.
	var once sync.Once
	d.mu.Lock()
	d.onWrite = func(frame []byte, c core.Conn) {
		if strings.Contains(string(frame), `"op":"`+wire.OpConversationList+`"`) {
			once.Do(func() {
				_, err := b.SendMessage(testCtx(t), "during", nil)
				assert.NoError(t, err)
				time.Sleep(300 * time.Millisecond) // its event reaches alice's connection
				d.setRefuse(true)
				c.Close()
			})
		}
	}
	d.mu.Unlock()
	d.setRefuse(false)
	alice.NetworkOnline()
	waitFor(t, "the resync to fail", func() bool {
		logMu.Lock()
		defer logMu.Unlock()
		return failed
	})

	d.setRefuse(false)
	alice.NetworkOnline()
	waitFor(t, "alice to catch up", func() bool { return len(aliceSaw.snapshot()) >= len(missed)+1 })
	_, err := b.SendMessage(testCtx(t), "live", nil)
	require.NoError(t, err)
	waitFor(t, "the live message", func() bool { return len(aliceSaw.snapshot()) >= len(missed)+2 })
	time.Sleep(100 * time.Millisecond) // a duplicate would show up here
	got := aliceSaw.snapshot()
	assert.ElementsMatch(t, append(missed, "during", "live"), got, "every message once")
	var gotMissed []string
	for _, m := range got {
		if strings.HasPrefix(m, "missed") {
			gotMissed = append(gotMissed, m)
		}
	}
	assert.Equal(t, missed, gotMissed, "the missed messages in order")
}

func TestResyncEmitsWhatChangedWhileAway(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Retention: 2})
	ctx := testCtx(t)
	var d dialer
	alice, bob := newClient(t, env, "alice", &d), newClient(t, env, "bob", nil)
	room := func(name string) *core.Conversation {
		conv, err := bob.CreateConversation(ctx, core.CreateConversationOptions{FriendlyName: name})
		require.NoError(t, err)
		require.NoError(t, conv.Join(ctx))
		require.NoError(t, conv.Add(ctx, "alice", nil))
		return conv
	}
	renamed, deleted, leftBehind := room("renamed"), room("deleted"), room("left behind")
	waitFor(t, "alice in three conversations", func() bool {
		p, err := alice.GetSubscribedConversations(ctx)
		return err == nil && len(p.Items) == 3
	})
	var seen recorder
	seen.watch(alice, core.EventConversationUpdated, core.EventConversationRemoved, core.EventConversationLeft, core.EventConversationAdded)

	d.setRefuse(true)
	d.cut()
	waitFor(t, "alice offline", func() bool { return alice.ConnectionState() == core.StateConnecting })
	name := "renamed twice"
	require.NoError(t, renamed.Update(ctx, core.UpdateConversationOptions{FriendlyName: &name}))
	require.NoError(t, deleted.Delete(ctx))
	require.NoError(t, leftBehind.RemoveParticipant(ctx, "alice"))
	room("new")
	d.setRefuse(false)
	alice.NetworkOnline()

	// Deleted and left alike leave the user's list: conversationLeft, then conversationRemoved.
	sids := func(rs []recorded) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.args[0].(*core.Conversation).Sid())
		}
		return out
	}
	gone := []string{deleted.Sid(), leftBehind.Sid()}
	assert.ElementsMatch(t, gone, sids(seen.waitFor(t, core.EventConversationRemoved, 2)))
	assert.ElementsMatch(t, gone, sids(seen.waitFor(t, core.EventConversationLeft, 2)))
	added := seen.waitFor(t, core.EventConversationAdded, 1)[0].args[0].(*core.Conversation)
	assert.Equal(t, "new", added.FriendlyName())
	waitFor(t, "the rename", func() bool {
		for _, e := range seen.named(core.EventConversationUpdated) {
			u := e.args[0].(core.ConversationUpdate)
			if u.Conversation.Sid() == renamed.Sid() && slices.Contains(u.UpdateReasons, wire.ReasonFriendlyName) {
				return u.Conversation.FriendlyName() == "renamed twice"
			}
		}
		return false
	})
	page, err := alice.GetSubscribedConversations(ctx)
	require.NoError(t, err)
	assert.Len(t, page.Items, 2, "renamed and new")
}

// eventDroppingConn hides the server's event frames from the client while drop is set, as if
// they were still in flight when the connection died.
type eventDroppingConn struct {
	core.Conn
	drop *atomic.Bool
}

func (c *eventDroppingConn) Read(ctx context.Context) ([]byte, error) {
	for {
		b, err := c.Conn.Read(ctx)
		if err != nil || !c.drop.Load() || !strings.Contains(string(b), `"type":"event"`) {
			return b, err
		}
	}
}

// A send's reply moves the conversation's lastMessage before the messageAdded events up to
// it are announced. A resync must replay from what was announced, not from lastMessage, or
// those messages are never announced (found by TestCrashSafety in tools/convod).
func TestResyncReplaysMessagesWhoseEventsWereLostAfterOwnSendReply(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Retention: 1})
	ctx := testCtx(t)
	var d dialer
	var drop atomic.Bool
	alice := newClient(t, env, "alice", nil)
	bobClient := core.New(env.Token("bob", time.Hour), &core.Options{
		BackoffMin: 20 * time.Millisecond, BackoffMax: 200 * time.Millisecond, Logf: t.Logf,
		Dial: func(ctx context.Context, url string) (core.Conn, error) {
			c, err := d.dial(ctx, url)
			if err != nil {
				return nil, err
			}
			return &eventDroppingConn{Conn: c, drop: &drop}, nil
		},
	})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = bobClient.Shutdown(ctx)
	})
	require.NoError(t, bobClient.WaitInitialized(ctx))
	bobSaw := messageLog(bobClient)
	a, b := chatRoom(t, alice, bobClient)
	time.Sleep(100 * time.Millisecond) // bob processes the join events

	drop.Store(true)
	_, err := a.SendMessage(ctx, "from alice", nil)
	require.NoError(t, err)
	index, err := b.SendMessage(ctx, "from bob", nil)
	require.NoError(t, err)
	require.EqualValues(t, 1, index)
	require.EqualValues(t, 1, b.LastMessage().Index, "the reply moved lastMessage")
	// The events bob missed are beyond the retention of 1: the reconnect resynchronises.
	d.cut()
	drop.Store(false)
	waitFor(t, "bob to catch up", func() bool { return len(bobSaw.snapshot()) >= 2 })
	time.Sleep(100 * time.Millisecond) // a duplicate would show up here
	assert.Equal(t, []string{"from alice", "from bob"}, bobSaw.snapshot())
}
