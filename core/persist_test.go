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

// storedClient is a client of identity on the disk store in dir, dialing through d; it is
// shut down (keeping the store) when the test ends. It does not wait for initialisation.
func storedClient(t *testing.T, env *servertest.Env, identity, dir string, d *dialer) (*core.Client, core.LocalStore) {
	t.Helper()
	st, err := core.OpenDiskStore(dir, core.StoreScope{Server: env.URL, Identity: identity}, t.Logf)
	require.NoError(t, err)
	c := core.New(env.Token(identity, time.Hour), &core.Options{Dial: d.dial, Store: st, Logf: t.Logf,
		BackoffMin: 20 * time.Millisecond, BackoffMax: 100 * time.Millisecond, DeferStart: true})
	t.Cleanup(func() { shutDownAndClose(t, c, st) })
	return c, st
}

// warnedClient is a client of identity on the disk store in dir that keeps what it logs.
func warnedClient(t *testing.T, env *servertest.Env, identity, dir string) (*core.Client, core.LocalStore, *events) {
	t.Helper()
	st, err := core.OpenDiskStore(dir, core.StoreScope{Server: env.URL, Identity: identity}, t.Logf)
	require.NoError(t, err)
	var warnings events
	c := core.New(env.Token(identity, time.Hour), &core.Options{Store: st, Logf: func(f string, args ...any) {
		warnings.add(fmt.Sprintf(f, args...))
	}})
	t.Cleanup(func() { shutDownAndClose(t, c, st) })
	return c, st, &warnings
}

func shutDownAndClose(t *testing.T, c *core.Client, st core.LocalStore) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = c.Shutdown(ctx)
	_ = st.Close()
}

// A client started on a store an earlier client filled is initialised from it while the
// network is down: the conversation, its participants and messages, the followed user; reads
// answer from it, a call that needs the server fails at once, and a send waits. When the
// network returns it resumes the stream: only what was sent meanwhile is announced, and the
// queued send is delivered once.
func TestWarmStartFromTheStoreWhileOffline(t *testing.T) {
	env := servertest.Start(t)
	dir := t.TempDir()
	ctx := testCtx(t)
	var d dialer
	alice, st := storedClient(t, env, "alice", dir, &d)
	alice.Start()
	require.NoError(t, alice.WaitInitialized(ctx))
	bob := newClient(t, env, "bob", nil)
	bobSaw := messageLog(bob)
	a, b := chatRoom(t, alice, bob)
	for _, body := range []string{"one", "two", "three"} {
		_, err := b.SendMessage(ctx, body, nil)
		require.NoError(t, err)
	}
	waitFor(t, "alice to hold three messages", func() bool {
		p, err := a.GetMessages(ctx, 10, nil, "")
		return err == nil && len(p.Items) == 3
	})
	_, err := alice.GetUser(ctx, "bob")
	require.NoError(t, err)
	_, err = a.GetParticipants(ctx)
	require.NoError(t, err)
	shutDownAndClose(t, alice, st)

	// The page comes back with the network down.
	var down dialer
	down.setRefuse(true)
	again, st2 := storedClient(t, env, "alice", dir, &down)
	var rec recorder
	rec.watch(again, core.EventInitialized, core.EventConversationAdded, core.EventConversationJoined, core.EventMessageAdded, core.EventUserSubscribed)
	again.Start()
	require.NoError(t, again.WaitInitialized(ctx))
	assert.NotEqual(t, core.StateConnected, again.ConnectionState(), "initialised from the store, not the server")
	waitFor(t, "the first attempt to fail", func() bool {
		_, err := again.CreateConversation(ctx, core.CreateConversationOptions{})
		return wire.CodeOf(err) == core.CodeClientOffline
	})
	started := time.Now()
	_, err = again.CreateConversation(ctx, core.CreateConversationOptions{FriendlyName: "x"})
	assert.Equal(t, core.CodeClientOffline, wire.CodeOf(err), "%v", err)
	assert.Less(t, time.Since(started), time.Second, "an offline call fails at once")

	conv, err := again.GetConversationBySid(ctx, a.Sid())
	require.NoError(t, err)
	assert.Equal(t, "room", conv.FriendlyName())
	page, err := conv.GetMessages(ctx, 10, nil, "")
	require.NoError(t, err)
	assert.Equal(t, []string{"one", "two", "three"}, bodies(page.Items))
	ps, err := conv.GetParticipants(ctx)
	require.NoError(t, err)
	assert.Len(t, ps, 2)
	u, err := again.GetUser(ctx, "bob")
	require.NoError(t, err)
	assert.Equal(t, "bob", u.Identity())
	subs, err := again.GetSubscribedConversations(ctx)
	require.NoError(t, err)
	assert.Len(t, subs.Items, 1)
	assert.Empty(t, rec.named(core.EventMessageAdded), "stored messages are history")
	assert.Equal(t, []string{"userSubscribed", "userSubscribed", "initialized", "conversationAdded", "conversationJoined"}, rec.names())

	// Meanwhile bob writes; alice types offline.
	_, err = b.SendMessage(ctx, "while away", nil)
	require.NoError(t, err)
	sent := make(chan error, 1)
	go func() { _, err := conv.SendMessage(context.Background(), "typed offline", nil); sent <- err }()
	time.Sleep(100 * time.Millisecond)

	down.setRefuse(false)
	again.NetworkOnline()
	require.NoError(t, <-sent)
	msgs := rec.waitFor(t, core.EventMessageAdded, 2)
	var got []string
	for _, m := range msgs {
		got = append(got, *m.args[0].(*core.Message).Body())
	}
	assert.Equal(t, []string{"while away", "typed offline"}, got)
	waitFor(t, "bob to get it", func() bool { return len(bobSaw.snapshot()) == 5 })
	time.Sleep(200 * time.Millisecond)
	assert.Len(t, rec.named(core.EventMessageAdded), 2, "nothing announced twice")
	assert.Equal(t, []string{"one", "two", "three", "while away", "typed offline"}, bobSaw.snapshot())
	_ = st2
}

