package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/server/store/internal/storeutil"
)

func (s *Store) pruneLoop(every time.Duration) {
	defer close(s.pruneDone)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			if _, err := s.PruneEvents(context.Background()); err != nil {
				s.log.Warn("pruning event payloads failed", "err", err)
			}
		}
	}
}

// PruneEvents deletes event payloads no stream references any more (retention dropped every
// reference) and reports how many went. Webhook-only events stay: the webhook dispatcher
// deletes them once delivered. It works in small batches to keep writes flowing, and
// forgets the webhook deliveries done more than store.WebhookDoneKept ago.
func (s *Store) PruneEvents(ctx context.Context) (int64, error) {
	var total int64
	for {
		var n int64
		first := total == 0
		err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
			if first {
				// Every link into user_events, where retention applies and the check
				// below looks.
				if err := s.moveAllLinks(ctx, tx); err != nil {
					return err
				}
			}
			res, err := tx.ExecContext(ctx, `DELETE FROM events WHERE id IN (
				SELECT e.id FROM events e
				WHERE NOT EXISTS (SELECT 1 FROM user_events ue WHERE ue.event_id = e.id)
				-- nor by a link still pending (one filed in this batch after the moves)
				AND e.id < (SELECT COALESCE(MIN(event_id), 1 << 62) FROM pending_links)
				AND e.webhook_only = 0
				-- the webhook dispatcher still needs what is after its cursor (webhooks.go)
				AND NOT EXISTS (SELECT 1 FROM webhook_cursor w WHERE w.enabled = 1 AND e.id > w.event_id)
				-- keep the newest row so ids never go back (INTEGER PRIMARY KEY reuses max+1)
				AND e.id < (SELECT MAX(id) FROM events)
				LIMIT 500)`)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		total += n
		if err != nil {
			return total, err
		}
		if n == 0 {
			break
		}
	}
	return total, s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM webhook_done WHERE done_at < ?`, storeutil.Now()-store.WebhookDoneKept.Milliseconds())
		return err
	})
}
