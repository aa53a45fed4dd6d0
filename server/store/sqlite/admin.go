package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/server/store/internal/storeutil"
	"github.com/convo-sdk/convo/wire"
)

// Ping runs a trivial query on the read pool and the writer, so a health check notices a
// broken database file as well as a wedged writer.
func (s *Store) Ping(ctx context.Context) error {
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil {
		return err
	}
	return s.w.PingContext(ctx)
}

// AllConversations lists every conversation by creation order.
func (s *Store) AllConversations(ctx context.Context, after string, limit int) ([]wire.Conversation, string, error) {
	afterID, err := storeutil.ParseCursor(after)
	if err != nil {
		return nil, "", err
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+conversationCols+` FROM conversations c
		WHERE c.id > ? ORDER BY c.id LIMIT ?`, afterID, limit+1)
	if err != nil {
		return nil, "", err
	}
	return cursorPage(rows, limit, scan.Conversation)
}

// ---- content templates

const contentCols = storeutil.ContentCols

func (s *Store) ContentTemplates(ctx context.Context, after string, limit int) ([]wire.ContentTemplate, string, error) {
	afterID, err := storeutil.ParseCursor(after)
	if err != nil {
		return nil, "", err
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+contentCols+` FROM content_templates WHERE id > ? ORDER BY id LIMIT ?`, afterID, limit+1)
	if err != nil {
		return nil, "", err
	}
	return cursorPage(rows, limit, scan.Content)
}

func (s *Store) ContentTemplate(ctx context.Context, sid string) (wire.ContentTemplate, error) {
	t, _, err := scan.Content(s.r.QueryRowContext(ctx, `SELECT `+contentCols+` FROM content_templates WHERE sid = ?`, sid))
	return t, err
}

func (s *Store) CreateContentTemplate(ctx context.Context, nt store.NewContentTemplate) (wire.ContentTemplate, error) {
	sid := store.NewSid(store.PrefixContent)
	t := storeutil.Now()
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO content_templates (sid, friendly_name, variables, variants, date_created, date_updated)
			VALUES (?, ?, ?, ?, ?, ?)`, sid, nt.FriendlyName, storeutil.VariablesJSON(nt.Variables), storeutil.Attrs(nt.Variants), t, t)
		return err
	})
	if err != nil {
		return wire.ContentTemplate{}, err
	}
	ct, _, err := scan.Content(s.w.QueryRowContext(ctx, `SELECT `+contentCols+` FROM content_templates WHERE sid = ?`, sid))
	return ct, err
}

func (s *Store) UpdateContentTemplate(ctx context.Context, sid string, u store.ContentTemplateUpdate) (wire.ContentTemplate, error) {
	var ct wire.ContentTemplate
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		cur, _, err := scan.Content(tx.QueryRowContext(ctx, `SELECT `+contentCols+` FROM content_templates WHERE sid = ?`, sid))
		if err != nil {
			return err
		}
		cur = storeutil.ContentEdit(cur, u)
		if _, err := tx.ExecContext(ctx, `UPDATE content_templates SET friendly_name = ?, variables = ?, variants = ?, date_updated = ?
			WHERE sid = ?`, cur.FriendlyName, storeutil.VariablesJSON(cur.Variables), storeutil.Attrs(cur.Variants), storeutil.Now(), sid); err != nil {
			return err
		}
		ct, _, err = scan.Content(tx.QueryRowContext(ctx, `SELECT `+contentCols+` FROM content_templates WHERE sid = ?`, sid))
		return err
	})
	return ct, err
}

func (s *Store) DeleteContentTemplate(ctx context.Context, sid string) error {
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM content_templates WHERE sid = ?`, sid)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		return nil
	})
}

// ---- webhook dispatcher state

