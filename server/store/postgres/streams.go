package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/server/store/internal/storeutil"
	"github.com/convo-sdk/convo/wire"
)

// ---- users and streams

func (s *Store) EnsureUser(ctx context.Context, identity string) (wire.User, error) {
	u, err := userRecord(ctx, s.pool, identity)
	if !errors.Is(err, store.ErrNotFound) {
		return u, err
	}
	if err := s.ensureUserAndStream(ctx, identity); err != nil {
		return u, err
	}
	return userRecord(ctx, s.pool, identity)
}

// ensureUserAndStream creates identity's user record and event stream where missing.
func (s *Store) ensureUserAndStream(ctx context.Context, identity string) error {
	_, err := s.pool.Exec(ctx, `WITH u AS (
			INSERT INTO users (identity, date_created) VALUES ($1, $2) ON CONFLICT (identity) DO NOTHING)
		INSERT INTO streams (identity, epoch, next_offset) VALUES ($1, $3, 1) ON CONFLICT (identity) DO NOTHING`,
		identity, storeutil.Now(), store.NewEpoch())
	return err
}

func userRecord(ctx context.Context, q querier, identity string) (wire.User, error) {
	u := wire.User{Identity: identity}
	var a string
	err := q.QueryRow(ctx, `SELECT friendly_name, attributes FROM users WHERE identity = $1`, identity).Scan(&u.FriendlyName, &a)
	u.Attributes = wire.RawJSON(a)
	return u, notFound(err)
}

func ensureUser(ctx context.Context, tx pgx.Tx, identity string) error {
	_, err := tx.Exec(ctx, `INSERT INTO users (identity, date_created) VALUES ($1, $2) ON CONFLICT (identity) DO NOTHING`,
		identity, storeutil.Now())
	return err
}

func (s *Store) StreamHead(ctx context.Context, identity string) (store.StreamHead, error) {
	h, err := s.streamHead(ctx, identity)
	if errors.Is(err, store.ErrNotFound) {
		if err := s.ensureUserAndStream(ctx, identity); err != nil {
			return h, err
		}
		h, err = s.streamHead(ctx, identity)
	}
	return h, err
}

// streamHead reads the head in one statement, so Last and Oldest come from one snapshot.
func (s *Store) streamHead(ctx context.Context, identity string) (store.StreamHead, error) {
	var (
		h      store.StreamHead
		next   int64
		oldest *int64
	)
	err := s.pool.QueryRow(ctx, `SELECT s.epoch, s.next_offset,
			(SELECT MIN(stream_offset) FROM user_events ue WHERE ue.identity = s.identity)
		FROM streams s WHERE s.identity = $1`, identity).Scan(&h.Epoch, &next, &oldest)
	if err != nil {
		return h, notFound(err)
	}
	h.Last, h.Oldest = uint64(next-1), uint64(next)
	if oldest != nil {
		h.Oldest = uint64(*oldest)
	}
	return h, nil
}

func (s *Store) ReadStream(ctx context.Context, identity string, after uint64, limit int) ([]store.Delivery, error) {
	rows, _ := s.pool.Query(ctx, `SELECT ue.stream_offset, e.name, e.payload
		FROM user_events ue JOIN events e ON e.id = ue.event_id
		WHERE ue.identity = $1 AND ue.stream_offset > $2 ORDER BY ue.stream_offset LIMIT $3`, identity, int64(after), limit)
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Delivery, error) {
		d := store.Delivery{Identity: identity}
		var p string
		err := row.Scan(&d.Offset, &d.Event, &p)
		d.Payload = wire.RawJSON(p)
		return d, err
	})
}

// ---- appending events

// eventLog appends events to streams inside one write transaction. It remembers which
// stream rows the transaction locked: a write locks all its recipients' streams at once, in
// identity order (lock), so two writes never wait on each other's streams in a cycle.
type eventLog struct {
	s      *Store
	tx     pgx.Tx
	locked map[string]bool
	at     time.Time
}

func (s *Store) events(tx pgx.Tx) *eventLog {
	return &eventLog{s: s, tx: tx, locked: map[string]bool{}, at: time.Now()}
}

// lock locks the streams of identities (creating missing ones) for the rest of the
// transaction.
func (l *eventLog) lock(ctx context.Context, identities []string) error {
	var need []string
	seen := make(map[string]bool, len(identities))
	for _, id := range identities {
		if !l.locked[id] && !seen[id] {
			need, seen[id] = append(need, id), true
		}
	}
	if len(need) == 0 {
		return nil
	}
	got, err := l.lockExisting(ctx, need)
	if err != nil {
		return err
	}
	var missing, epochs []string
	for _, id := range need {
		if !got[id] {
			missing, epochs = append(missing, id), append(epochs, store.NewEpoch())
		}
	}
	if len(missing) > 0 {
		// New users: create their streams, then lock them (a concurrent writer may have
		// created some first).
		if _, err := l.tx.Exec(ctx, `INSERT INTO streams (identity, epoch, next_offset)
			SELECT id, epoch, 1 FROM unnest($1::text[], $2::text[]) AS t(id, epoch)
			ON CONFLICT (identity) DO NOTHING`, missing, epochs); err != nil {
			return err
		}
		if _, err := l.lockExisting(ctx, missing); err != nil {
			return err
		}
	}
	for _, id := range need {
		l.locked[id] = true
	}
	return nil
}

