package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/server/store/internal/storeutil"
	"github.com/convo-sdk/convo/wire"
)

func (s *Store) EnsureUser(ctx context.Context, identity string) (wire.User, error) {
	u, err := s.user(ctx, s.r, identity)
	if err == nil {
		return u, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return u, err
	}
	if err := s.ensureUserAndStream(ctx, identity); err != nil {
		return u, err
	}
	return s.user(ctx, s.w, identity)
}

// ensureUserAndStream creates identity's user record and event stream where missing.
func (s *Store) ensureUserAndStream(ctx context.Context, identity string) error {
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := ensureUser(ctx, tx, identity); err != nil {
			return err
		}
		return ensureStream(ctx, tx, identity)
	})
}

func (s *Store) user(ctx context.Context, q querier, identity string) (wire.User, error) {
	u := wire.User{Identity: identity}
	var a string
	err := q.QueryRowContext(ctx, `SELECT friendly_name, attributes FROM users WHERE identity = ?`, identity).
		Scan(&u.FriendlyName, &a)
	u.Attributes = wire.RawJSON(a)
	return u, notFound(err)
}

func ensureUser(ctx context.Context, tx *sql.Tx, identity string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO users (identity, date_created) VALUES (?, ?)
		ON CONFLICT (identity) DO NOTHING`, identity, storeutil.Now())
	return err
}

func ensureStream(ctx context.Context, tx *sql.Tx, identity string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO streams (identity, epoch, next_offset) VALUES (?, ?, 1)
		ON CONFLICT (identity) DO NOTHING`, identity, store.NewEpoch())
	return err
}

func (s *Store) StreamHead(ctx context.Context, identity string) (store.StreamHead, error) {
	var h store.StreamHead
	err := s.read(ctx, func(tx *sql.Tx) error { return s.streamHead(ctx, tx, identity, &h) })
	if errors.Is(err, store.ErrNotFound) {
		// The user may exist already (created by the admin API) without a stream.
		if err := s.ensureUserAndStream(ctx, identity); err != nil {
			return h, err
		}
		err = s.read(ctx, func(tx *sql.Tx) error { return s.streamHead(ctx, tx, identity, &h) })
	}
	return h, err
}

