//go:build !js

package core_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/convo-sdk/convo/core"
	"github.com/convo-sdk/convo/server/servertest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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
