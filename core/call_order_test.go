//go:build !js

package core_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/convo-sdk/convo/core"
	"github.com/convo-sdk/convo/server/servertest"
	"github.com/convo-sdk/convo/wire"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// orderLog is one ordered log of what a client's listeners heard and when its calls
// returned, with the releases of held events kept back until the test lets them go.
type orderLog struct {
	events
	held     sync.Mutex
	releases []func()
}

// releaseAll lets held events go, as the JS event loop does once a promise's reactions ran.
func (l *orderLog) releaseAll() {
	l.held.Lock()
	rs := l.releases
	l.releases = nil
	l.held.Unlock()
	for _, r := range rs {
		r()
	}
}

// orderedClient is a client whose held events wait for log.releaseAll.
func orderedClient(t *testing.T, env *servertest.Env, identity string) (*core.Client, *orderLog) {
	log := &orderLog{}
	c := startClient(t, env, identity, &core.Options{Logf: t.Logf, AfterResult: func(release func()) {
		log.held.Lock()
		log.releases = append(log.releases, release)
		log.held.Unlock()
	}})
	for _, name := range []string{core.EventConversationAdded.Name(), core.EventConversationJoined.Name(), core.EventConversationLeft.Name(),
		core.EventConversationRemoved.Name(), core.EventConversationUpdated.Name(), core.EventMessageAdded.Name(), core.EventMessageUpdated.Name(),
		core.EventMessageRemoved.Name(), core.EventParticipantJoined.Name(), core.EventParticipantLeft.Name(), core.EventParticipantUpdated.Name()} {
		c.Emitter().On(name, func(...any) { log.add(name) })
	}
	return c, log
}

// settle waits until the log holds want, then a little longer, and returns what it holds.
func (l *orderLog) settle(t *testing.T, want []string) []string {
	t.Helper()
	var got []string
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		got = append(got, l.take()...)
		if len(got) >= len(want) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	return append(got, l.take()...)
}

func TestCallsReturnBeforeTheEventsTheyCause(t *testing.T) {
	env := servertest.Start(t)
	ctx := testCtx(t)
	alice, log := orderedClient(t, env, "alice")
	bob := newClient(t, env, "bob", nil)

	// Each step: make the call, note its return, hold for a moment (nothing may be heard),
	// then release and expect exactly these events after it.
	step := func(name string, call func() error, events ...string) {
		t.Helper()
		require.NoError(t, call(), name)
		log.add("returned " + name)
		time.Sleep(50 * time.Millisecond)
		assert.Equal(t, []string{"returned " + name}, log.take(), "%s: nothing is heard before the caller has the result", name)
		log.releaseAll()
		assert.Equal(t, events, log.settle(t, events), name)
	}

	var conv *core.Conversation
	created := func() error {
		var err error
		conv, err = alice.CreateConversation(ctx, core.CreateConversationOptions{FriendlyName: "order"})
		return err
	}
	require.NoError(t, created())
	log.add("returned create")
	assert.Equal(t, []string{core.EventConversationAdded.Name(), "returned create"}, log.settle(t, []string{"", ""}),
		"createConversation announces the conversation before it returns")

	step("join", func() error { return conv.Join(ctx) }, core.EventConversationJoined.Name())
	step("add", func() error { return conv.Add(ctx, "bob", nil) }, core.EventParticipantJoined.Name())
	name := "renamed"
	step("rename", func() error { return conv.Update(ctx, core.UpdateConversationOptions{FriendlyName: &name}) }, core.EventConversationUpdated.Name())
	require.NoError(t, conv.Update(ctx, core.UpdateConversationOptions{FriendlyName: &name}))
	log.releaseAll()
	assert.Empty(t, log.settle(t, nil), "renaming to the same name changes nothing")

	var index int64
	step("send", func() (err error) { index, err = conv.SendMessage(ctx, "hello", nil); return err },
		core.EventMessageAdded.Name(), core.EventConversationUpdated.Name())
	page, err := conv.GetMessages(ctx, 1, nil, "")
	require.NoError(t, err)
	msg := page.Items[0]
	assert.Equal(t, index, msg.Index())
	step("edit", func() error { return msg.UpdateBody(ctx, "hello again") }, core.EventMessageUpdated.Name())
	step("attributes", func() error { return msg.UpdateAttributes(ctx, wire.RawJSON(`{"a":1}`)) }, core.EventMessageUpdated.Name())
	step("read", func() error { _, err := conv.SetReadHorizon(ctx, core.ReadAll, nil); return err },
		core.EventConversationUpdated.Name(), core.EventParticipantUpdated.Name())
	step("remove message", func() error { return msg.Remove(ctx) }, core.EventMessageRemoved.Name())
	step("remove bob", func() error { return conv.RemoveParticipant(ctx, "bob") }, core.EventParticipantLeft.Name())
	step("leave", func() error { return conv.Leave(ctx) }, core.EventConversationLeft.Name(), core.EventConversationRemoved.Name())
	require.NoError(t, conv.Leave(ctx), "leaving again does nothing")
	log.releaseAll()
	assert.Empty(t, log.settle(t, nil))
	_ = bob
}