func (l *eventLog) lockExisting(ctx context.Context, ids []string) (map[string]bool, error) {
	got, err := queryStrings(ctx, l.tx, `SELECT identity FROM streams WHERE identity = ANY($1) ORDER BY identity FOR UPDATE`, ids)
	set := make(map[string]bool, len(got))
	for _, id := range got {
		set[id] = true
	}
	return set, err
}

// append stores payload once and appends it to each recipient's stream, pruning what falls
// out of retention.
func (l *eventLog) append(ctx context.Context, name string, v any, recipients []string) ([]store.Delivery, error) {
	payload, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return l.appendFor(ctx, name, recipients, func(string) any { return wire.RawJSON(payload) })
}

// appendFor is append with a payload per recipient: recipients with identical payloads
// share one stored row; the first row is the event, the others its variants.
func (l *eventLog) appendFor(ctx context.Context, name string, recipients []string, payloadFor func(identity string) any) ([]store.Delivery, error) {
	if err := l.lock(ctx, recipients); err != nil {
		return nil, err
	}
	type group struct {
		payload []byte
		ids     []string
	}
	var groups []*group
	byPayload := map[string]*group{}
	payloads := make([][]byte, len(recipients))
	for i, id := range recipients {
		payload, err := marshal(payloadFor(id))
		if err != nil {
			return nil, err
		}
		g := byPayload[string(payload)]
		if g == nil {
			g = &group{payload: payload}
			byPayload[string(payload)], groups = g, append(groups, g)
		}
		g.ids, payloads[i] = append(g.ids, id), g.payload
	}
	if len(recipients) == 0 {
		// Nobody's stream gets it, but the events log still records every change.
		payload, err := marshal(payloadFor(""))
		if err != nil {
			return nil, err
		}
		groups = []*group{{payload: payload}}
	}
	offsets := make(map[string]int64, len(recipients))
	var first int64
	b := &pgx.Batch{}
	l.queueGroup(b, name, groups[0].payload, nil, groups[0].ids, offsets, &first)
	if err := l.tx.SendBatch(ctx, b).Close(); err != nil {
		return nil, err
	}
	if len(groups) > 1 {
		b = &pgx.Batch{}
		for _, g := range groups[1:] {
			l.queueGroup(b, name, g.payload, &first, g.ids, offsets, new(int64))
		}
		if err := l.tx.SendBatch(ctx, b).Close(); err != nil {
			return nil, err
		}
	}
	return deliveries(name, recipients, offsets, l.at, func(i int) []byte { return payloads[i] }), nil
}

func marshal(v any) ([]byte, error) {
	if raw, ok := v.(wire.RawJSON); ok {
		return raw, nil
	}
	return json.Marshal(v)
}

// appendSQL stores one payload row and appends it to locked streams in one statement:
// bump each stream's next offset, link the event at the offset it had, delete what falls
// out of retention. With no stream named it only stores the row.
//
// The retention delete walks each stream's own index range (LATERAL, ORDER BY, LIMIT) and
// deletes by row address: a join would let the planner scan the whole table on every
// event. Usually one row goes per stream; after retention was lowered, the backlog goes
// 100 rows at a time.
const appendSQL = `WITH ev AS (
		INSERT INTO events (name, payload, variant_of) VALUES ($1, $2, $3) RETURNING id),
	up AS (
		UPDATE streams SET next_offset = next_offset + 1 WHERE identity = ANY($4)
		RETURNING identity, next_offset - 1 AS off),
	link AS (
		INSERT INTO user_events (identity, stream_offset, event_id) SELECT up.identity, up.off, ev.id FROM up, ev),
	gone AS (
		DELETE FROM user_events WHERE ctid = ANY (ARRAY (
			SELECT old.ctid FROM up, LATERAL (
				SELECT ctid FROM user_events
				WHERE identity = up.identity AND stream_offset <= up.off - $5
				ORDER BY stream_offset LIMIT 100) old)))
	SELECT (SELECT id FROM ev), identity, off FROM up`

// queueGroup queues appendSQL for one payload and the streams of ids (locked already);
// running it records each stream's offset in offsets and the row's id in *eventID.
func (l *eventLog) queueGroup(b *pgx.Batch, name string, payload []byte, variantOf *int64, ids []string, offsets map[string]int64, eventID *int64) {
	if ids == nil {
		ids = []string{}
	}
	b.Queue(appendSQL, name, string(payload), variantOf, ids, l.s.retention).Query(func(rows pgx.Rows) error {
		var (
			identity string
			off      int64
			n        int
		)
		_, err := pgx.ForEachRow(rows, []any{eventID, &identity, &off}, func() error {
			offsets[identity] = off
			n++
			return nil
		})
		if err == nil && n != len(ids) {
			err = fmt.Errorf("postgres: %d of %d streams took event %s", n, len(ids), name)
		}
		return err
	})
}

// deliveries describes what appending an event to recipients' streams committed.
func deliveries(name string, recipients []string, offsets map[string]int64, at time.Time, payload func(i int) []byte) []store.Delivery {
	ds := make([]store.Delivery, len(recipients))
	for i, id := range recipients {
		ds[i] = store.Delivery{Identity: id, Offset: uint64(offsets[id]), Event: name, Payload: payload(i), At: at}
	}
	return ds
}

// webhookEvent records an event for the webhook dispatcher only: no stream gets it, and
// the pruner leaves it alone.
func (l *eventLog) webhookEvent(ctx context.Context, name string, v any) error {
	payload, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = l.tx.Exec(ctx, `INSERT INTO events (name, payload, webhook_only) VALUES ($1, $2, true)`, name, string(payload))
	return err
}
