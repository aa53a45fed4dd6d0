//go:build !js

package core_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/core"
	"github.com/convo-sdk/convo/server"
	"github.com/convo-sdk/convo/server/servertest"
	"github.com/convo-sdk/convo/wire"
)

// sendLog records, on one client's connections, the idempotency key of every message.send
// written and the keys whose replies said "storage full".
type sendLog struct {
	mu      sync.Mutex
	keys    map[uint64]string // request id → idempotency key
	written map[string]int    // idempotency key → times written
	full    map[string]int    // idempotency key → 50301 replies
}

type sendLogConn struct {
	core.Conn
	l *sendLog
}

func (c *sendLogConn) Write(ctx context.Context, b []byte) error {
	if f, err := wire.Decode(b); err == nil && f.Op == wire.OpMessageSend {
		var a wire.SendMessageArgs
		if json.Unmarshal(f.Data, &a) == nil {
			c.l.mu.Lock()
			c.l.keys[f.ID] = a.IdempotencyKey
			c.l.written[a.IdempotencyKey]++
			c.l.mu.Unlock()
		}
	}
	return c.Conn.Write(ctx, b)
}

func (c *sendLogConn) Read(ctx context.Context) ([]byte, error) {
	b, err := c.Conn.Read(ctx)
	if err != nil {
		return b, err
	}
	if f, err := wire.Decode(b); err == nil && f.Type == wire.TypeReply && f.Error != nil && f.Error.Code == wire.CodeStorageFull {
		c.l.mu.Lock()
		if key, ok := c.l.keys[f.ID]; ok {
			c.l.full[key]++
		}
		c.l.mu.Unlock()
	}
	return b, nil
}

// The server's disk fills while a client sends: the outbox takes "storage full" (50301) as
// a reason to wait, sends the same request with the same idempotency key again after a
// backoff, and the message lands exactly once when space returns; the app only sees its
// send take longer.
func TestSendRetriesOnStorageFull(t *testing.T) {
	dir := servertest.SmallVolume(t, 16<<20)
	env := servertest.Start(t, servertest.Options{Dir: dir, Configure: func(c *server.Config) {
		c.RequestRate, c.ConversationWriteRate = -1, -1
	}})
	ctx := testCtx(t)
	l := &sendLog{keys: map[uint64]string{}, written: map[string]int{}, full: map[string]int{}}
	dial := func(ctx context.Context, url string) (core.Conn, error) {
		c, err := core.DialWebSocket(ctx, url)
		if err != nil {
			return nil, err
		}
		return &sendLogConn{Conn: c, l: l}, nil
	}
	alice := startClient(t, env, "alice", &core.Options{Dial: dial, Logf: t.Logf})
	bob := newClient(t, env, "bob", nil)
	a, _ := chatRoom(t, alice, bob)
	free := servertest.Fill(t, dir)

	// Send until a send is refused for want of space (the store's reserved blocks take
	// some first); it then waits in the outbox.
	type result struct {
		index int64
		err   error
	}
	var sent []string
	var stuck chan result
	var stuckKey string
	for i := 0; stuckKey == ""; i++ {
		require.Less(t, i, 3000, "3000 sends of 30 KiB never found the 16 MiB volume full")
		body := fmt.Sprintf("m%04d %s", i, strings.Repeat("x", 30<<10))
		done := make(chan result, 1)
		l.mu.Lock()
		before := len(l.written)
		l.mu.Unlock()
		go func() {
			idx, err := a.SendMessage(ctx, body, nil)
			done <- result{idx, err}
		}()
		var key string
		waitFor(t, "the send written", func() bool {
			l.mu.Lock()
			defer l.mu.Unlock()
			if len(l.written) == before {
				return false
			}
			for k := range l.written {
				if !slices.Contains(sent, k) {
					key = k
				}
			}
			return true
		})
		sent = append(sent, key)
		waitFor(t, "the send acknowledged or refused", func() bool {
			l.mu.Lock()
			defer l.mu.Unlock()
			if l.full[key] > 0 {
				stuckKey, stuck = key, done
				return true
			}
			select {
			case r := <-done:
				require.NoError(t, r.err)
				require.EqualValues(t, i, r.index)
				return true
			default:
				return false
			}
		})
	}

	// The outbox sends the same request again, with the same key, and it is refused again.
	waitFor(t, "the refused send retried", func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.written[stuckKey] >= 2 && l.full[stuckKey] >= 2
	})
	select {
	case r := <-stuck:
		t.Fatalf("the send on a full disk ended: %+v", r)
	default:
	}

	free()
	var r result
	select {
	case r = <-stuck:
	case <-ctx.Done():
		t.Fatal("the send did not go through once space was back")
	}
	require.NoError(t, r.err, "the app never sees the full disk")
	assert.EqualValues(t, len(sent)-1, r.index)
	l.mu.Lock()
	assert.Len(t, l.written, len(sent), "every retry reused its send's idempotency key")
	l.mu.Unlock()
	_, err := a.SendMessage(ctx, "after", nil)
	require.NoError(t, err)

	// Each message is stored once, in the order sent.
	raw := env.Connect(ctx, "bob")
	var page wire.MessagePage
	anchor := int64(0)
	require.NoError(t, raw.Call(ctx, wire.OpMessageList, wire.ListMessagesArgs{ConversationSid: a.Sid(), PageSize: wire.MaxPageSize, Anchor: &anchor, Direction: wire.Forward}, &page))
	require.Len(t, page.Items, len(sent)+1)
	for i, m := range page.Items[:len(sent)] {
		assert.True(t, strings.HasPrefix(*m.Body, fmt.Sprintf("m%04d ", i)), "message %d", i)
	}
	assert.Equal(t, "after", *page.Items[len(sent)].Body)
}

