package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/server"
	"github.com/convo-sdk/convo/server/servertest"
	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/wire"
)

// sendLog is what the senders had acknowledged, shared between them and the test.
type sendLog struct {
	mu    sync.Mutex
	acked []wire.Message
	err   error // the first failure of a sender
}

func (l *sendLog) ack(m wire.Message) {
	l.mu.Lock()
	l.acked = append(l.acked, m)
	l.mu.Unlock()
}

func (l *sendLog) fail(err error) {
	l.mu.Lock()
	if l.err == nil {
		l.err = err
	}
	l.mu.Unlock()
}

// snapshot is a copy of the acknowledged messages, and the first failure.
func (l *sendLog) snapshot() ([]wire.Message, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]wire.Message(nil), l.acked...), l.err
}

// waitFor waits until at least n messages are acknowledged, a sender fails or ctx ends.
func (l *sendLog) waitFor(ctx context.Context, n int) error {
	for {
		acked, err := l.snapshot()
		switch {
		case err != nil:
			return fmt.Errorf("a sender failed: %w", err)
		case len(acked) >= n:
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %d acknowledged messages (have %d): %w", n, len(acked), ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func TestABackupTakenUnderTrafficRestoresEveryAcknowledgedMessageAndNewEpochs(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	env := servertest.Start(t)
	t.Setenv("CONVO_URL", env.HTTPURL)
	t.Setenv("CONVO_API_KEYS", env.Key.ID+":"+env.Key.Secret)
	admin := env.Admin(t)
	var conv wire.Conversation
	admin.Do(http.MethodPost, "/conversations", map[string]any{"friendlyName": "busy"}, &conv)
	senders := []string{"s0", "s1", "s2"}
	for _, id := range append([]string{"reader"}, senders...) {
		admin.Do(http.MethodPost, "/conversations/"+conv.Sid+"/participants", map[string]any{"identity": id}, nil)
	}
	clients := make([]*servertest.Client, len(senders))
	for i, id := range senders {
		clients[i] = env.Connect(ctx, id)
	}

	log := &sendLog{}
	sendCtx, stopSending := context.WithCancel(ctx)
	defer stopSending()
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; sendCtx.Err() == nil; n++ {
				body := fmt.Sprintf("%s %d", senders[i], n)
				var m wire.Message
				err := c.Call(sendCtx, wire.OpMessageSend, wire.SendMessageArgs{ConversationSid: conv.Sid, Body: &body, IdempotencyKey: body}, &m)
				if wire.CodeOf(err).IsRetryable() && sendCtx.Err() == nil {
					// Over the conversation's write rate: again with the same key, as
					// the client's outbox does.
					select {
					case <-sendCtx.Done():
					case <-time.After(20 * time.Millisecond):
					}
					n--
					continue
				}
				if err != nil {
					if sendCtx.Err() == nil {
						log.fail(fmt.Errorf("%s: %w", senders[i], err))
					}
					return
				}
				log.ack(m)
			}
		}()
	}

	require.NoError(t, log.waitFor(ctx, 60))
	before, _ := log.snapshot() // acknowledged before the backup started
	out := filepath.Join(t.TempDir(), "backup.db")
	var res bytes.Buffer
	require.NoError(t, run([]string{"backup", "--out", out}, &res))
	assert.Contains(t, res.String(), `"bytes":`)
	atBackup, _ := log.snapshot()
	// Traffic flowed during the backup and goes on after it: the stream moves past it.
	require.NoError(t, log.waitFor(ctx, len(atBackup)+30))
	stopSending()
	wg.Wait()
	all, err := log.snapshot()
	require.NoError(t, err)
	require.Greater(t, len(all), len(before))

	reader := env.Connect(ctx, "reader")
	seen := reader.Welcome // the newest the reader saw: past the backup point
	reader.Close()

	env.RestartWith(out)
	for _, m := range before {
		var got wire.Message
		admin.Do(http.MethodGet, "/conversations/"+conv.Sid+"/messages/"+m.Sid, nil, &got)
		assert.Equal(t, *m.Body, *got.Body)
		assert.Equal(t, m.Index, got.Index)
	}
	var page wire.MessagePage
	admin.Do(http.MethodGet, "/conversations/"+conv.Sid+"/messages?pageSize=1", nil, &page)
	require.Len(t, page.Items, 1)
	require.Less(t, page.Items[0].Index, all[len(all)-1].Index, "the restored store is behind what was acknowledged later")

	// The reader saw events past the backup point: it is told to resynchronise, under a new
	// epoch, rather than resumed at an offset whose events are gone or different.
	c, err := servertest.Dial(ctx, env.URL, env.Token("reader", time.Hour), &wire.Resume{Epoch: seen.Epoch, Offset: seen.Offset})
	require.NoError(t, err)
	defer c.Close()
	assert.False(t, c.Welcome.Resumed, "a resume past the backup point is not served")
	assert.NotEqual(t, seen.Epoch, c.Welcome.Epoch, "the restored stream has a new epoch")
	assert.Less(t, c.Welcome.Offset, seen.Offset, "the restored stream is shorter")
	// A resume at the restored head's offset under the old epoch is refused too.
	c2, err := servertest.Dial(ctx, env.URL, env.Token("reader", time.Hour), &wire.Resume{Epoch: seen.Epoch, Offset: c.Welcome.Offset})
	require.NoError(t, err)
	defer c2.Close()
	assert.False(t, c2.Welcome.Resumed)

	// A second restart keeps the new epoch: a client that resynchronised resumes.
	env.Restart()
	c3, err := servertest.Dial(ctx, env.URL, env.Token("reader", time.Hour), &wire.Resume{Epoch: c.Welcome.Epoch, Offset: c.Welcome.Offset})
	require.NoError(t, err)
	defer c3.Close()
	assert.True(t, c3.Welcome.Resumed)
	assert.Equal(t, c.Welcome.Epoch, c3.Welcome.Epoch)
}

// hiddenBackup is a real store whose Backup the server cannot see, as a PostgreSQL one.
type hiddenBackup struct{ store.Store }

func TestBackupRefusals(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Configure: func(c *server.Config) { c.Store = hiddenBackup{c.Store} }})
	out := filepath.Join(t.TempDir(), "backup.db")
	err := run([]string{"backup", "--url", env.HTTPURL, "--key-id", env.Key.ID, "--secret", env.Key.Secret, "--out", out}, &bytes.Buffer{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "code 50100")
	assert.Contains(t, err.Error(), "pg_dump")
	_, serr := os.Stat(out)
	assert.True(t, errors.Is(serr, os.ErrNotExist), "no file after a refused backup")
	entries, _ := os.ReadDir(filepath.Dir(out))
	assert.Empty(t, entries, "no temporary file either")

	err = run([]string{"backup", "--url", env.HTTPURL, "--key-id", env.Key.ID, "--secret", "wrong-secret-wrong-secret", "--out", out}, &bytes.Buffer{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "code 40100")
	assert.Error(t, run([]string{"backup", "--url", env.HTTPURL, "--key-id", env.Key.ID, "--secret", env.Key.Secret}, &bytes.Buffer{}), "--out is required")
	assert.True(t, strings.Contains(usage, "backup --out FILE"))
}
