package postgres

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/server/store/internal/storeutil"
	"github.com/convo-sdk/convo/wire"
)

// The webhook dispatcher reads the events log by position (store.StoredEvent.ID is an
// event's pos). Event ids come from a sequence when a transaction inserts the row, and
// transactions commit in another order than they took ids: a reader going by id could pass
// an id whose transaction commits later, and never see that event. Positions are instead
// handed out by sequence, to events already committed, by one transaction at a time (it
// holds the webhook_log row): whatever commits later gets a later position.
//
// Events the dispatcher must never report (committed while it was disabled) are sealed:
// sequence skips every id up to webhook_log.sealed_id.

// sequenceBatch bounds the events one statement positions.
const sequenceBatch = 5000

// sequence gives the committed events that have none their positions and returns the
// newest position.
func (s *Store) sequence(ctx context.Context) (int64, error) {
	var head int64
	err := s.write(ctx, func(tx pgx.Tx) error {
		var sealed int64
		if err := tx.QueryRow(ctx, `SELECT head, sealed_id FROM webhook_log WHERE id = 1 FOR UPDATE`).Scan(&head, &sealed); err != nil {
			return err
		}
		start := head
		for {
			var n int
			if err := tx.QueryRow(ctx, `WITH todo AS (
					SELECT id FROM events WHERE pos IS NULL AND id > $2 ORDER BY id LIMIT $3),
				numbered AS (
					SELECT id, $1 + row_number() OVER (ORDER BY id) AS pos FROM todo),
				done AS (
					UPDATE events e SET pos = n.pos FROM numbered n WHERE e.id = n.id RETURNING n.pos)
				SELECT (SELECT COUNT(*) FROM todo), COALESCE((SELECT MAX(pos) FROM done), $1)`,
				head, sealed, sequenceBatch).Scan(&n, &head); err != nil {
				return err
			}
			if n < sequenceBatch {
				break
			}
		}
		if head == start {
			return nil
		}
		_, err := tx.Exec(ctx, `UPDATE webhook_log SET head = $1 WHERE id = 1`, head)
		return err
	})
	return head, err
}

// seal marks every event so far as never to be dispatched and returns the newest position.
func seal(ctx context.Context, tx pgx.Tx) (head int64, err error) {
	err = tx.QueryRow(ctx, `UPDATE webhook_log SET sealed_id = GREATEST(sealed_id, (SELECT COALESCE(MAX(id), 0) FROM events))
		WHERE id = 1 RETURNING head`).Scan(&head)
	return head, err
}

func (s *Store) WebhookStart(ctx context.Context, enabled bool) (int64, error) {
	var cursor int64
	err := s.write(ctx, func(tx pgx.Tx) error {
		var was bool
		if err := tx.QueryRow(ctx, `SELECT pos, enabled FROM webhook_cursor WHERE id = 1 FOR UPDATE`).Scan(&cursor, &was); err != nil {
			return err
		}
		if !enabled || !was {
			var err error
			if cursor, err = seal(ctx, tx); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `UPDATE webhook_cursor SET pos = $1, enabled = $2 WHERE id = 1`, cursor, enabled)
		return err
	})
	return cursor, err
}

