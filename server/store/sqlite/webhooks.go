package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/server/store/internal/storeutil"
	"github.com/convo-sdk/convo/wire"
)

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
		e.Payload = wire.RawJSON(p)
		evs = append(evs, e)
	}
	return evs, rows.Err()
}

func (s *Store) WebhookEnqueue(ctx context.Context, cursor int64, ds []store.WebhookDelivery) error {
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		// An id done lately was queued by another node that read the same events first.
		// A message or a conversation removed since the dispatcher read its event is not
		// sent (erase.go).
		ins, err := tx.PrepareContext(ctx, `INSERT INTO webhook_outbox (delivery_id, type, body, attempts, next_attempt, created)
			SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE NOT EXISTS (SELECT 1 FROM webhook_done WHERE delivery_id = ?1)
				AND (?7 = '' OR EXISTS (SELECT 1 FROM messages WHERE sid = ?7))
				AND (?8 = '' OR EXISTS (SELECT 1 FROM conversations WHERE sid = ?8))
			ON CONFLICT (delivery_id) DO NOTHING`)
		if err != nil {
			return err
		}
		defer ins.Close()
		for _, d := range ds {
			if _, err := ins.ExecContext(ctx, d.ID, d.Type, string(d.Body), d.Attempts, d.NextAttempt.UnixMilli(), d.Created.UnixMilli(), d.MessageSid, d.ConversationSid); err != nil {
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
			d.Body, d.NextAttempt, d.Created = wire.RawJSON(body), storeutil.FromMillis(next), storeutil.FromMillis(created)
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