func TestLookupsAnnounceConversationsTheClientDidNotHold(t *testing.T) {
	env := servertest.Start(t)
	ctx := testCtx(t)
	alice := newClient(t, env, "alice", nil)
	conv, err := alice.CreateConversation(ctx, core.CreateConversationOptions{FriendlyName: "peek me"})
	require.NoError(t, err)
	require.NoError(t, conv.Join(ctx))

	bob, log := orderedClient(t, env, "bob")
	peeked, err := bob.GetConversationBySid(ctx, conv.Sid())
	require.NoError(t, err)
	log.add("returned")
	assert.Equal(t, []string{core.EventConversationAdded.Name(), "returned"}, log.take(),
		"announced before the lookup returns, and not joined")
	again, err := bob.PeekConversationBySid(ctx, conv.Sid())
	require.NoError(t, err)
	assert.Same(t, peeked, again)
	assert.Empty(t, log.take(), "a conversation already held is not announced again")
}

func TestALookupAfterLeavingWaitsForTheLeaveAndBringsANewObject(t *testing.T) {
	env := servertest.Start(t)
	ctx := testCtx(t)
	alice, log := orderedClient(t, env, "alice")
	conv, err := alice.CreateConversation(ctx, core.CreateConversationOptions{FriendlyName: "gone"})
	require.NoError(t, err)
	require.NoError(t, conv.Join(ctx))
	log.releaseAll()
	log.settle(t, []string{core.EventConversationAdded.Name(), core.EventConversationJoined.Name()})

	require.NoError(t, conv.Leave(ctx)) // its events stay held until releaseAll
	got := make(chan *core.Conversation, 1)
	go func() {
		again, err := alice.GetConversationBySid(ctx, conv.Sid())
		assert.NoError(t, err)
		got <- again
	}()
	select {
	case <-got:
		t.Fatal("the lookup returned before the leave's events were heard")
	case <-time.After(100 * time.Millisecond):
	}
	log.releaseAll()
	again := <-got
	want := []string{core.EventConversationLeft.Name(), core.EventConversationRemoved.Name(), core.EventConversationAdded.Name()}
	assert.Equal(t, want, log.settle(t, want), "left, removed, then the peeked conversation is announced")
	assert.NotSame(t, conv, again)
	assert.Equal(t, core.StatusNotParticipating, again.Status())

	// Joining through the old object makes the server add her again; the old object stays left.
	require.NoError(t, conv.Join(ctx))
	log.releaseAll()
	log.settle(t, []string{core.EventConversationJoined.Name()})
	assert.Equal(t, core.StatusNotParticipating, conv.Status(), "a left object stays left")
	assert.Equal(t, core.StatusJoined, again.Status())
}

func TestALookupWaitingBehindAHoldEndsWithShutdown(t *testing.T) {
	env := servertest.Start(t)
	ctx := testCtx(t)
	alice := newClient(t, env, "alice", nil)
	conv, err := alice.CreateConversation(ctx, core.CreateConversationOptions{FriendlyName: "held"})
	require.NoError(t, err)
	require.NoError(t, conv.Join(ctx))

	held := make(chan func(), 1)
	bob := startClient(t, env, "bob", &core.Options{Logf: t.Logf, AfterResult: func(release func()) { held <- release }})
	_, err = bob.CreateConversation(ctx, core.CreateConversationOptions{FriendlyName: "mine"})
	require.NoError(t, err)
	mine, err := bob.GetConversationBySid(ctx, conv.Sid())
	require.NoError(t, err)
	require.NoError(t, mine.Join(ctx)) // holds bob's queue: its release is never called
	<-held
	done := make(chan error, 1)
	go func() {
		_, err := bob.PeekConversationBySid(context.Background(), conv.Sid())
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	require.NoError(t, bob.Shutdown(ctx))
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("a lookup waiting for the held queue outlived Shutdown")
	}
}
