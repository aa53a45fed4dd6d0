package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/server/store/internal/storeutil"
	"github.com/convo-sdk/convo/wire"
)

func (s *Store) SendMessage(ctx context.Context, nm store.NewMessage) (wire.Message, bool, []store.Delivery, error) {
	var (
		m       wire.Message
		created bool
		ds      []store.Delivery
	)
	// What does not depend on the transaction is prepared before it, off the writer.
	sid := store.NewSid(store.PrefixMessage)
	var body, subject, vars sql.NullString
	if nm.Body != nil {
		body = sql.NullString{String: *nm.Body, Valid: true}
	}
	if nm.Subject != nil {
		subject = sql.NullString{String: *nm.Subject, Valid: true}
	}
	if len(nm.ContentVariables) > 0 {
		b, err := json.Marshal(nm.ContentVariables)
		if err != nil {
			return m, false, nil, err
		}
		vars = sql.NullString{String: string(b), Valid: true}
	}
	attrs := storeutil.Attrs(nm.Attributes)
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if nm.IdempotencyKey != "" {
			prev, err := scan.Message(tx.QueryRowContext(ctx, `SELECT `+messageSelect+` FROM messages
				WHERE conversation_sid = ? AND author = ? AND idempotency_key = ?`, nm.ConversationSid, nm.Author, nm.IdempotencyKey))
			if err == nil {
				m = prev
				return loadMessageExtras(ctx, tx, []*wire.Message{&m})
			}
			if !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		// The conversation's next index, taken in the statement that records the message as
		// its last and restarts its lifecycle timers from t (as restartTimers does: an active
		// conversation runs both, one not closed the closed timer). An inactive conversation
		// keeps its timers here and wakes below (touchConversation). A closed one takes no
		// messages and is left as it is. If a later statement fails, the rollback (to the
		// write's savepoint) undoes this update with the rest.
		t := storeutil.Now()
		var (
			idx   int64
			state string
		)
		if err := tx.QueryRowContext(ctx, `UPDATE conversations SET
			last_message_index = COALESCE(last_message_index + 1, 0), last_message_date = ?1,
			inactive_at = CASE WHEN state = 'inactive' THEN inactive_at
				WHEN state = 'active' AND inactive_after_ms IS NOT NULL THEN ?1 + inactive_after_ms END,
			closed_at = CASE WHEN state = 'inactive' THEN closed_at
				WHEN closed_after_ms IS NOT NULL THEN ?1 + closed_after_ms END
			WHERE sid = ?2 AND state <> 'closed' RETURNING last_message_index, state`,
			t, nm.ConversationSid).Scan(&idx, &state); err != nil {
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			if err := tx.QueryRowContext(ctx, `SELECT state FROM conversations WHERE sid = ?`, nm.ConversationSid).Scan(&state); err != nil {
				return notFound(err)
			}
			return store.ErrClosed
		}
		// The insert returns the row as stored (messages has no triggers): reading it back
		// takes no second statement.
		var err error
		if m, err = scan.Message(tx.QueryRowContext(ctx, `INSERT INTO messages (`+messageCols+`, idempotency_key, subject, content_sid, content_variables)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING `+messageSelect,
			sid, nm.ConversationSid, idx, nm.Author, nullString(nm.ParticipantSid), body, attrs, t, t,
			nullString(nm.IdempotencyKey), subject, nullString(nm.ContentSid), vars)); err != nil {
			return err
		}
		if err := attachMedia(ctx, tx, nm.ConversationSid, sid, nm.Author, nm.MediaSids); err != nil {
			return err
		}
		// A message just written has no receipts yet, and media only if it attached some:
		// without media there is nothing for loadMessageExtras to find.
		if len(nm.MediaSids) > 0 {
			if err := loadMessageExtras(ctx, tx, []*wire.Message{&m}); err != nil {
				return err
			}
		}
		members, err := participantIdentities(ctx, tx, nm.ConversationSid)
		if err != nil {
			return err
		}
		created = true
		if ds, err = s.appendEvent(ctx, tx, wire.EventMessageAdded, wire.MessageEvent{Message: m}, members); err != nil {
			return err
		}
		if state != wire.StateInactive {
			return nil // timers restarted above
		}
		// Activity wakes an inactive conversation (and restarts its timers).
		woke, err := s.touchConversation(ctx, tx, nm.ConversationSid, state, t)
		ds = append(ds, woke...)
		return err
	})
	return m, created, ds, err
}
