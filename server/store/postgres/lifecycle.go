package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/server/store/internal/storeutil"
	"github.com/convo-sdk/convo/wire"
)

func nullMillis(d time.Duration) *int64 {
	if d <= 0 {
		return nil
	}
	ms := d.Milliseconds()
	return &ms
}

func (s *Store) SetConversationTimers(ctx context.Context, sid string, inactiveAfter, closedAfter time.Duration) error {
	return s.write(ctx, func(tx pgx.Tx) error {
		state, err := lockConversation(ctx, tx, sid)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE conversations SET inactive_after_ms = $1, closed_after_ms = $2 WHERE sid = $3`,
			nullMillis(inactiveAfter), nullMillis(closedAfter), sid); err != nil {
			return err
		}
		return restartTimers(ctx, tx, sid, state, storeutil.Now())
	})
}

// restartTimers sets the deadlines from t according to the state: an active conversation
// runs both, an inactive one only the closed timer, a closed one none.
func restartTimers(ctx context.Context, tx pgx.Tx, sid, state string, t int64) error {
	_, err := tx.Exec(ctx, `UPDATE conversations SET
		inactive_at = CASE WHEN $1 = 'active' THEN $2 + inactive_after_ms END,
		closed_at = CASE WHEN $1 <> 'closed' THEN $2 + closed_after_ms END
		WHERE sid = $3`, state, t, sid)
	return err
}

// setState changes a (locked) conversation's state at t and tells its members.
func (s *Store) setState(ctx context.Context, tx pgx.Tx, sid, state string, t int64) ([]store.Delivery, error) {
	if _, err := tx.Exec(ctx, `UPDATE conversations SET state = $1, state_date = $2 WHERE sid = $3`, state, t, sid); err != nil {
		return nil, err
	}
	if err := restartTimers(ctx, tx, sid, state, t); err != nil {
		return nil, err
	}
	return s.announceState(ctx, s.events(tx), sid)
}

// announceState emits conversationUpdated (reason state) to every member, each with its
// own view.
func (s *Store) announceState(ctx context.Context, l *eventLog, sid string) ([]store.Delivery, error) {
	c, err := conversation(ctx, l.tx, sid)
	if err != nil {
		return nil, err
	}
	ms, err := members(ctx, l.tx, sid)
	if err != nil {
		return nil, err
	}
	return l.appendConvEvent(ctx, wire.EventConversationUpdated, c, []string{wire.ReasonState}, ms)
}

func (s *Store) SetConversationState(ctx context.Context, sid, state string) (wire.Conversation, []store.Delivery, error) {
	switch state {
	case wire.StateActive, wire.StateInactive, wire.StateClosed:
	default:
		return wire.Conversation{}, nil, errors.New("postgres: unknown conversation state " + state)
	}
	var (
		c  wire.Conversation
		ds []store.Delivery
	)
	err := s.write(ctx, func(tx pgx.Tx) error {
		ds = nil
		cur, err := lockConversation(ctx, tx, sid)
		if err != nil {
			return err
		}
		if cur != state {
			if ds, err = s.setState(ctx, tx, sid, state, storeutil.Now()); err != nil {
				return err
			}
		}
		c, err = conversation(ctx, tx, sid)
		return err
	})
	return c, ds, err
}

// advanceBatch bounds how many conversations one AdvanceConversationStates call moves.
const advanceBatch = 500

// AdvanceConversationStates moves each due conversation in a transaction of its own, taken
// with SKIP LOCKED and the deadline checked again under the lock: nodes calling it at once
// share the work, and each change happens once.
func (s *Store) AdvanceConversationStates(ctx context.Context, at time.Time) ([]store.Delivery, error) {
	t := at.UnixMilli()
	sids, err := queryStrings(ctx, s.pool, `SELECT sid FROM conversations
		WHERE (inactive_at <= $1 AND state = 'active') OR (closed_at <= $1 AND state <> 'closed') LIMIT $2`, t, advanceBatch)
	if err != nil {
		return nil, err
	}
	var all []store.Delivery
	for _, sid := range sids {
		var ds []store.Delivery
		err := s.write(ctx, func(tx pgx.Tx) error {
			ds = nil
			var closing bool
			err := tx.QueryRow(ctx, `SELECT closed_at IS NOT NULL AND closed_at <= $2 FROM conversations
				WHERE sid = $1 AND ((inactive_at <= $2 AND state = 'active') OR (closed_at <= $2 AND state <> 'closed'))
				FOR NO KEY UPDATE SKIP LOCKED`, sid, t).Scan(&closing)
			if errors.Is(err, pgx.ErrNoRows) {
				return nil // another node has it, or it is no longer due
			}
			if err != nil {
				return err
			}
			next := wire.StateInactive
			if closing {
				next = wire.StateClosed
			}
			ds, err = s.setState(ctx, tx, sid, next, t)
			return err
		})
		if err != nil {
			return all, err
		}
		all = append(all, ds...)
	}
	return all, nil
}
