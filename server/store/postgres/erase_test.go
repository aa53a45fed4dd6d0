package postgres

import (
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/server/store/storetest"
)

// A removed message's or conversation's content is in no row of any table of the database.
func testRemovedContentInNoTable(t *testing.T, dsn string) {
	ctx := ctxT(t)
	s := open(t, dsn, Options{})
	marker := storetest.Erase(t, s)

	tables, err := queryStrings(ctx, s.pool, `SELECT quote_ident(table_schema) || '.' || quote_ident(table_name)
		FROM information_schema.tables
		WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')
		ORDER BY 1`)
	require.NoError(t, err)
	require.Contains(t, tables, "public.events")
	kept := false
	for _, table := range tables {
		rows, err := s.pool.Query(ctx, `SELECT t::text FROM `+table+` t`)
		require.NoError(t, err)
		texts, err := pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(t, err)
		for _, row := range texts {
			assert.NotContains(t, row, marker, "a row of %s", table)
			kept = kept || strings.Contains(row, "stays")
		}
	}
	assert.True(t, kept, "the search can find: what the store keeps is there")
}

// Redacting a message's events can find them by index, not only by reading every event
// (the planner picks a scan for a table as small as the test's; it is told not to).
func testRedactionIndex(t *testing.T, dsn string) {
	ctx := ctxT(t)
	s := open(t, dsn, Options{})
	for _, where := range []string{`= $1`, `IN (SELECT sid FROM messages WHERE conversation_sid = $1)`} {
		tx, err := s.pool.Begin(ctx)
		require.NoError(t, err)
		_, err = tx.Exec(ctx, `SET LOCAL enable_seqscan = off`)
		require.NoError(t, err)
		rows, err := tx.Query(ctx, `EXPLAIN `+redactMessageEvents+where, "x")
		require.NoError(t, err)
		plan, err := pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(t, err)
		require.NoError(t, tx.Rollback(ctx))
		assert.Contains(t, strings.Join(plan, "\n"), "events_by_message", where)
	}
}

// Redacting a conversation's and its participants' events can find them by index too.
func testConversationRedactionIndexes(t *testing.T, dsn string) {
	ctx := ctxT(t)
	s := open(t, dsn, Options{})
	for q, index := range map[string]string{redactConversationEvents: "events_by_conversation",
		redactParticipantEvents: "events_by_participant_conversation"} {
		tx, err := s.pool.Begin(ctx)
		require.NoError(t, err)
		_, err = tx.Exec(ctx, `SET LOCAL enable_seqscan = off`)
		require.NoError(t, err)
		rows, err := tx.Query(ctx, `EXPLAIN `+q, "x")
		require.NoError(t, err)
		plan, err := pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(t, err)
		require.NoError(t, tx.Rollback(ctx))
		assert.Contains(t, strings.Join(plan, "\n"), " "+index+" ", index)
	}
}
