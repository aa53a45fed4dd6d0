package storetest

import (
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/wire"
)

// These run what several goroutines, or several server nodes sharing one database (two
// stores opened on it), do at once.
var _ = register(
	test{"DenseIndexUnderConcurrency", testDenseIndexUnderConcurrency},
	test{"OverlappingStreamsUnderConcurrency", testOverlappingStreams},
	test{"IdempotencyKeyAcrossNodes", testIdempotencyAcrossNodes},
	test{"AdvanceConversationStatesAcrossNodes", testAdvanceAcrossNodes},
	test{"WebhookDueAcrossNodes", testWebhookDueAcrossNodes},
	test{"EventsAfterMissesNoCommittedEvent", testEventsAfterUnderConcurrency},
	test{"MixedWritesAcrossNodes", testMixedWritesAcrossNodes},
)

// parallel runs fn(0..n-1) in goroutines released together and waits for them.
func parallel(n int, fn func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			fn(i)
		})
	}
	close(start)
	wg.Wait()
}

// messageSids lists the message sids of the messageAdded events among ds.
func messageSids(t *testing.T, ds []store.Delivery) []string {
	t.Helper()
	var out []string
	for _, d := range ds {
		if d.Event != wire.EventMessageAdded {
			continue
		}
		var ev wire.MessageEvent
		require.NoError(t, json.Unmarshal(d.Payload, &ev))
		out = append(out, ev.Message.Sid)
	}
	return out
}

func testDenseIndexUnderConcurrency(t *testing.T, h *harness) {
	ctx, s := h.begin()
	senders := make([]string, 20)
	for i := range senders {
		senders[i] = fmt.Sprintf("u%02d", i)
	}
	c := setup(t, s, senders...)
	before := map[string]int{}
	for _, id := range senders {
		before[id] = len(requireDenseStream(t, s, id))
	}
	const each = 10
	var (
		mu    sync.Mutex
		idx   []int64
		sids  []string
		byOff = map[string]map[uint64]string{} // identity → offset → message sid
	)
	parallel(len(senders), func(i int) {
		for n := range each {
			m, _, ds, err := s.SendMessage(ctx, store.NewMessage{ConversationSid: c.Sid, Author: senders[i], Body: ptr(fmt.Sprint(n))})
			if !assert.NoError(t, err) {
				return
			}
			mu.Lock()
			idx, sids = append(idx, m.Index), append(sids, m.Sid)
			for _, d := range ds {
				if byOff[d.Identity] == nil {
					byOff[d.Identity] = map[uint64]string{}
				}
				assert.Empty(t, byOff[d.Identity][d.Offset], "offset %d of %s handed out twice", d.Offset, d.Identity)
				byOff[d.Identity][d.Offset] = m.Sid
			}
			mu.Unlock()
		}
	})
	slices.Sort(idx)
	require.Len(t, idx, len(senders)*each)
	for i, v := range idx {
		require.EqualValues(t, i, v, "message indexes are dense")
	}
	// Every participant's stream is dense and holds every message once, where the
	// deliveries said.
	for _, id := range senders {
		stream := requireDenseStream(t, s, id)
		got := messageSids(t, stream[before[id]:])
		assert.ElementsMatch(t, sids, got, id)
		for _, d := range stream[before[id]:] {
			assert.Equal(t, byOff[id][d.Offset], messageSids(t, []store.Delivery{d})[0], "%s offset %d", id, d.Offset)
		}
	}
}

func testOverlappingStreams(t *testing.T, h *harness) {
	ctx, s := h.begin()
	const users, convs = 6, 6
	ids := make([]string, users)
	for i := range ids {
		ids[i] = fmt.Sprintf("user%d", i)
	}
	// Conversation i has users i, i+1 and i+2: every user is in three conversations, and
	// every pair of neighbours shares two, so sends lock overlapping sets of streams.
	conv := make([]wire.Conversation, convs)
	for i := range conv {
		conv[i] = setup(t, s, ids[i%users], ids[(i+1)%users], ids[(i+2)%users])
	}
	before := map[string]int{}
	for _, id := range ids {
		before[id] = len(requireDenseStream(t, s, id))
	}
	var (
		mu   sync.Mutex
		want = map[string][]string{} // identity → message sids it must get
	)
	const workers, each = 4, 10
	parallel(convs*workers, func(w int) {
		ci := w % convs
		for n := range each {
			author := ids[(ci+n%3)%users] // one of the conversation's members
			m, _, ds, err := s.SendMessage(ctx, store.NewMessage{ConversationSid: conv[ci].Sid, Author: author, Body: ptr("x")})
			if !assert.NoError(t, err) {
				return
			}
			mu.Lock()
			for _, d := range ds {
				want[d.Identity] = append(want[d.Identity], m.Sid)
			}
			mu.Unlock()
		}
	})
	total := 0
	for _, id := range ids {
		stream := requireDenseStream(t, s, id)
		got := messageSids(t, stream[before[id]:])
		assert.Len(t, got, 3*workers*each, "%s is in three conversations", id)
		assert.ElementsMatch(t, want[id], got, id)
		total += len(got)
	}
	assert.Equal(t, users*3*workers*each, total)
	for _, c := range conv {
		page, err := s.Messages(ctx, store.MessageQuery{ConversationSid: c.Sid, PageSize: 100})
		require.NoError(t, err)
		require.Len(t, page.Items, workers*each)
		for i, m := range page.Items {
			require.EqualValues(t, i, m.Index)
		}
	}
}

