package postgres

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/internal/pgtest"
	"github.com/convo-sdk/convo/server/store"
)

// epochRule is the statement docs/DEPLOYMENT.md tells operators to run after restoring a
// dump: the SQL lines after its "-- convo: after a restore" comment, up to the code fence.
func epochRule(t *testing.T) string {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "DEPLOYMENT.md"))
	require.NoError(t, err)
	_, rest, ok := strings.Cut(string(doc), "-- convo: after a restore")
	require.True(t, ok, "docs/DEPLOYMENT.md gives the epoch rule after a comment starting \"-- convo: after a restore\"")
	_, rest, _ = strings.Cut(rest, "\n")
	sql, _, ok := strings.Cut(rest, "```")
	require.True(t, ok)
	require.NotEmpty(t, strings.TrimSpace(sql))
	return sql
}

// runTool runs one of the server's PostgreSQL programs.
func runTool(t *testing.T, ctx context.Context, srv *pgtest.Server, name string, args ...string) {
	t.Helper()
	out, err := exec.CommandContext(ctx, srv.Program(name), args...).CombinedOutput()
	require.NoError(t, err, "%s %v: %s", name, args, out)
}

func epochs(t *testing.T, ctx context.Context, dsn string) map[string]string {
	t.Helper()
	c, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	defer c.Close(context.Background())
	rows, _ := c.Query(ctx, `SELECT identity, epoch FROM streams`)
	m := map[string]string{}
	var id, epoch string
	_, err = pgx.ForEachRow(rows, []any{&id, &epoch}, func() error { m[id] = epoch; return nil })
	require.NoError(t, err)
	return m
}

// The documented procedure, run for real: pg_dump while writes go on, pg_restore into a new
// database, the epoch rule; every stream gets a new epoch and a resume from before the
// restore is refused. Without the rule the same resume would be served a rewound stream.
func testRestoreEpochRule(t *testing.T, srv *pgtest.Server) {
	ctx := ctxT(t)
	for _, p := range []string{"pg_dump", "pg_restore"} {
		if _, err := os.Stat(srv.Program(p)); err != nil {
			if os.Getenv(pgtest.EnvRequire) == "1" {
				t.Fatalf("%s is not beside the server's programs: %v", p, err)
			}
			t.Skipf("%s is not beside the server's programs: %v", p, err)
		}
	}
	live := srv.NewDatabase(t)
	s := open(t, live, Options{})
	conv, err := s.CreateConversation(ctx, store.NewConversation{FriendlyName: "room", CreatedBy: "alice"})
	require.NoError(t, err)
	for _, id := range []string{"alice", "bob", "carol"} {
		_, _, err := s.AddParticipant(ctx, store.NewParticipant{ConversationSid: conv.Sid, Identity: id})
		require.NoError(t, err)
	}
	send := func(ctx context.Context, author, body string) (string, error) {
		m, _, _, err := s.SendMessage(ctx, store.NewMessage{ConversationSid: conv.Sid, Author: author, Body: &body})
		return m.Sid, err
	}
	var before []string // acknowledged before the dump started
	for i := range 30 {
		sid, err := send(ctx, "alice", "before "+strconv.Itoa(i))
		require.NoError(t, err)
		before = append(before, sid)
	}
	head, err := s.StreamHead(ctx, "bob")
	require.NoError(t, err)

	wctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; wctx.Err() == nil; i++ {
			if _, err := send(wctx, "bob", "during "+strconv.Itoa(i)); err != nil && !errors.Is(err, context.Canceled) && wctx.Err() == nil {
				t.Errorf("a write during the dump failed: %v", err)
				return
			}
		}
	}()
	dump := filepath.Join(t.TempDir(), "convo.dump")
	runTool(t, ctx, srv, "pg_dump", "--format=custom", "--file="+dump, live)
	stop()
	wg.Wait()
	after, err := send(ctx, "alice", "after the dump")
	require.NoError(t, err)
	liveHead, err := s.StreamHead(ctx, "bob")
	require.NoError(t, err)
	old := epochs(t, ctx, live)
	require.Len(t, old, 3)

	// Restored without the rule, the old epoch still resumes: a rewound stream, served as
	// if nothing happened. That is what the rule is for.
	plain := srv.NewDatabase(t)
	runTool(t, ctx, srv, "pg_restore", "--no-owner", "--dbname="+plain, dump)
	ps := open(t, plain, Options{})
	ph, err := ps.StreamHead(ctx, "bob")
	require.NoError(t, err)
	require.True(t, ph.CanResume(head.Epoch, ph.Last), "without the rule a pre-restore epoch resumes")

	restored := srv.NewDatabase(t)
	runTool(t, ctx, srv, "pg_restore", "--no-owner", "--dbname="+restored, dump)
	c, err := pgx.Connect(ctx, restored)
	require.NoError(t, err)
	_, err = c.Exec(ctx, epochRule(t))
	require.NoError(t, err)
	require.NoError(t, c.Close(ctx))

	got := epochs(t, ctx, restored)
	require.Len(t, got, len(old))
	for id, e := range got {
		assert.NotEqual(t, old[id], e, "the stream of %s has a new epoch", id)
		assert.NotEmpty(t, e)
	}
	r := open(t, restored, Options{})
	for _, sid := range before {
		_, err := r.Message(ctx, conv.Sid, sid)
		assert.NoError(t, err, "message %s, acknowledged before the dump, is restored", sid)
	}
	_, err = r.Message(ctx, conv.Sid, after)
	assert.ErrorIs(t, err, store.ErrNotFound, "the message sent after the dump is not")
	rh, err := r.StreamHead(ctx, "bob")
	require.NoError(t, err)
	assert.Less(t, rh.Last, liveHead.Last)
	assert.False(t, rh.CanResume(liveHead.Epoch, liveHead.Last), "a client ahead of the dump resynchronises")
	assert.False(t, rh.CanResume(head.Epoch, head.Last), "so does one from before it")
	assert.False(t, rh.CanResume(head.Epoch, rh.Last), "no offset resumes under the old epoch")
	assert.True(t, rh.CanResume(rh.Epoch, rh.Last), "the new epoch resumes")
}
