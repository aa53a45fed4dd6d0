//go:build !js

package core_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/convo-sdk/convo/core"
	"github.com/convo-sdk/convo/server/servertest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func outboxEntries(t *testing.T, st core.LocalStore) []string {
	t.Helper()
	var keys []string
	require.NoError(t, st.Scan("outbox", func(k string, _ []byte) error { keys = append(keys, k); return nil }))
	return keys
}

// Sends made offline are still sent after the client is shut down and another one opens the
// same store: once each, in order, and the store's outbox is empty afterwards.
func TestOfflineSendsSurviveARestart(t *testing.T) {
	env := servertest.Start(t)
	dir := t.TempDir()
	scope := core.StoreScope{Server: env.URL, Identity: "alice"}
	st, err := core.OpenDiskStore(dir, scope, t.Logf)
	require.NoError(t, err)

	var d dialer
	alice := startClient(t, env, "alice", &core.Options{Dial: d.dial, Store: st, Logf: t.Logf,
		BackoffMin: 20 * time.Millisecond, BackoffMax: 200 * time.Millisecond})
	bob := newClient(t, env, "bob", nil)
	bobSaw := messageLog(bob)
	a, _ := chatRoom(t, alice, bob)

	d.setRefuse(true)
	d.cut()
	waitFor(t, "alice offline", func() bool { return alice.ConnectionState() == core.StateConnecting })
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := a.SendMessage(context.Background(), fmt.Sprintf("typed offline %d", i), nil)
			assert.Error(t, err, "the first client shuts down before it could send")
		}()
		time.Sleep(20 * time.Millisecond) // fixes the order in which they were made
	}
	waitFor(t, "three stored sends", func() bool { return len(outboxEntries(t, st)) == 3 })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, alice.Shutdown(ctx))
	wg.Wait()
	require.NoError(t, st.Close())
	assert.Empty(t, bobSaw.snapshot())

	// The page comes back, online, on the same store.
	st, err = core.OpenDiskStore(dir, scope, t.Logf)
	require.NoError(t, err)
	defer st.Close()
	again := startClient(t, env, "alice", &core.Options{Store: st, Logf: t.Logf})
	var own recorder
	own.watch(again, core.EventMessageAdded)
	waitFor(t, "bob to get them", func() bool { return len(bobSaw.snapshot()) == 3 })
	assert.Equal(t, []string{"typed offline 0", "typed offline 1", "typed offline 2"}, bobSaw.snapshot())
	own.waitFor(t, core.EventMessageAdded, 3) // the sender learns the outcome as messageAdded
	waitFor(t, "the stored outbox to empty", func() bool { return len(outboxEntries(t, st)) == 0 })

	// A third start on the same store sends nothing again.
	require.NoError(t, again.Shutdown(ctx))
	third := startClient(t, env, "alice", &core.Options{Store: st, Logf: t.Logf})
	_, err = third.GetSubscribedConversations(testCtx(t))
	require.NoError(t, err)
	time.Sleep(200 * time.Millisecond)
	assert.Len(t, bobSaw.snapshot(), 3)
}