func (s *Store) WebhookStart(ctx context.Context, enabled bool) (int64, error) {
	var cursor int64
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var was bool
		if err := tx.QueryRowContext(ctx, `SELECT event_id, enabled FROM webhook_cursor WHERE id = 1`).Scan(&cursor, &was); err != nil {
			return err
		}
		if !enabled || !was {
			if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM events`).Scan(&cursor); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `UPDATE webhook_cursor SET event_id = ?, enabled = ? WHERE id = 1`, cursor, enabled)
		return err
	})
	return cursor, err
}

func (s *Store) WebhookFollowHead(ctx context.Context) error {
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE webhook_cursor SET event_id = (SELECT COALESCE(MAX(id), 0) FROM events)
			WHERE id = 1 AND enabled = 0`)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // enabled by another process meanwhile: its dispatcher owns the cursor
		}
		return deleteWebhookOnly(ctx, tx)
	})
}

func (s *Store) EventsAfter(ctx context.Context, after int64, limit int) ([]store.StoredEvent, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, name, payload, variant_of IS NOT NULL FROM events
		WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var evs []store.StoredEvent
	for rows.Next() {
		var (
			e store.StoredEvent
			p string
		)
		if err := rows.Scan(&e.ID, &e.Name, &p, &e.Variant); err != nil {
			return nil, err
		}
		e.Payload = json.RawMessage(p)
		evs = append(evs, e)
	}
	return evs, rows.Err()
}

func (s *Store) WebhookEnqueue(ctx context.Context, cursor int64, ds []store.WebhookDelivery) error {
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		// An id done lately was queued by another node that read the same events first.
		ins, err := tx.PrepareContext(ctx, `INSERT INTO webhook_outbox (delivery_id, type, body, attempts, next_attempt, created)
			SELECT ?, ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM webhook_done WHERE delivery_id = ?)
			ON CONFLICT (delivery_id) DO NOTHING`)
		if err != nil {
			return err
		}
		defer ins.Close()
		for _, d := range ds {
			if _, err := ins.ExecContext(ctx, d.ID, d.Type, string(d.Body), d.Attempts, d.NextAttempt.UnixMilli(), d.Created.UnixMilli(), d.ID); err != nil {
				return err
			}
		}
		if _, err = tx.ExecContext(ctx, `UPDATE webhook_cursor SET event_id = ? WHERE id = 1 AND event_id < ?`, cursor, cursor); err != nil {
			return err
		}
		return deleteWebhookOnly(ctx, tx)
	})
}

// deleteWebhookOnly deletes the webhook-only events the dispatcher is done with (the
// pruner leaves them). The newest event always stays, so event ids never go back.
func deleteWebhookOnly(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM events WHERE webhook_only = 1
		AND id <= (SELECT event_id FROM webhook_cursor WHERE id = 1)
		AND id < (SELECT MAX(id) FROM events)`)
	return err
}

func (s *Store) WebhookDue(ctx context.Context, at time.Time, limit int) ([]store.WebhookDelivery, error) {
	// The dispatcher polls often: look on a reader first, and take the writer only to claim.
	var due bool
	if err := s.r.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM webhook_outbox WHERE next_attempt <= ?)`, at.UnixMilli()).Scan(&due); err != nil || !due {
		return nil, err
	}
	var ds []store.WebhookDelivery
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		ds = nil
		rows, err := tx.QueryContext(ctx, `SELECT seq, delivery_id, type, body, attempts, next_attempt, created FROM webhook_outbox
			WHERE next_attempt <= ? ORDER BY next_attempt, seq LIMIT ?`, at.UnixMilli(), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		var seqs []any
		for rows.Next() {
			var (
				d             store.WebhookDelivery
				seq           int64
				body          string
				next, created int64
			)
			if err := rows.Scan(&seq, &d.ID, &d.Type, &body, &d.Attempts, &next, &created); err != nil {
				return err
			}
			d.Body, d.NextAttempt, d.Created = json.RawMessage(body), storeutil.FromMillis(next), storeutil.FromMillis(created)
			ds, seqs = append(ds, d), append(seqs, seq)
		}
		if err := rows.Err(); err != nil || len(seqs) == 0 {
			return err
		}
		rows.Close()
		// The claim: not due again before WebhookRetry, WebhookDone or its end.
		_, err = tx.ExecContext(ctx, `UPDATE webhook_outbox SET next_attempt = ? WHERE seq IN (`+placeholders(len(seqs))+`)`,
			append([]any{at.Add(store.WebhookClaim).UnixMilli()}, seqs...)...)
		return err
	})
	return ds, err
}

