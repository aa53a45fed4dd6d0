package sqlite

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/server/store/storetest"
)

// A removed message's or conversation's content is in no byte of the database files once the WAL is
// checkpointed: not in a table, not in free space, not in an old page version.
func TestRemovedContentIsInNoByteOfTheFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.db")
	s := open(t, path, Options{})
	marker := storetest.Erase(t, s)

	var busy, frames, copied int
	require.NoError(t, s.w.QueryRow(`PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &frames, &copied))
	require.Zero(t, busy, "the checkpoint ran to its end")
	for _, f := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(f)
		if os.IsNotExist(err) {
			continue
		}
		require.NoError(t, err)
		assert.False(t, bytes.Contains(b, []byte(marker)), "%s holds the removed content", filepath.Base(f))
	}
	// The search can find: what the same store keeps is there.
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.True(t, bytes.Contains(b, []byte("stays")))
}

// Redacting a message's events finds them by index, not by reading every event.
func TestRedactionUsesTheEventsByMessageIndex(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "c.db"), Options{})
	for _, where := range []string{`json_extract(payload, '$.message.sid') = ?`,
		`json_extract(payload, '$.message.sid') IN (SELECT sid FROM messages WHERE conversation_sid = ?)`} {
		plan := queryPlan(t, s, redactMessageEvents+where)
		assert.Contains(t, plan, "events_by_message", plan)
	}
}

// Redacting a conversation's and its participants' events finds them by index too.
func TestRedactionUsesTheEventsByConversationIndexes(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "c.db"), Options{})
	for q, index := range map[string]string{redactConversationEvents: "events_by_conversation",
		redactParticipantEvents: "events_by_participant_conversation"} {
		plan := queryPlan(t, s, q)
		assert.Contains(t, plan, "INDEX "+index+" ", plan)
	}
}

// queryPlan returns SQLite's plan for query, with "x" for its one parameter, a line per step.
func queryPlan(t *testing.T, s *Store, query string) string {
	t.Helper()
	rows, err := s.w.Query(`EXPLAIN QUERY PLAN `+query, "x")
	require.NoError(t, err)
	defer rows.Close()
	var plan string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		require.NoError(t, rows.Scan(&id, &parent, &unused, &detail))
		plan += detail + "\n"
	}
	require.NoError(t, rows.Err())
	return plan
}
