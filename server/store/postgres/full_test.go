package postgres

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/internal/pgtest"
	"github.com/convo-sdk/convo/server/servertest"
	"github.com/convo-sdk/convo/server/store"
)

// TestDiskFullIsReportedAsFull puts a database in a tablespace on a small filesystem of its
// own and fills that: a write that cannot extend a table fails with store.ErrFull and stores nothing, reads
// go on, and the same store writes again once space is freed. (PostgreSQL's WAL stays on the
// cluster's own disk: a full WAL disk stops PostgreSQL instead, see docs/DEPLOYMENT.md.)
//
// It runs a cluster of its own: the tablespace and the filled disk are no other test's.
func TestDiskFullIsReportedAsFull(t *testing.T) {
	ctx := ctxT(t)
	dir := servertest.SmallVolume(t, 16<<20) // unmounted after the cluster stops
	srv := pgtest.StartT(t)
	if os.Geteuid() == 0 { // the server runs as the postgres account and must own its tablespace
		u, err := user.Lookup("postgres")
		require.NoError(t, err)
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		require.NoError(t, os.Chown(dir, uid, gid))
		require.NoError(t, os.Chmod(filepath.Dir(dir), 0o711), "the test's temporary folder, which it must pass through")
	}
	c, err := pgx.Connect(ctx, srv.DatabaseDSN("postgres"))
	require.NoError(t, err)
	defer c.Close(ctx)
	_, err = c.Exec(ctx, fmt.Sprintf("CREATE TABLESPACE small LOCATION '%s'", dir))
	require.NoError(t, err)
	_, err = c.Exec(ctx, "CREATE DATABASE on_small TABLESPACE small")
	require.NoError(t, err)
	t.Cleanup(func() { // after the store closes, before the volume is unmounted
		c, err := pgx.Connect(ctx, srv.DatabaseDSN("postgres"))
		require.NoError(t, err)
		defer c.Close(ctx)
		_, err = c.Exec(ctx, "DROP DATABASE on_small WITH (FORCE)")
		assert.NoError(t, err)
		_, err = c.Exec(ctx, "DROP TABLESPACE small")
		assert.NoError(t, err)
	})
	s := open(t, srv.DatabaseDSN("on_small"), Options{})
	conv, err := s.CreateConversation(ctx, store.NewConversation{FriendlyName: "room", CreatedBy: "alice"})
	require.NoError(t, err)
	_, _, err = s.AddParticipant(ctx, store.NewParticipant{ConversationSid: conv.Sid, Identity: "alice"})
	require.NoError(t, err)

	stored := map[string]int64{}
	send := func(key string) error {
		noise := make([]byte, 15<<10) // 30 KiB of hex: little for TOAST to compress away
		rand.Read(noise)
		body := key + " " + hex.EncodeToString(noise)
		m, _, _, err := s.SendMessage(ctx, store.NewMessage{ConversationSid: conv.Sid, Author: "alice", Body: &body, IdempotencyKey: key})
		if err == nil {
			stored[key] = m.Index
		}
		return err
	}
	require.NoError(t, send("before"))
	free := servertest.Fill(t, dir)
	var refused string
	for i := 0; refused == ""; i++ {
		require.Less(t, i, 3000, "3000 sends of 30 KiB never found the 16 MiB tablespace full")
		key := fmt.Sprintf("k%04d", i)
		if err := send(key); err != nil {
			require.ErrorIs(t, err, store.ErrFull)
			refused = key
		}
	}
	t.Logf("%d sends stored before the tablespace was full", len(stored))

	count := func() int {
		page, err := s.Messages(ctx, store.MessageQuery{ConversationSid: conv.Sid, PageSize: 1000, Forward: true})
		require.NoError(t, err, "reads on a full disk")
		for i, m := range page.Items {
			require.Equal(t, int64(i), m.Index, "dense indexes")
			key, _, _ := strings.Cut(*m.Body, " ")
			index, ok := stored[key]
			require.True(t, ok, "message %d (%s) was never acknowledged", i, key)
			assert.Equal(t, index, m.Index, key)
		}
		return len(page.Items)
	}
	require.Equal(t, len(stored), count())

	free()
	require.NoError(t, send(refused), "the refused send once space is back")
	require.NoError(t, send("k9999"))
	n := len(stored)
	require.NoError(t, send("before"), "a retry of a stored send")
	assert.Equal(t, n, len(stored))
	assert.Equal(t, len(stored), count(), "each send stored once")
}