func (s *Store) streamHead(ctx context.Context, tx *sql.Tx, identity string, h *store.StreamHead) error {
	epoch, last, found, err := streamLast(ctx, tx, identity)
	if err != nil {
		return err
	}
	if !found {
		return store.ErrNotFound
	}
	h.Epoch, h.Last = epoch, last
	// user_events holds the older part of a stream, pending_links the newer (links.go).
	var oldest sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(
		(SELECT MIN(stream_offset) FROM user_events WHERE identity = ?1),
		(SELECT MIN(stream_offset) FROM pending_links WHERE shard = ?2 AND identity = ?1))`,
		identity, linkShard(identity)).Scan(&oldest); err != nil {
		return err
	}
	h.Oldest = h.Last + 1
	if oldest.Valid {
		h.Oldest = uint64(oldest.Int64)
	}
	h.Oldest = max(h.Oldest, s.retainedAfter(h.Last)+1)
	return nil
}

// streamLast reads a stream's epoch and newest offset: the streams row's floor or the
// newest pending link, whichever is further (heads.go).
func streamLast(ctx context.Context, tx *sql.Tx, identity string) (epoch string, last uint64, found bool, err error) {
	err = tx.QueryRowContext(ctx, `SELECT epoch, max(next_offset - 1, COALESCE(
			(SELECT MAX(stream_offset) FROM pending_links WHERE shard = ?2 AND identity = ?1), 0))
		FROM streams WHERE identity = ?1`, identity, linkShard(identity)).Scan(&epoch, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return "", 0, false, nil
	}
	return epoch, last, err == nil, err
}

func (s *Store) ReadStream(ctx context.Context, identity string, after uint64, limit int) ([]store.Delivery, error) {
	var ds []store.Delivery
	err := s.read(ctx, func(tx *sql.Tx) error {
		_, last, found, err := streamLast(ctx, tx, identity)
		if err != nil || !found {
			return err // no stream yet: nothing in it
		}
		after = max(after, s.retainedAfter(last))
		// The moved links first, then the pending ones, which all come after them.
		rows, err := tx.QueryContext(ctx, `SELECT ue.stream_offset, e.name, e.payload
			FROM user_events ue JOIN events e ON e.id = ue.event_id
			WHERE ue.identity = ? AND ue.stream_offset > ? ORDER BY ue.stream_offset LIMIT ?`, identity, after, limit)
		if ds, err = scanDeliveries(identity, ds, rows, err); err != nil || len(ds) >= limit {
			return err
		}
		rows, err = tx.QueryContext(ctx, `SELECT pl.stream_offset, e.name, e.payload
			FROM pending_links pl JOIN events e ON e.id = pl.event_id
			WHERE pl.shard = ? AND pl.identity = ? AND pl.stream_offset > ? ORDER BY pl.stream_offset LIMIT ?`,
			linkShard(identity), identity, after, limit-len(ds))
		ds, err = scanDeliveries(identity, ds, rows, err)
		return err
	})
	return ds, err
}

// scanDeliveries appends the (offset, event, payload) rows of a stream query to ds.
func scanDeliveries(identity string, ds []store.Delivery, rows *sql.Rows, err error) ([]store.Delivery, error) {
	if err != nil {
		return ds, err
	}
	defer rows.Close()
	for rows.Next() {
		d := store.Delivery{Identity: identity}
		var p string
		if err := rows.Scan(&d.Offset, &d.Event, &p); err != nil {
			return ds, err
		}
		d.Payload = wire.RawJSON(p)
		ds = append(ds, d)
	}
	return ds, rows.Err()
}

// appendEvent stores payload once and appends it to each recipient's stream: an offset
// from the writer's heads (heads.go), a link filed pending (links.go). It runs inside the
// transaction of the change it reports.
func (s *Store) appendEvent(ctx context.Context, tx *sql.Tx, name string, v any, recipients []string) ([]store.Delivery, error) {
	payload, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return s.appendEventFor(ctx, tx, name, recipients, func(string) any { return wire.RawJSON(payload) })
}

// appendEventFor is appendEvent with a payload per recipient: recipients with identical
// payloads share one stored row; the first row is the event, the others its variants.
func (s *Store) appendEventFor(ctx context.Context, tx *sql.Tx, name string, recipients []string, payloadFor func(identity string) any) ([]store.Delivery, error) {
	type row struct {
		id      int64
		payload []byte
	}
	rows := map[string]row{}
	var first int64
	eventFor := func(identity string) (row, error) {
		var payload []byte
		switch v := payloadFor(identity).(type) {
		case wire.RawJSON:
			payload = v
		default:
			var err error
			if payload, err = json.Marshal(v); err != nil {
				return row{}, err
			}
		}
		if r, ok := rows[string(payload)]; ok {
			return r, nil
		}
		var variantOf sql.NullInt64
		if first != 0 {
			variantOf = sql.NullInt64{Int64: first, Valid: true}
		}
		r := row{payload: payload}
		if err := tx.QueryRowContext(ctx, `INSERT INTO events (name, payload, variant_of) VALUES (?, ?, ?) RETURNING id`,
			name, string(payload), variantOf).Scan(&r.id); err != nil {
			return row{}, err
		}
		if first == 0 {
			first = r.id
		}
		rows[string(payload)] = r
		return r, nil
	}
	if len(recipients) == 0 {
		// Nobody's stream gets it, but the events log still records every change.
		_, err := eventFor("")
		return nil, err
	}
	// A stream gets an event once, even if a caller lists its owner twice.
	seen := make(map[string]bool, len(recipients))
	uniq := recipients[:0:0]
	for _, id := range recipients {
		if !seen[id] {
			seen[id] = true
			uniq = append(uniq, id)
		}
	}
	recipients = uniq
	offsets, err := s.heads.take(ctx, tx, recipients)
	if err != nil {
		return nil, err
	}
	ds := make([]store.Delivery, 0, len(recipients))
	links := make([][3]any, 0, len(recipients))
	at := time.Now() // for the fan-out latency metric
	for i, id := range recipients {
		ev, err := eventFor(id)
		if err != nil {
			return nil, err
		}
		off := offsets[i]
		links = append(links, [3]any{id, off, ev.id})
		ds = append(ds, store.Delivery{Identity: id, Offset: off, Event: name, Payload: ev.payload, At: at})
	}
	if err := fileLinks(ctx, tx, links); err != nil {
		return nil, err
	}
	return ds, nil
}

// appendWebhookEvent records an event for the webhook dispatcher only: no stream gets it,
// and the pruner leaves it alone.
func appendWebhookEvent(ctx context.Context, tx *sql.Tx, name string, v any) error {
	payload, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO events (name, payload, webhook_only) VALUES (?, ?, 1)`, name, string(payload))
	return err
}
