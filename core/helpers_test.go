//go:build !js

// These tests start a real server in-process, so they run natively only.

package core_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/convo-sdk/convo/core"
	"github.com/convo-sdk/convo/server/auth"
	"github.com/convo-sdk/convo/server/servertest"
	"github.com/convo-sdk/convo/wire"
	"github.com/stretchr/testify/assert"
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

func TestClientConnectsAndInitialises(t *testing.T) {
	env := servertest.Start(t)
	var states events
	c := core.New(env.Token("alice", time.Hour), &core.Options{DeferStart: true, Logf: t.Logf})
	c.OnConnectionStateChanged(func(s core.ConnectionState) { states.add(string(s)) })
	initialised := make(chan struct{})
	c.Once(core.EventInitialized, func(...any) { close(initialised) })
	assert.Equal(t, core.StateUnknown, c.ConnectionState())
	c.Start()
	select {
	case <-initialised:
	case <-time.After(10 * time.Second):
		t.Fatal("no initialized event")
	}
	assert.Equal(t, core.StateConnected, c.ConnectionState())
	assert.Equal(t, "alice", c.User().Identity())
	require.NoError(t, c.Shutdown(testCtx(t)))
	assert.Equal(t, []string{"connecting", "connected", "disconnecting", "disconnected"}, states.snapshot())
	// Replay still tells a late listener that the client was initialised.
	replayed := false
	c.OnWithReplay(core.EventInitialized, func(...any) { replayed = true })
	assert.True(t, replayed)
}

func TestTwoClientsChatAndPageHistory(t *testing.T) {
	env := servertest.Start(t)
	ctx := testCtx(t)
	alice, bob := newClient(t, env, "alice", nil), newClient(t, env, "bob", nil)
	aliceSaw, bobSaw := messageLog(alice), messageLog(bob)
	a, b := chatRoom(t, alice, bob)
	var convSaw events
	b.OnMessageAdded(func(m *core.Message) { convSaw.add(*m.Body()) })

	for i := range 5 {
		sender := a
		if i%2 == 1 {
			sender = b
		}
		index, err := sender.SendMessage(ctx, fmt.Sprintf("m%d", i), nil)
		require.NoError(t, err)
		assert.EqualValues(t, i, index)
	}
	want := []string{"m0", "m1", "m2", "m3", "m4"}
	waitFor(t, "both clients to see 5 messages", func() bool {
		return len(aliceSaw.snapshot()) == 5 && len(bobSaw.snapshot()) == 5 && len(convSaw.snapshot()) == 5
	})
	assert.Equal(t, want, aliceSaw.snapshot())
	assert.Equal(t, want, bobSaw.snapshot())
	assert.Equal(t, want, convSaw.snapshot())

	// Pages are ascending; prevPage goes to older messages; objects are shared.
	page, err := b.GetMessages(ctx, 2, nil, "")
	require.NoError(t, err)
	assert.Equal(t, []string{"m3", "m4"}, bodies(page.Items))
	assert.True(t, page.HasPrevPage)
	assert.False(t, page.HasNextPage)
	older, err := page.PrevPage(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"m1", "m2"}, bodies(older.Items))
	oldest, err := older.PrevPage(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"m0"}, bodies(oldest.Items))
	assert.False(t, oldest.HasPrevPage)
	newer, err := oldest.NextPage(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"m1", "m2"}, bodies(newer.Items))
	assert.Same(t, older.Items[0], newer.Items[0], "one sid, one object")
	assert.Equal(t, "alice", older.Items[1].Author())
	assert.Same(t, b, older.Items[0].Conversation())

	again, err := bob.GetConversationBySid(ctx, a.Sid())
	require.NoError(t, err)
	assert.Same(t, b, again)
	subscribed, err := bob.GetSubscribedConversations(ctx)
	require.NoError(t, err)
	require.Len(t, subscribed.Items, 1)
	assert.Same(t, b, subscribed.Items[0])
	assert.EqualValues(t, 4, b.LastMessage().Index)

	parts, err := a.GetParticipants(ctx)
	require.NoError(t, err)
	ids := []string{parts[0].Identity(), parts[1].Identity()}
	assert.ElementsMatch(t, []string{"alice", "bob"}, ids)
}

