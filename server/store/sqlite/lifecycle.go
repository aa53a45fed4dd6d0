package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/server/store/internal/storeutil"
	"github.com/convo-sdk/convo/wire"
)

func nullMillis(d time.Duration) sql.NullInt64 {
	return sql.NullInt64{Int64: d.Milliseconds(), Valid: d > 0}
}

func (s *Store) SetConversationTimers(ctx context.Context, sid string, inactiveAfter, closedAfter time.Duration) error {
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var state string
		if err := tx.QueryRowContext(ctx, `SELECT state FROM conversations WHERE sid = ?`, sid).Scan(&state); err != nil {
			return notFound(err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE conversations SET inactive_after_ms = ?, closed_after_ms = ? WHERE sid = ?`,
			nullMillis(inactiveAfter), nullMillis(closedAfter), sid); err != nil {
			return err
		}
		return restartTimers(ctx, tx, sid, state, storeutil.Now())
	})
}

// restartTimers sets the deadlines from t according to the state: an active conversation
// runs both, an inactive one only the closed timer, a closed one none.
func restartTimers(ctx context.Context, tx *sql.Tx, sid, state string, t int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE conversations SET
		inactive_at = CASE WHEN ? = 'active' AND inactive_after_ms IS NOT NULL THEN ? + inactive_after_ms END,
		closed_at = CASE WHEN ? <> 'closed' AND closed_after_ms IS NOT NULL THEN ? + closed_after_ms END
		WHERE sid = ?`, state, t, state, t, sid)
	return err
}

// touchConversation records activity (a new message): an inactive conversation becomes
// active again, and the timers restart.
func (s *Store) touchConversation(ctx context.Context, tx *sql.Tx, sid, state string, t int64) ([]store.Delivery, error) {
	if state == wire.StateInactive {
		return s.setState(ctx, tx, sid, wire.StateActive, t)
	}
	return nil, restartTimers(ctx, tx, sid, state, t)
}

func (s *Store) setState(ctx context.Context, tx *sql.Tx, sid, state string, t int64) ([]store.Delivery, error) {
	if _, err := tx.ExecContext(ctx, `UPDATE conversations SET state = ?, state_date = ? WHERE sid = ?`, state, t, sid); err != nil {
		return nil, err
	}
	if err := restartTimers(ctx, tx, sid, state, t); err != nil {
		return nil, err
	}
	c, err := s.conversation(ctx, tx, `c.sid = ?`, sid)
	if err != nil {
		return nil, err
	}
	ms, err := members(ctx, tx, sid)
	if err != nil {
		return nil, err
	}
	return s.appendConvEvent(ctx, tx, wire.EventConversationUpdated, c, []string{wire.ReasonState}, ms)
}

func (s *Store) SetConversationState(ctx context.Context, sid, state string) (wire.Conversation, []store.Delivery, error) {
	switch state {
	case wire.StateActive, wire.StateInactive, wire.StateClosed:
	default:
		return wire.Conversation{}, nil, errors.New("sqlite: unknown conversation state " + state)
	}
	var (
		c  wire.Conversation
		ds []store.Delivery
	)
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var cur string
		if err := tx.QueryRowContext(ctx, `SELECT state FROM conversations WHERE sid = ?`, sid).Scan(&cur); err != nil {
			return notFound(err)
		}
		if cur != state {
			var err error
			if ds, err = s.setState(ctx, tx, sid, state, storeutil.Now()); err != nil {
				return err
			}
		}
		var err error
		c, err = s.conversation(ctx, tx, `c.sid = ?`, sid)
		return err
	})
	return c, ds, err
}

func (s *Store) AdvanceConversationStates(ctx context.Context, at time.Time) ([]store.Delivery, error) {
	t := at.UnixMilli()
	var ds []store.Delivery
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT sid, state, closed_at IS NOT NULL AND closed_at <= ? FROM conversations
			WHERE (inactive_at <= ? AND state = 'active') OR (closed_at <= ? AND state <> 'closed') LIMIT 500`, t, t, t)
		if err != nil {
			return err
		}
		type due struct {
			sid, state string
			close      bool
		}
		var dues []due
		for rows.Next() {
			var d due
			if err := rows.Scan(&d.sid, &d.state, &d.close); err != nil {
				rows.Close()
				return err
			}
			dues = append(dues, d)
		}
		rows.Close()
		for _, d := range dues {
			next := wire.StateInactive
			if d.close {
				next = wire.StateClosed
			}
			got, err := s.setState(ctx, tx, d.sid, next, t)
			if err != nil {
				return err
			}
			ds = append(ds, got...)
		}
		return nil
	})
	return ds, err
}
