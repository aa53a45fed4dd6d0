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

func TestReadHorizonAndUnreadCounts(t *testing.T) {
	env := servertest.Start(t)
	ctx := testCtx(t)
	alice, bob := newClient(t, env, "alice", nil), newClient(t, env, "bob", nil)
	a, b := chatRoom(t, alice, bob)
	var onAlice recorder
	onAlice.watch(alice, core.EventParticipantUpdated)
	for i := range 5 {
		_, err := a.SendMessage(ctx, fmt.Sprint(i), nil)
		require.NoError(t, err)
	}
	waitFor(t, "bob's copies", func() bool { lm := b.LastMessage(); return lm != nil && lm.Index == 4 })

	unread, err := b.GetUnreadMessagesCount(ctx)
	require.NoError(t, err)
	assert.Nil(t, unread, "no horizon yet")
	assert.Nil(t, b.LastReadMessageIndex())

	two := int64(2)
	n, err := b.SetReadHorizon(ctx, core.ReadAdvance, &two)
	require.NoError(t, err)
	assert.EqualValues(t, 2, n)
	one := int64(1)
	n, err = b.SetReadHorizon(ctx, core.ReadAdvance, &one)
	require.NoError(t, err)
	assert.EqualValues(t, 2, n, "advance never moves back")
	assert.EqualValues(t, 2, *b.LastReadMessageIndex())

	// Counting flushes the batched report first, so the server agrees.
	unread, err = b.GetUnreadMessagesCount(ctx)
	require.NoError(t, err)
	require.NotNil(t, unread)
	assert.EqualValues(t, 2, *unread)
	upd := onAlice.waitFor(t, core.EventParticipantUpdated, 1)[0].args[0].(core.ParticipantUpdate)
	assert.Equal(t, "bob", upd.Participant.Identity())
	assert.Contains(t, upd.UpdateReasons, wire.ReasonLastReadMessageIndex)
	assert.EqualValues(t, 2, *upd.Participant.LastReadMessageIndex())

	n, err = b.SetReadHorizon(ctx, core.ReadAll, nil)
	require.NoError(t, err)
	assert.EqualValues(t, 0, n)
	n, err = b.SetReadHorizon(ctx, core.ReadNone, nil)
	require.NoError(t, err)
	assert.EqualValues(t, 5, n)
	count, err := b.GetMessagesCount(ctx)
	require.NoError(t, err)
	assert.EqualValues(t, 5, count)
	parts, err := b.GetParticipantsCount(ctx)
	require.NoError(t, err)
	assert.EqualValues(t, 2, parts)
}

func TestShutdownFlushesTheReadHorizon(t *testing.T) {
	env := servertest.Start(t)
	ctx := testCtx(t)
	alice, bob := newClient(t, env, "alice", nil), newClient(t, env, "bob", nil)
	a, b := chatRoom(t, alice, bob)
	for i := range 3 {
		_, err := a.SendMessage(ctx, fmt.Sprint(i), nil)
		require.NoError(t, err)
	}
	waitFor(t, "bob's copies", func() bool { lm := b.LastMessage(); return lm != nil && lm.Index == 2 })
	one := int64(1)
	_, err := b.SetReadHorizon(ctx, core.ReadSet, &one) // sent at once: the first report
	require.NoError(t, err)
	two := int64(2)
	_, err = b.SetReadHorizon(ctx, core.ReadSet, &two) // batched: within 5 s of the first
	require.NoError(t, err)
	require.NoError(t, bob.Shutdown(ctx))

	again := newClient(t, env, "bob", nil)
	conv, err := again.GetConversationBySid(ctx, a.Sid())
	require.NoError(t, err)
	require.NotNil(t, conv.LastReadMessageIndex())
	assert.EqualValues(t, 2, *conv.LastReadMessageIndex())
}

// Shutdown waits for a read report already on its way only as long as its ctx allows.
func TestShutdownKeepsToItsDeadlineWhileAReadReportIsOut(t *testing.T) {
	env := servertest.Start(t)
	var d dialer
	alice := startClient(t, env, "alice", &core.Options{Dial: d.dial, Logf: t.Logf})
	bob := newClient(t, env, "bob", nil)
	a, b := chatRoom(t, alice, bob)
	_, err := b.SendMessage(testCtx(t), "x", nil)
	require.NoError(t, err)
	waitFor(t, "alice's copy", func() bool { lm := a.LastMessage(); return lm != nil })
	var once sync.Once
	d.mu.Lock()
	d.onWrite = func(frame []byte, c core.Conn) {
		if strings.Contains(string(frame), `"op":"`+wire.OpConversationRead+`"`) {
			once.Do(func() { time.Sleep(3 * time.Second) }) // the report's reply is slow to come
		}
	}
	d.mu.Unlock()
	zero := int64(0)
	_, err = a.SetReadHorizon(testCtx(t), core.ReadSet, &zero) // its report goes out at once
	require.NoError(t, err)
	time.Sleep(200 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_ = alice.Shutdown(ctx)
	assert.Less(t, time.Since(start), 2*time.Second, "Shutdown outlived its 500 ms deadline")
}
