package postgres

import (
	"context"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/server/store/internal/storeutil"
)

// pruneBatch bounds the rows one pruning statement deletes, to keep its locks short.
const pruneBatch = 1000

// PruneEvents deletes event payloads no stream references any more (retention dropped every
// reference) and reports how many went. Webhook-only events stay (the webhook dispatcher
// deletes them once dispatched), and so does what an enabled dispatcher has yet to read,
// and the newest row, as in the sqlite store. It also forgets webhook deliveries done more
// than store.WebhookDoneKept ago. Nodes pruning at once skip each other's rows.
func (s *Store) PruneEvents(ctx context.Context) (int64, error) {
	var total int64
	for {
		tag, err := s.pool.Exec(ctx, `DELETE FROM events WHERE id IN (
			SELECT e.id FROM events e
			WHERE NOT e.webhook_only
			AND NOT EXISTS (SELECT 1 FROM user_events ue WHERE ue.event_id = e.id)
			AND NOT EXISTS (SELECT 1 FROM webhook_cursor w, webhook_log l
				WHERE w.id = 1 AND l.id = 1 AND w.enabled AND (e.pos > w.pos OR (e.pos IS NULL AND e.id > l.sealed_id)))
			AND e.id < (SELECT MAX(id) FROM events)
			ORDER BY e.id LIMIT $1 FOR UPDATE OF e SKIP LOCKED)`, pruneBatch)
		if err != nil {
			return total, err
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() < pruneBatch {
			break
		}
	}
	_, err := s.pool.Exec(ctx, `DELETE FROM webhook_outbox WHERE done_at < $1`, storeutil.Now()-store.WebhookDoneKept.Milliseconds())
	return total, err
}