func (s *Store) WebhookFollowHead(ctx context.Context) error {
	return s.write(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE webhook_cursor SET pos = (SELECT head FROM webhook_log WHERE id = 1)
			WHERE id = 1 AND NOT enabled`)
		if err != nil || tag.RowsAffected() == 0 {
			return err // enabled by another node meanwhile: its dispatcher owns the cursor
		}
		if _, err := seal(ctx, tx); err != nil {
			return err
		}
		return deleteWebhookOnly(ctx, tx)
	})
}

func (s *Store) EventsAfter(ctx context.Context, after int64, limit int) ([]store.StoredEvent, error) {
	if _, err := s.sequence(ctx); err != nil {
		return nil, err
	}
	rows, _ := s.pool.Query(ctx, `SELECT pos, name, payload, variant_of IS NOT NULL FROM events
		WHERE pos > $1 ORDER BY pos LIMIT $2`, after, limit)
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.StoredEvent, error) {
		var (
			e store.StoredEvent
			p string
		)
		err := row.Scan(&e.ID, &e.Name, &p, &e.Variant)
		e.Payload = wire.RawJSON(p)
		return e, err
	})
}

func (s *Store) WebhookEnqueue(ctx context.Context, cursor int64, ds []store.WebhookDelivery) error {
	n := len(ds)
	ids, types, bodies, msgs, convs := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	attempts, next, created := make([]int32, n), make([]int64, n), make([]int64, n)
	for i, d := range ds {
		ids[i], types[i], bodies[i], msgs[i], convs[i] = d.ID, d.Type, string(d.Body), d.MessageSid, d.ConversationSid
		attempts[i], next[i], created[i] = int32(d.Attempts), d.NextAttempt.UnixMilli(), d.Created.UnixMilli()
	}
	return s.write(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE webhook_cursor SET pos = $1 WHERE id = 1 AND pos < $1`, cursor); err != nil {
			return err
		}
		// An id there already, done or not, was queued by a node that read the same events
		// first (done rows stay a while for this).
		if n > 0 {
			// A message or a conversation removed since the dispatcher read its event is not
			// sent. FOR SHARE (FOR KEY SHARE for a conversation, which sends keep updating)
			// waits for a removal deleting the row; a removal that comes after waits for this
			// commit and then gives up what it queued (erase.go).
			if _, err := tx.Exec(ctx, `INSERT INTO webhook_outbox (delivery_id, type, body, attempts, next_attempt, created)
				SELECT u.id, u.type, u.body, u.attempts, u.next, u.created
				FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::bigint[], $6::bigint[], $7::text[], $8::text[])
					AS u(id, type, body, attempts, next, created, msg, conv)
				WHERE (u.msg = '' OR EXISTS (SELECT 1 FROM messages m WHERE m.sid = u.msg FOR SHARE))
					AND (u.conv = '' OR EXISTS (SELECT 1 FROM conversations c WHERE c.sid = u.conv FOR KEY SHARE))
				ON CONFLICT (delivery_id) DO NOTHING`, ids, types, bodies, attempts, next, created, msgs, convs); err != nil {
				return err
			}
		}
		return deleteWebhookOnly(ctx, tx)
	})
}

// deleteWebhookOnly deletes the webhook-only events the dispatcher is done with (the
// pruner leaves them): positioned up to the cursor, or sealed. The newest event always
// stays, as in the sqlite store.
func deleteWebhookOnly(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `DELETE FROM events e USING webhook_cursor w, webhook_log l
		WHERE w.id = 1 AND l.id = 1 AND e.webhook_only
		AND (e.pos <= w.pos OR (e.pos IS NULL AND e.id <= l.sealed_id))
		AND e.id < (SELECT MAX(id) FROM events)`)
	return err
}

// WebhookDue claims what it returns by moving its next attempt to the claim's end, in one
// statement; SKIP LOCKED passes over rows another node is claiming at the same moment.
func (s *Store) WebhookDue(ctx context.Context, at time.Time, limit int) ([]store.WebhookDelivery, error) {
	type due struct {
		store.WebhookDelivery
		seq int64
	}
	rows, _ := s.pool.Query(ctx, `UPDATE webhook_outbox o SET next_attempt = $2
		FROM (SELECT seq, next_attempt FROM webhook_outbox WHERE done_at IS NULL AND next_attempt <= $1
			ORDER BY next_attempt, seq LIMIT $3 FOR UPDATE SKIP LOCKED) d
		WHERE o.seq = d.seq
		RETURNING o.seq, o.delivery_id, o.type, o.body, o.attempts, d.next_attempt, o.created`,
		at.UnixMilli(), at.Add(store.WebhookClaim).UnixMilli(), limit)
	got, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (due, error) {
		var (
			d             due
			body          string
			next, created int64
		)
		err := row.Scan(&d.seq, &d.ID, &d.Type, &body, &d.Attempts, &next, &created)
		d.Body, d.NextAttempt, d.Created = wire.RawJSON(body), storeutil.FromMillis(next), storeutil.FromMillis(created)
		return d, err
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(got, func(a, b due) int {
		if c := a.NextAttempt.Compare(b.NextAttempt); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
	out := make([]store.WebhookDelivery, len(got))
	for i, d := range got {
		out[i] = d.WebhookDelivery
	}
	return out, nil
}

func (s *Store) WebhookDone(ctx context.Context, id string) error {
	_, err := s.pool.Exec(ctx, `UPDATE webhook_outbox SET done_at = $2, body = '' WHERE delivery_id = $1 AND done_at IS NULL`,
		id, storeutil.Now())
	return err
}

func (s *Store) WebhookRetry(ctx context.Context, id string, attempts int, next time.Time) error {
	_, err := s.pool.Exec(ctx, `UPDATE webhook_outbox SET attempts = $2, next_attempt = $3 WHERE delivery_id = $1 AND done_at IS NULL`,
		id, attempts, next.UnixMilli())
	return err
}

func (s *Store) WebhookPending(ctx context.Context) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT COUNT(*) FROM webhook_outbox WHERE done_at IS NULL`).Scan(&n)
	return n, err
}