func TestErrorsCarryWireCodes(t *testing.T) {
	env := servertest.Start(t)
	ctx := testCtx(t)
	alice, bob := newClient(t, env, "alice", nil), newClient(t, env, "bob", nil)
	conv, err := alice.CreateConversation(ctx, core.CreateConversationOptions{FriendlyName: "private"})
	require.NoError(t, err)
	require.NoError(t, conv.Join(ctx))

	// A conversation bob is not in is peeked, as the vendor's getConversationBySid falls back
	// to; he cannot write to it.
	peeked, err := bob.GetConversationBySid(ctx, conv.Sid())
	require.NoError(t, err)
	assert.Equal(t, core.StatusNotParticipating, peeked.Status())
	_, err = peeked.SendMessage(ctx, "not a member", nil)
	assert.Equal(t, wire.CodeForbidden, wire.CodeOf(err), err)
	_, err = alice.GetConversationBySid(ctx, "CH00000000000000000000000000000000")
	assert.Equal(t, wire.CodeNotFound, wire.CodeOf(err), err)
	_, err = conv.SendMessage(ctx, strings.Repeat("x", wire.MaxMessageBodyBytes+1), nil)
	assert.Equal(t, wire.CodeTooLarge, wire.CodeOf(err), err)
	_, err = conv.GetMessages(ctx, 1000, nil, "")
	assert.Equal(t, core.CodeClientArgument, wire.CodeOf(err), err)
}

func TestDeniedTokenFailsInitAndCalls(t *testing.T) {
	env := servertest.Start(t)
	expired, err := auth.MintAt(env.Key, "alice", time.Now().Add(-2*time.Hour), time.Hour, env.URL)
	require.NoError(t, err)
	var failure core.InitFailure
	c := core.New(expired, &core.Options{DeferStart: true, Logf: t.Logf})
	failed := make(chan struct{})
	c.Once(core.EventInitFailed, func(args ...any) { failure = args[0].(core.InitFailure); close(failed) })
	c.Start()
	select {
	case <-failed:
	case <-time.After(10 * time.Second):
		t.Fatal("no initFailed")
	}
	assert.True(t, failure.Terminal)
	assert.Equal(t, wire.CodeTokenExpired, wire.CodeOf(failure.Err))
	assert.Equal(t, core.StateDenied, c.ConnectionState())
	_, err = c.GetSubscribedConversations(testCtx(t))
	assert.Equal(t, core.CodeClientInitFailed, wire.CodeOf(err))
	require.NoError(t, c.Shutdown(testCtx(t)))
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

func TestShutdownLeaksNoGoroutine(t *testing.T) {
	env := servertest.Start(t)
	ctx := testCtx(t)
	// Let the server's and the runtime's goroutines settle before counting.
	time.Sleep(50 * time.Millisecond)
	before := runtime.NumGoroutine()
	c := core.New(env.Token("alice", time.Hour), &core.Options{Logf: t.Logf})
	require.NoError(t, c.WaitInitialized(ctx))
	conv, err := c.CreateConversation(ctx, core.CreateConversationOptions{})
	require.NoError(t, err)
	require.NoError(t, conv.Join(ctx))
	_, err = conv.SendMessage(ctx, "hi", nil)
	require.NoError(t, err)
	require.NoError(t, c.Shutdown(ctx))
	require.NoError(t, c.Shutdown(ctx), "a second shutdown is harmless")
	waitFor(t, "goroutines to return to their count before the client", func() bool {
		return runtime.NumGoroutine() <= before
	})
	_, err = conv.SendMessage(ctx, "after", nil)
	assert.Equal(t, core.CodeClientShutdown, wire.CodeOf(err))
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
	require.NoError(t, renamed.Update(ctx, wire.UpdateConversationArgs{FriendlyName: &name}))
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