// A store whose stream position the server can no longer replay (its event log was pruned
// past it) still starts the client at once; on connecting the client resynchronises: it
// announces the messages and changes it missed, once, and the store then holds the
// corrected state, which a third start shows offline.
func TestWarmStartAfterThePrunedLogResyncsAndCorrectsTheStore(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Retention: 2})
	dir := t.TempDir()
	ctx := testCtx(t)
	var d dialer
	alice, st := storedClient(t, env, "alice", dir, &d)
	alice.Start()
	require.NoError(t, alice.WaitInitialized(ctx))
	bob := newClient(t, env, "bob", nil)
	a, b := chatRoom(t, alice, bob)
	_, err := b.SendMessage(ctx, "before", nil)
	require.NoError(t, err)
	waitFor(t, "alice to hold it", func() bool { return a.LastMessage() != nil && a.LastMessage().Index == 0 })
	shutDownAndClose(t, alice, st)

	var missed []string
	for _, body := range []string{"m1", "m2", "m3", "m4", "m5"} {
		_, err := b.SendMessage(ctx, body, nil)
		require.NoError(t, err)
		missed = append(missed, body)
	}
	renamed := "renamed"
	require.NoError(t, b.Update(ctx, core.UpdateConversationOptions{FriendlyName: &renamed}))

	again, st2 := storedClient(t, env, "alice", dir, &dialer{})
	saw := messageLog(again)
	var rec recorder
	rec.watch(again, core.EventConversationUpdated)
	again.Start()
	require.NoError(t, again.WaitInitialized(ctx))
	waitFor(t, "the missed messages", func() bool { return len(saw.snapshot()) >= len(missed) })
	time.Sleep(200 * time.Millisecond)
	assert.Equal(t, missed, saw.snapshot(), "exactly the missed messages, once, in order")
	var sawRename bool
	for _, e := range rec.named(core.EventConversationUpdated) {
		u := e.args[0].(core.ConversationUpdate)
		for _, r := range u.UpdateReasons {
			sawRename = sawRename || r == wire.ReasonFriendlyName
		}
	}
	assert.True(t, sawRename, "the rename made meanwhile is a conversationUpdated")
	shutDownAndClose(t, again, st2)

	var down dialer
	down.setRefuse(true)
	third, _ := storedClient(t, env, "alice", dir, &down)
	third.Start()
	require.NoError(t, third.WaitInitialized(ctx))
	waitFor(t, "offline", func() bool {
		_, err := third.CreateConversation(ctx, core.CreateConversationOptions{})
		return wire.CodeOf(err) == core.CodeClientOffline
	})
	conv, err := third.GetConversationBySid(ctx, a.Sid())
	require.NoError(t, err)
	assert.Equal(t, "renamed", conv.FriendlyName())
	page, err := conv.GetMessages(ctx, 10, nil, "")
	require.NoError(t, err)
	assert.Equal(t, append([]string{"before"}, missed...), bodies(page.Items))
}

