package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/core/wire"
	"github.com/convo-sdk/convo/server/store"
)

func open(t *testing.T, path string, opts Options) *Store {
	t.Helper()
	s, err := Open(path, opts)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// setup creates a conversation with the given participants.
func setup(t *testing.T, s *Store, members ...string) wire.Conversation {
	ctx := ctxT(t)
	c, err := s.CreateConversation(ctx, store.NewConversation{FriendlyName: "room", CreatedBy: members[0]})
	require.NoError(t, err)
	for _, m := range members {
		_, _, err := s.AddParticipant(ctx, store.NewParticipant{ConversationSid: c.Sid, Identity: m})
		require.NoError(t, err)
	}
	return c
}

func body(s string) *string { return &s }

func TestConversationBasics(t *testing.T) {
	ctx := ctxT(t)
	s := open(t, filepath.Join(t.TempDir(), "c.db"), Options{})
	c, err := s.CreateConversation(ctx, store.NewConversation{UniqueName: "general", FriendlyName: "General", CreatedBy: "alice",
		Attributes: json.RawMessage(`{"a":1}`)})
	require.NoError(t, err)
	assert.Regexp(t, `^CH[0-9a-f]{32}$`, c.Sid)
	assert.JSONEq(t, `{"a":1}`, string(c.Attributes))
	assert.Nil(t, c.LastMessage)

	_, err = s.CreateConversation(ctx, store.NewConversation{UniqueName: "general", CreatedBy: "bob"})
	assert.ErrorIs(t, err, store.ErrConflict)

	got, err := s.ConversationByUniqueName(ctx, "general")
	require.NoError(t, err)
	assert.Equal(t, c.Sid, got.Sid)
	_, err = s.Conversation(ctx, "CHnope")
	assert.ErrorIs(t, err, store.ErrNotFound)

	p, ds, err := s.AddParticipant(ctx, store.NewParticipant{ConversationSid: c.Sid, Identity: "alice"})
	require.NoError(t, err)
	assert.Regexp(t, `^MB[0-9a-f]{32}$`, p.Sid)
	assert.Equal(t, "chat", p.Type)
	require.Len(t, ds, 2)
	assert.Equal(t, wire.EventConversationJoined, ds[0].Event)
	assert.Equal(t, wire.EventParticipantJoined, ds[1].Event)
	assert.Equal(t, []uint64{1, 2}, []uint64{ds[0].Offset, ds[1].Offset})

	_, _, err = s.AddParticipant(ctx, store.NewParticipant{ConversationSid: c.Sid, Identity: "alice"})
	assert.ErrorIs(t, err, store.ErrConflict)
	_, _, err = s.AddParticipant(ctx, store.NewParticipant{ConversationSid: c.Sid, Identity: "bob", Max: 1})
	assert.ErrorIs(t, err, store.ErrTooManyParticipants)
	_, _, err = s.AddParticipant(ctx, store.NewParticipant{ConversationSid: "CHnope", Identity: "bob"})
	assert.ErrorIs(t, err, store.ErrNotFound)
}

func TestSendFansOutOncePerRecipient(t *testing.T) {
	ctx := ctxT(t)
	s := open(t, filepath.Join(t.TempDir(), "c.db"), Options{})
	c := setup(t, s, "alice", "bob")
	m, created, ds, err := s.SendMessage(ctx, store.NewMessage{ConversationSid: c.Sid, Author: "alice", Body: body("hi")})
	require.NoError(t, err)
	assert.True(t, created)
	assert.Regexp(t, `^IM[0-9a-f]{32}$`, m.Sid)
	assert.EqualValues(t, 0, m.Index)
	require.Len(t, ds, 2)
	var n int
	require.NoError(t, s.r.QueryRow(`SELECT COUNT(*) FROM events WHERE name = ?`, wire.EventMessageAdded).Scan(&n))
	assert.Equal(t, 1, n, "payload stored once")

	conv, err := s.Conversation(ctx, c.Sid)
	require.NoError(t, err)
	require.NotNil(t, conv.LastMessage)
	assert.EqualValues(t, 0, conv.LastMessage.Index)

	// bob: conversationJoined + participantJoined(bob) = 2, then messageAdded = 3.
	// alice also got participantJoined(bob): 1,2,3 then messageAdded = 4.
	for id, want := range map[string]uint64{"alice": 4, "bob": 3} {
		h, err := s.StreamHead(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, want, h.Last, id)
		assert.EqualValues(t, 1, h.Oldest)
		evs, err := s.ReadStream(ctx, id, 0, 100)
		require.NoError(t, err)
		require.Len(t, evs, int(want))
		for i, e := range evs {
			assert.EqualValues(t, i+1, e.Offset)
		}
		assert.Equal(t, wire.EventMessageAdded, evs[len(evs)-1].Event)
	}
}

func TestIdempotentSend(t *testing.T) {
	ctx := ctxT(t)
	s := open(t, filepath.Join(t.TempDir(), "c.db"), Options{})
	c := setup(t, s, "alice", "bob")
	nm := store.NewMessage{ConversationSid: c.Sid, Author: "alice", Body: body("once"), IdempotencyKey: "k1"}
	m1, created, ds, err := s.SendMessage(ctx, nm)
	require.NoError(t, err)
	require.True(t, created)
	require.Len(t, ds, 2)
	m2, created, ds, err := s.SendMessage(ctx, nm)
	require.NoError(t, err)
	assert.False(t, created)
	assert.Empty(t, ds)
	assert.Equal(t, m1.Sid, m2.Sid)
	// The same key from another author is another message.
	m3, created, _, err := s.SendMessage(ctx, store.NewMessage{ConversationSid: c.Sid, Author: "bob", Body: body("x"), IdempotencyKey: "k1"})
	require.NoError(t, err)
	assert.True(t, created)
	assert.EqualValues(t, 1, m3.Index)
}

func TestDenseIndexUnderConcurrency(t *testing.T) {
	ctx := ctxT(t)
	s := open(t, filepath.Join(t.TempDir(), "c.db"), Options{})
	senders := make([]string, 20)
	for i := range senders {
		senders[i] = fmt.Sprintf("u%02d", i)
	}
	c := setup(t, s, senders...)
	const each = 10
	var wg sync.WaitGroup
	var mu sync.Mutex
	var idx []int64
	for _, who := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				m, _, _, err := s.SendMessage(ctx, store.NewMessage{ConversationSid: c.Sid, Author: who, Body: body(fmt.Sprint(i))})
				if !assert.NoError(t, err) {
					return
				}
				mu.Lock()
				idx = append(idx, m.Index)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	sort.Slice(idx, func(i, j int) bool { return idx[i] < idx[j] })
	require.Len(t, idx, len(senders)*each)
	for i, v := range idx {
		require.EqualValues(t, i, v)
	}
	// Every participant's stream is dense too.
	evs, err := s.ReadStream(ctx, "u00", 0, 10000)
	require.NoError(t, err)
	for i, e := range evs {
		require.EqualValues(t, i+1, e.Offset)
	}
}

func TestMessagePaging(t *testing.T) {
	ctx := ctxT(t)
	s := open(t, filepath.Join(t.TempDir(), "c.db"), Options{})
	c := setup(t, s, "alice")
	for i := range 10 {
		_, _, _, err := s.SendMessage(ctx, store.NewMessage{ConversationSid: c.Sid, Author: "alice", Body: body(fmt.Sprint(i))})
		require.NoError(t, err)
	}
	indices := func(p wire.MessagePage) []int64 {
		var out []int64
		for _, m := range p.Items {
			out = append(out, m.Index)
		}
		return out
	}
	a := func(v int64) *int64 { return &v }
	cases := []struct {
		name             string
		q                store.MessageQuery
		want             []int64
		hasPrev, hasNext bool
	}{
		{"newest", store.MessageQuery{PageSize: 3}, []int64{7, 8, 9}, true, false},
		{"backwards anchor", store.MessageQuery{PageSize: 3, Anchor: a(5)}, []int64{3, 4, 5}, true, true},
		{"backwards start", store.MessageQuery{PageSize: 3, Anchor: a(2)}, []int64{0, 1, 2}, false, true},
		{"forward oldest", store.MessageQuery{PageSize: 3, Forward: true}, []int64{0, 1, 2}, false, true},
		{"forward anchor", store.MessageQuery{PageSize: 3, Forward: true, Anchor: a(4)}, []int64{4, 5, 6}, true, true},
		{"forward end", store.MessageQuery{PageSize: 5, Forward: true, Anchor: a(7)}, []int64{7, 8, 9}, true, false},
		{"all", store.MessageQuery{PageSize: 30}, []int64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, false, false},
	}
	for _, tc := range cases {
		tc.q.ConversationSid = c.Sid
		p, err := s.Messages(ctx, tc.q)
		require.NoError(t, err, tc.name)
		assert.Equal(t, tc.want, indices(p), tc.name)
		assert.Equal(t, tc.hasPrev, p.HasPrev, tc.name+" hasPrev")
		assert.Equal(t, tc.hasNext, p.HasNext, tc.name+" hasNext")
	}
}

func TestConversationsOfPaging(t *testing.T) {
	ctx := ctxT(t)
	s := open(t, filepath.Join(t.TempDir(), "c.db"), Options{})
	var want []string
	for range 5 {
		want = append(want, setup(t, s, "alice").Sid)
	}
	setup(t, s, "bob")
	var got []string
	after := ""
	pages := 0
	for {
		items, next, err := s.ConversationsOf(ctx, "alice", after, 2)
		require.NoError(t, err)
		pages++
		for _, c := range items {
			got = append(got, c.Sid)
		}
		if next == "" {
			break
		}
		after = next
	}
	assert.Equal(t, want, got)
	assert.Equal(t, 3, pages)
	_, _, err := s.ConversationsOf(ctx, "alice", "garbage", 2)
	assert.ErrorIs(t, err, store.ErrBadCursor)
}

func TestRetention(t *testing.T) {
	ctx := ctxT(t)
	s := open(t, filepath.Join(t.TempDir(), "c.db"), Options{Retention: 5})
	c := setup(t, s, "alice") // alice: offsets 1, 2
	for range 8 {
		_, _, _, err := s.SendMessage(ctx, store.NewMessage{ConversationSid: c.Sid, Author: "alice", Body: body("x")})
		require.NoError(t, err)
	}
	h, err := s.StreamHead(ctx, "alice")
	require.NoError(t, err)
	assert.EqualValues(t, 10, h.Last)
	assert.EqualValues(t, 6, h.Oldest)
	assert.True(t, h.CanResume(h.Epoch, 5))
	assert.False(t, h.CanResume(h.Epoch, 4), "offset 5 is gone")
	assert.False(t, h.CanResume("other", 9))
	assert.False(t, h.CanResume(h.Epoch, 11), "offset from the future")
	n, err := s.PruneEvents(ctx)
	require.NoError(t, err)
	assert.EqualValues(t, 5, n, "payloads nobody references any more")
	evs, err := s.ReadStream(ctx, "alice", 0, 100)
	require.NoError(t, err)
	require.Len(t, evs, 5)
	assert.EqualValues(t, 6, evs[0].Offset)
}

func TestReopenKeepsDataAndMigrationsAreIdempotent(t *testing.T) {
	ctx := ctxT(t)
	path := filepath.Join(t.TempDir(), "c.db")
	s, err := Open(path, Options{})
	require.NoError(t, err)
	c := setup(t, s, "alice")
	_, _, _, err = s.SendMessage(ctx, store.NewMessage{ConversationSid: c.Sid, Author: "alice", Body: body("kept")})
	require.NoError(t, err)
	h1, err := s.StreamHead(ctx, "alice")
	require.NoError(t, err)
	require.NoError(t, s.Close())

	for range 2 {
		s = open(t, path, Options{})
		names, err := s.AppliedMigrations(ctx)
		require.NoError(t, err)
		assert.Len(t, names, len(migrations))
		assert.Equal(t, "0001_base", names[0])
		p, err := s.Messages(ctx, store.MessageQuery{ConversationSid: c.Sid})
		require.NoError(t, err)
		require.Len(t, p.Items, 1)
		assert.Equal(t, "kept", *p.Items[0].Body)
		h2, err := s.StreamHead(ctx, "alice")
		require.NoError(t, err)
		assert.Equal(t, h1, h2, "epoch and offsets survive a restart")
		require.NoError(t, s.Close())
	}
}

func TestEnsureUser(t *testing.T) {
	ctx := ctxT(t)
	s := open(t, filepath.Join(t.TempDir(), "c.db"), Options{})
	u, err := s.EnsureUser(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, "alice", u.Identity)
	h, err := s.StreamHead(ctx, "alice")
	require.NoError(t, err)
	assert.Len(t, h.Epoch, 16)
	assert.EqualValues(t, 0, h.Last)
	assert.EqualValues(t, 1, h.Oldest)
	assert.True(t, h.CanResume(h.Epoch, 0))
}

func TestOpenRefusesADatabaseFromANewerVersion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "convo.db")
	s := open(t, path, Options{})
	_, err := s.w.Exec(`INSERT INTO schema_migrations (name, applied) VALUES ('9999_from_the_future', 0)`)
	require.NoError(t, err)
	require.NoError(t, s.Close())
	_, err = Open(path, Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `migration "9999_from_the_future"`)
	assert.Contains(t, err.Error(), "newer version")
}