// A message with a file, sent while the server's disk is full: the upload is refused with
// 50301, the outbox uploads it again after a backoff, and once space returns the file is
// stored and the message sent, once.
func TestMediaSendRetriesOnStorageFull(t *testing.T) {
	dir := servertest.SmallVolume(t, 16<<20)
	var logs servertest.LogBuffer
	env := servertest.Start(t, servertest.Options{Dir: dir, Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		Configure: func(c *server.Config) {
			c.RequestRate, c.ConversationWriteRate, c.MediaUploadsPerMinute = -1, -1, -1
		}})
	ctx := testCtx(t)
	alice, bob := newClient(t, env, "alice", nil), newClient(t, env, "bob", nil)
	a, _ := chatRoom(t, alice, bob)
	free := servertest.Fill(t, dir)

	file := []byte(strings.Repeat("f", 64<<10))
	done := make(chan error, 1)
	go func() {
		_, err := a.PrepareMessage().SetBody("see attached").
			AddMedia(core.MediaUpload{ContentType: "text/plain", Filename: "f.txt", Data: file}).BuildAndSend(ctx, nil)
		done <- err
	}()
	refusals := func() int { return strings.Count(logs.String(), "storing media failed: the disk is full") }
	waitFor(t, "the upload refused twice", func() bool { return refusals() >= 2 })
	select {
	case err := <-done:
		t.Fatalf("the send ended while the disk was full: %v", err)
	default:
	}

	free()
	select {
	case err := <-done:
		require.NoError(t, err, "the app never sees the full disk")
	case <-ctx.Done():
		t.Fatal("the send did not go through once space was back")
	}
	raw := env.Connect(ctx, "bob")
	var page wire.MessagePage
	require.NoError(t, raw.Call(ctx, wire.OpMessageList, wire.ListMessagesArgs{ConversationSid: a.Sid()}, &page))
	require.Len(t, page.Items, 1, "sent once")
	m := page.Items[0]
	assert.Equal(t, "see attached", *m.Body)
	require.Len(t, m.Media, 1, "with its file, uploaded once it could be stored")
	assert.EqualValues(t, len(file), m.Media[0].Size)
}
