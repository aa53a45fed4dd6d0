// Package storetest is the behaviour suite every store.Store implementation runs: each
// store's tests call Run with a function that opens that store on a real database. What
// one store does, the other must do too, down to event offsets and error values; and since
// several server nodes may share one database, the suite also runs two stores on one
// database at once.
package storetest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/wire"
)

// Options are what a test asks of the store it opens.
type Options struct {
	// Retention is how many events each user's stream keeps; 0 means the store's default.
	Retention int
	// Database names the database to open (a file name or a database name: letters and
	// digits only). The suite gives every test its own; opening the same name again opens
	// another store on the same data, as a restarted server or a second node would.
	Database string
}

// Opener opens a store as o says and closes it when the test ends (the suite may close it
// earlier; Close must be safe to call twice).
type Opener func(t *testing.T, o Options) store.Store

// Pruner is the maintenance method the suite needs beyond store.Store: delete the event
// payloads no stream references any more, reporting how many went. Every store has it.
type Pruner interface {
	PruneEvents(ctx context.Context) (int64, error)
}

// test is one behaviour; h opens stores on the test's own database.
type test struct {
	name string
	fn   func(t *testing.T, h *harness)
}

// tests lists the suite; each file adds its own.
var tests []test

func register(ts ...test) struct{} {
	tests = append(tests, ts...)
	return struct{}{}
}

var dbSeq atomic.Int64

// Run runs the whole suite as subtests of t.
func Run(t *testing.T, open Opener) {
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, &harness{t: t, open: open, db: fmt.Sprintf("suite%d", dbSeq.Add(1))})
		})
	}
}

// harness opens stores on one test's database.
type harness struct {
	t    *testing.T
	open Opener
	db   string
}

// store opens a store on the test's database (another one, when called again).
func (h *harness) store(o Options) store.Store {
	h.t.Helper()
	o.Database = h.db
	s := h.open(h.t, o)
	require.NotNil(h.t, s)
	return s
}

// begin is the start of most tests: a context bound to the test, and a store with the
// default options.
func (h *harness) begin() (context.Context, store.Store) {
	h.t.Helper()
	return ctxT(h.t), h.store(Options{})
}

// room is begin and a conversation created by the first member, with every member added.
func (h *harness) room(members ...string) (context.Context, store.Store, wire.Conversation) {
	h.t.Helper()
	ctx, s := h.begin()
	return ctx, s, setup(h.t, s, members...)
}

// prune runs the store's pruner.
func prune(t *testing.T, s store.Store) int64 {
	t.Helper()
	p, ok := s.(Pruner)
	require.True(t, ok, "%T has no PruneEvents method", s)
	n, err := p.PruneEvents(ctxT(t))
	require.NoError(t, err)
	return n
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// setup creates a conversation created by the first member, with every member added.
func setup(t *testing.T, s store.Store, members ...string) wire.Conversation {
	t.Helper()
	ctx := ctxT(t)
	c, err := s.CreateConversation(ctx, store.NewConversation{FriendlyName: "room", CreatedBy: members[0]})
	require.NoError(t, err)
	for _, m := range members {
		_, _, err := s.AddParticipant(ctx, store.NewParticipant{ConversationSid: c.Sid, Identity: m})
		require.NoError(t, err)
	}
	return c
}

// send sends a message and returns it with its deliveries.
func send(t *testing.T, s store.Store, conv, author, text string) (wire.Message, []store.Delivery) {
	t.Helper()
	m, created, ds, err := s.SendMessage(ctxT(t), store.NewMessage{ConversationSid: conv, Author: author, Body: ptr(text)})
	require.NoError(t, err)
	require.True(t, created)
	return m, ds
}

func ptr[T any](v T) *T { return &v }

// events lists the names of deliveries or stored events, in order.
func events(ds []store.Delivery) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Event)
	}
	return out
}

func eventNames(evs []store.StoredEvent) []string {
	var names []string
	for _, e := range evs {
		names = append(names, e.Name)
	}
	return names
}

// recipients lists who got deliveries, in order.
func recipients(ds []store.Delivery) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Identity)
	}
	return out
}

// requireDenseStream reads identity's whole stream and checks its offsets run 1, 2, 3...
func requireDenseStream(t *testing.T, s store.Store, identity string) []store.Delivery {
	t.Helper()
	ctx := ctxT(t)
	var all []store.Delivery
	for {
		page, err := s.ReadStream(ctx, identity, uint64(len(all)), 500)
		require.NoError(t, err)
		if len(page) == 0 {
			break
		}
		for _, d := range page {
			require.EqualValues(t, len(all)+1, d.Offset, "%s's stream has a gap or a duplicate", identity)
			all = append(all, d)
		}
	}
	h, err := s.StreamHead(ctx, identity)
	require.NoError(t, err)
	require.EqualValues(t, len(all), h.Last, identity)
	return all
}

var _ = register(test{"Ping", testPing})

func testPing(t *testing.T, h *harness) {
	s := h.store(Options{})
	require.NoError(t, s.Ping(ctxT(t)))
}