// A store whose state cannot be decoded is discarded with a warning: the client starts from
// the server, and the next start reads what this one wrote.
func TestAnUnreadableStoredStateIsDiscarded(t *testing.T) {
	env := servertest.Start(t)
	dir := t.TempDir()
	ctx := testCtx(t)
	alice, st := storedClient(t, env, "alice", dir, &dialer{})
	alice.Start()
	require.NoError(t, alice.WaitInitialized(ctx))
	bob := newClient(t, env, "bob", nil)
	a, _ := chatRoom(t, alice, bob)
	shutDownAndClose(t, alice, st)

	st, err := core.OpenDiskStore(dir, core.StoreScope{Server: env.URL, Identity: "alice"}, t.Logf)
	require.NoError(t, err)
	require.NoError(t, st.Apply([]core.StoreChange{{Bucket: "conv", Key: a.Sid(), Value: []byte("7\n{not json")}}))
	require.NoError(t, st.Close())

	again, st, warnings := warnedClient(t, env, "alice", dir)
	require.NoError(t, again.WaitInitialized(ctx))
	assert.Equal(t, core.StateConnected, again.ConnectionState(), "initialised by the server")
	subs, err := again.GetSubscribedConversations(ctx)
	require.NoError(t, err)
	require.Len(t, subs.Items, 1)
	assert.Contains(t, strings.Join(warnings.snapshot(), "\n"), "discarded")
	shutDownAndClose(t, again, st)

	var down dialer
	down.setRefuse(true)
	third, _ := storedClient(t, env, "alice", dir, &down)
	third.Start()
	require.NoError(t, third.WaitInitialized(ctx))
	subs, err = third.GetSubscribedConversations(ctx)
	require.NoError(t, err)
	assert.Len(t, subs.Items, 1)
	assert.NotEqual(t, core.StateConnected, third.ConnectionState())
}

// A state written by a newer convo is left alone: the client starts from the server and
// writes nothing over it.
func TestAStateOfANewerFormatIsLeftAlone(t *testing.T) {
	env := servertest.Start(t)
	dir := t.TempDir()
	ctx := testCtx(t)
	st, err := core.OpenDiskStore(dir, core.StoreScope{Server: env.URL, Identity: "alice"}, t.Logf)
	require.NoError(t, err)
	require.NoError(t, st.Apply([]core.StoreChange{
		{Bucket: "state", Key: "format", Value: []byte("99")},
		{Bucket: "state", Key: "pos", Value: []byte("future\n7")},
	}))
	require.NoError(t, st.Close())

	alice, st, warnings := warnedClient(t, env, "alice", dir)
	require.NoError(t, alice.WaitInitialized(ctx))
	assert.Equal(t, core.StateConnected, alice.ConnectionState(), "initialised by the server")
	_, err = alice.CreateConversation(ctx, core.CreateConversationOptions{FriendlyName: "new"})
	require.NoError(t, err)
	time.Sleep(2 * core.PersistDelay)
	shutDownAndClose(t, alice, st)
	assert.Contains(t, strings.Join(warnings.snapshot(), "\n"), "newer convo")

	st, err = core.OpenDiskStore(dir, core.StoreScope{Server: env.URL, Identity: "alice"}, t.Logf)
	require.NoError(t, err)
	defer st.Close()
	state := map[string]string{}
	require.NoError(t, st.Scan("state", func(k string, v []byte) error { state[k] = string(v); return nil }))
	assert.Equal(t, map[string]string{"format": "99", "pos": "future\n7"}, state, "untouched")
}

// countingStore is the disk store with a count of the batches written to it.
type countingStore struct {
	core.LocalStore
	mu      sync.Mutex
	batches int
}

func (s *countingStore) Apply(batch []core.StoreChange) error {
	s.mu.Lock()
	s.batches++
	s.mu.Unlock()
	return s.LocalStore.Apply(batch)
}

// The store holds the window the memory cache keeps, no more: older messages leave it as new
// ones come, a removed message leaves it, and a burst is written in a few batches.
func TestTheStoreHoldsTheCachedWindow(t *testing.T) {
	env := servertest.Start(t)
	ctx := testCtx(t)
	disk, err := core.OpenDiskStore(t.TempDir(), core.StoreScope{Server: env.URL, Identity: "alice"}, t.Logf)
	require.NoError(t, err)
	st := &countingStore{LocalStore: disk}
	alice := startClient(t, env, "alice", &core.Options{Store: st, Logf: t.Logf})
	bob := newClient(t, env, "bob", nil)
	a, b := chatRoom(t, alice, bob)
	stored := func() []string {
		var keys []string
		require.NoError(t, st.Scan("msg", func(k string, _ []byte) error { keys = append(keys, k); return nil }))
		return keys
	}
	n := core.MessageCacheSize + 20
	for i := range n {
		_, err := b.SendMessage(ctx, fmt.Sprintf("m%d", i), nil)
		require.NoError(t, err)
	}
	waitFor(t, "alice to have them all", func() bool { l := a.LastMessage(); return l != nil && l.Index == int64(n-1) })
	waitFor(t, "the store to hold the window", func() bool {
		keys := stored()
		return len(keys) == core.MessageCacheSize && keys[0] == a.Sid()+"/00000000000000000020"
	})
	st.mu.Lock()
	assert.Less(t, st.batches, n/2, "a burst is written in few batches")
	st.mu.Unlock()

	page, err := b.GetMessages(ctx, 1, nil, "")
	require.NoError(t, err)
	require.NoError(t, page.Items[0].Remove(ctx)) // by its author
	waitFor(t, "the removed message to leave the store", func() bool {
		keys := stored()
		return len(keys) == core.MessageCacheSize-1 && keys[len(keys)-1] != fmt.Sprintf("%s/%020d", a.Sid(), n-1)
	})
}
