//go:build !js

package core_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/convo-sdk/convo/core"
	"github.com/convo-sdk/convo/server/servertest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A message with a file sent while offline is kept with its file across a restart; when the
// network returns the file is uploaded and the message delivered once, carrying it, and the
// store keeps no file afterwards.
func TestAnOfflineSendWithAFileSurvivesARestart(t *testing.T) {
	env := servertest.Start(t)
	dir := t.TempDir()
	ctx := testCtx(t)
	var d dialer
	alice, st := storedClient(t, env, "alice", dir, &d)
	alice.Start()
	require.NoError(t, alice.WaitInitialized(ctx))
	bob := newClient(t, env, "bob", nil)
	var mu sync.Mutex
	var got []*core.Message
	bob.OnMessageAdded(func(m *core.Message) { mu.Lock(); got = append(got, m); mu.Unlock() })
	seen := func() []*core.Message { mu.Lock(); defer mu.Unlock(); return append([]*core.Message(nil), got...) }
	a, _ := chatRoom(t, alice, bob)

	d.setRefuse(true)
	d.cut()
	waitFor(t, "alice offline", func() bool {
		_, err := alice.CreateConversation(ctx, core.CreateConversationOptions{})
		return err != nil && alice.ConnectionState() != core.StateConnected
	})
	sendCtx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := a.PrepareMessage().SetBody("see attached").
			AddMedia(core.MediaUpload{ContentType: "text/plain", Filename: "notes.txt", Data: []byte("the file's bytes")}).
			BuildAndSend(sendCtx, nil)
		done <- err
	}()
	waitFor(t, "the send stored with its file", func() bool {
		n := 0
		st.Scan("outmedia", func(string, []byte) error { n++; return nil })
		return n == 1 && len(outboxEntries(t, st)) == 1
	})
	pending := alice.PendingMessages()
	require.Len(t, pending, 1)
	assert.Equal(t, []core.PendingFile{{ContentType: "text/plain", Filename: "notes.txt", Category: "media", Size: 16}}, pending[0].Files)
	cancel()
	<-done
	// The send was withdrawn with its context: nothing stored. Make it again, and close
	// the page while it waits.
	go func() {
		_, err := a.PrepareMessage().SetBody("see attached").
			AddMedia(core.MediaUpload{ContentType: "text/plain", Filename: "notes.txt", Data: []byte("the file's bytes")}).
			BuildAndSend(context.Background(), nil)
		done <- err
	}()
	waitFor(t, "the send stored again", func() bool { return len(outboxEntries(t, st)) == 1 })
	shutDownAndClose(t, alice, st)
	<-done
	assert.Empty(t, seen())

	again, st2 := storedClient(t, env, "alice", dir, &dialer{})
	again.Start()
	require.NoError(t, again.WaitInitialized(ctx))
	waitFor(t, "bob to get it", func() bool { return len(seen()) == 1 })
	time.Sleep(200 * time.Millisecond)
	got = seen()
	require.Len(t, got, 1)
	assert.Equal(t, "see attached", *got[0].Body())
	media := got[0].AttachedMedia()
	require.Len(t, media, 1)
	assert.Equal(t, "notes.txt", media[0].Filename())
	assert.Equal(t, int64(16), media[0].Size())
	waitFor(t, "the store to let go of it", func() bool {
		n := 0
		st2.Scan("outmedia", func(string, []byte) error { n++; return nil })
		return n == 0 && len(outboxEntries(t, st2)) == 0
	})
	assert.Empty(t, again.PendingMessages())
}