func testIdempotencyAcrossNodes(t *testing.T, h *harness) {
	ctx := ctxT(t)
	nodes := []store.Store{h.store(Options{}), h.store(Options{})}
	c := setup(t, nodes[0], "alice", "bob")
	const rounds = 20
	for r := range rounds {
		var (
			msgs    [2]wire.Message
			created [2]bool
			ds      [2][]store.Delivery
		)
		parallel(2, func(i int) {
			var err error
			msgs[i], created[i], ds[i], err = nodes[i].SendMessage(ctx, store.NewMessage{ConversationSid: c.Sid, Author: "alice",
				Body: ptr(fmt.Sprint(r)), IdempotencyKey: fmt.Sprintf("key-%d", r)})
			assert.NoError(t, err)
		})
		require.True(t, created[0] != created[1], "round %d: exactly one stored it (%v)", r, created)
		assert.Equal(t, msgs[0], msgs[1], "round %d: both return the first message", r)
		assert.Len(t, ds[0], 2*btoi(created[0]))
		assert.Len(t, ds[1], 2*btoi(created[1]))
	}
	page, err := nodes[1].Messages(ctx, store.MessageQuery{ConversationSid: c.Sid, PageSize: 100})
	require.NoError(t, err)
	require.Len(t, page.Items, rounds)
	for i, m := range page.Items {
		require.EqualValues(t, i, m.Index, "no index lost to the duplicate")
	}
	stream := requireDenseStream(t, nodes[1], "bob")
	assert.Len(t, messageSids(t, stream), rounds)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func testAdvanceAcrossNodes(t *testing.T, h *harness) {
	ctx := ctxT(t)
	nodes := []store.Store{h.store(Options{}), h.store(Options{})}
	const n = 12
	for range n {
		c := setup(t, nodes[0], "alice", "bob")
		require.NoError(t, nodes[0].SetConversationTimers(ctx, c.Sid, time.Hour, 0))
	}
	later := time.Now().Add(2 * time.Hour)
	var (
		mu  sync.Mutex
		all []store.Delivery
	)
	parallel(4, func(i int) {
		ds, err := nodes[i%2].AdvanceConversationStates(ctx, later)
		assert.NoError(t, err)
		mu.Lock()
		all = append(all, ds...)
		mu.Unlock()
	})
	assert.Len(t, all, 2*n, "each conversation became inactive once, told to both members")
	for _, d := range all {
		assert.Equal(t, wire.StateInactive, stateOf(t, d))
	}
	requireDenseStream(t, nodes[1], "alice")
	ds, err := nodes[1].AdvanceConversationStates(ctx, later)
	require.NoError(t, err)
	assert.Empty(t, ds)
}

func testWebhookDueAcrossNodes(t *testing.T, h *harness) {
	ctx := ctxT(t)
	nodes := []store.Store{h.store(Options{}), h.store(Options{})}
	now := time.Now()
	var queued []store.WebhookDelivery
	for i := range 60 {
		queued = append(queued, delivery(fmt.Sprintf("WD%03d", i), now))
	}
	require.NoError(t, nodes[0].WebhookEnqueue(ctx, 0, queued))
	var (
		mu   sync.Mutex
		seen = map[string]int{}
	)
	parallel(4, func(i int) {
		for {
			due, err := nodes[i%2].WebhookDue(ctx, now, 7)
			if !assert.NoError(t, err) || len(due) == 0 {
				return
			}
			mu.Lock()
			for _, d := range due {
				seen[d.ID]++
			}
			mu.Unlock()
		}
	})
	assert.Len(t, seen, len(queued))
	for id, n := range seen {
		assert.Equal(t, 1, n, "%s handed out %d times", id, n)
	}
}

func testEventsAfterUnderConcurrency(t *testing.T, h *harness) {
	ctx := ctxT(t)
	nodes := []store.Store{h.store(Options{}), h.store(Options{})}
	cursor, err := nodes[0].WebhookStart(ctx, true)
	require.NoError(t, err)
	convs := make([]wire.Conversation, 4)
	for i := range convs {
		convs[i] = setup(t, nodes[0], fmt.Sprintf("a%d", i), fmt.Sprintf("b%d", i))
	}
	var (
		sent = map[string]bool{}
		mu   sync.Mutex
		done = make(chan struct{})
		seen = map[string]int{}
	)
	// A dispatcher reads the log as it grows, the way the webhook pump does, while
	// transactions commit out of the order they started in.
	reader := make(chan error, 1)
	go func() {
		stop := false
		for {
			evs, err := nodes[1].EventsAfter(ctx, cursor, 50)
			if err != nil {
				reader <- err
				return
			}
			for _, e := range evs {
				if e.Name == wire.EventMessageAdded {
					var ev wire.MessageEvent
					if err := json.Unmarshal(e.Payload, &ev); err != nil {
						reader <- err
						return
					}
					seen[ev.Message.Sid]++
				}
				cursor = e.ID
			}
			if stop && len(evs) == 0 {
				reader <- nil
				return
			}
			select {
			case <-done:
				stop = true // one more pass after the last commit
			default:
			}
		}
	}()
	parallel(8, func(i int) {
		for n := range 15 {
			c := convs[(i+n)%len(convs)]
			author := fmt.Sprintf("a%d", (i+n)%len(convs))
			m, _, _, err := nodes[i%2].SendMessage(ctx, store.NewMessage{ConversationSid: c.Sid, Author: author, Body: ptr("x")})
			if !assert.NoError(t, err) {
				return
			}
			mu.Lock()
			sent[m.Sid] = true
			mu.Unlock()
		}
	})
	close(done)
	require.NoError(t, <-reader)
	assert.Len(t, seen, len(sent), "every committed message reached the reader")
	for sid := range sent {
		assert.Equal(t, 1, seen[sid], sid)
	}
}

func testMixedWritesAcrossNodes(t *testing.T, h *harness) {
	ctx := ctxT(t)
	nodes := []store.Store{h.store(Options{}), h.store(Options{})}
	users := []string{"ann", "ben", "cat", "dan"}
	// Every conversation has every user, in another order: writes to different
	// conversations lock the same streams.
	convs := make([]wire.Conversation, 4)
	for i := range convs {
		order := append(slices.Clone(users[i:]), users[:i]...)
		convs[i] = setup(t, nodes[0], order...)
	}
	parallel(8, func(w int) {
		s, c := nodes[w%2], convs[w%len(convs)]
		me := users[w%len(users)]
		guest := fmt.Sprintf("guest%d", w)
		for n := range 6 {
			var err error
			switch n % 6 {
			case 0, 3:
				_, _, _, err = s.SendMessage(ctx, store.NewMessage{ConversationSid: c.Sid, Author: me, Body: ptr("x"),
					IdempotencyKey: fmt.Sprintf("%d-%d", w, n)})
			case 1:
				_, _, err = s.SetReadHorizon(ctx, c.Sid, me, wire.ReadAll, nil)
			case 2:
				var p wire.Participant
				if p, _, err = s.AddParticipant(ctx, store.NewParticipant{ConversationSid: c.Sid, Identity: guest}); err == nil {
					_, _, err = s.RemoveParticipant(ctx, c.Sid, p.Sid, false)
				}
			case 4:
				_, _, err = s.UpdateConversation(ctx, store.ConversationUpdate{Sid: c.Sid, Attributes: wire.RawJSON(fmt.Sprintf(`{"w":%d}`, w))})
			case 5:
				_, _, err = s.SetNotificationLevel(ctx, c.Sid, me, wire.NotificationMuted)
			}
			assert.NoError(t, err, "worker %d step %d", w, n)
		}
	})
	for _, u := range users {
		requireDenseStream(t, nodes[1], u)
	}
	for _, c := range convs {
		page, err := nodes[1].Messages(ctx, store.MessageQuery{ConversationSid: c.Sid, PageSize: 100})
		require.NoError(t, err)
		require.Len(t, page.Items, 4, "two workers, two messages each")
		for i, m := range page.Items {
			require.EqualValues(t, i, m.Index)
		}
	}
}