func (s *Store) WebhookDone(ctx context.Context, id string) error {
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM webhook_outbox WHERE delivery_id = ?`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO webhook_done (delivery_id, done_at) VALUES (?, ?)
			ON CONFLICT (delivery_id) DO UPDATE SET done_at = excluded.done_at`, id, storeutil.Now())
		return err
	})
}

func (s *Store) WebhookRetry(ctx context.Context, id string, attempts int, next time.Time) error {
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE webhook_outbox SET attempts = ?, next_attempt = ? WHERE delivery_id = ?`,
			attempts, next.UnixMilli(), id)
		return err
	})
}

func (s *Store) WebhookPending(ctx context.Context) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM webhook_outbox`).Scan(&n)
	return n, err
}

// ---- channel metadata, receipts, notification levels

func (s *Store) SetChannelMetadata(ctx context.Context, conv, msg string, meta wire.ChannelMetadata) error {
	b, err := json.Marshal(meta)
	if err != nil {
		return err
	}
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE messages SET channel_metadata = ? WHERE conversation_sid = ? AND sid = ?`, string(b), conv, msg)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		return nil
	})
}

func (s *Store) UpsertReceipt(ctx context.Context, u store.ReceiptUpsert) (wire.DetailedReceipt, []store.Delivery, error) {
	var (
		rc wire.DetailedReceipt
		ds []store.Delivery
	)
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		before, err := s.message(ctx, tx, u.ConversationSid, u.MessageSid)
		if err != nil {
			return err
		}
		var ptype string
		if err := tx.QueryRowContext(ctx, `SELECT type FROM participants WHERE conversation_sid = ? AND sid = ?`,
			u.ConversationSid, u.ParticipantSid).Scan(&ptype); err != nil {
			return notFound(err)
		}
		t := storeutil.Now()
		if _, err := tx.ExecContext(ctx, `INSERT INTO receipts (sid, message_sid, conversation_sid, participant_sid,
			channel_message_sid, status, error_code, date_created, date_updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (message_sid, participant_sid) DO UPDATE SET
				channel_message_sid = CASE WHEN excluded.channel_message_sid = '' THEN receipts.channel_message_sid ELSE excluded.channel_message_sid END,
				status = excluded.status, error_code = excluded.error_code, date_updated = excluded.date_updated`,
			store.NewSid(store.PrefixReceipt), u.MessageSid, u.ConversationSid, u.ParticipantSid,
			u.ChannelMessageSid, u.Status, u.ErrorCode, t, t); err != nil {
			return err
		}
		if rc, err = storeutil.Receipt(tx.QueryRowContext(ctx, `SELECT `+storeutil.ReceiptCols+` FROM receipts
			WHERE message_sid = ? AND participant_sid = ?`, u.MessageSid, u.ParticipantSid)); err != nil {
			return err
		}
		m, err := s.message(ctx, tx, u.ConversationSid, u.MessageSid)
		if err != nil {
			return err
		}
		if before.Receipts != nil && m.Receipts != nil && *before.Receipts == *m.Receipts {
			return nil // the aggregate did not move: nothing for clients to see
		}
		ids, err := participantIdentities(ctx, tx, u.ConversationSid)
		if err != nil {
			return err
		}
		ds, err = s.appendEvent(ctx, tx, wire.EventMessageUpdated,
			wire.MessageUpdatedEvent{Message: m, UpdateReasons: []string{wire.ReasonDeliveryReceipt}}, ids)
		return err
	})
	return rc, ds, err
}

func (s *Store) MutedIdentities(ctx context.Context, conv string) ([]string, error) {
	return queryStrings(ctx, s.r, `SELECT identity FROM participants
		WHERE conversation_sid = ? AND type = 'chat' AND notification_level = ?`, conv, wire.NotificationMuted)
}
