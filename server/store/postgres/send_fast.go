package postgres

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/server/store/internal/storeutil"
	"github.com/convo-sdk/convo/wire"
)

// errSlowPath: the one-round-trip send does not apply (media to attach, or a conversation
// to wake); send takes the general path.
var errSlowPath = errors.New("postgres: send needs the general path")

// sendFastSQL takes the message index from the conversation's row (locked two statements
// before), stores the message, and appends its event to the members' streams (locked by the
// statement before), as appendSQL does. The event's payload is built around the index,
// which only this statement knows: $13 || index || $14. An inactive or closed conversation
// matches nothing, and nothing is written. Every chat participant has a stream: the add
// creates it in its own transaction, and streams are never deleted.
const sendFastSQL = `WITH conv AS (
		UPDATE conversations SET last_message_index = COALESCE(last_message_index, -1) + 1, last_message_date = $8,
			inactive_at = $8 + inactive_after_ms, closed_at = $8 + closed_after_ms
		WHERE sid = $2 AND state = 'active' RETURNING last_message_index AS idx),
	msg AS (
		INSERT INTO messages (sid, conversation_sid, idx, author, participant_sid, body, attributes, date_created, date_updated,
			idempotency_key, subject, content_sid, content_variables)
		SELECT $1, $2, conv.idx, $3, $4, $5, $6, $8, $8, $7, $9, $10, $11 FROM conv),
	ev AS (
		INSERT INTO events (name, payload) SELECT $12, $13::text || conv.idx::text || $14::text FROM conv RETURNING id),
	up AS (
		UPDATE streams SET next_offset = next_offset + 1
		WHERE identity IN (SELECT identity FROM participants WHERE conversation_sid = $2 AND type = 'chat')
		AND EXISTS (SELECT 1 FROM conv)
		RETURNING identity, next_offset - 1 AS off),
	link AS (
		INSERT INTO user_events (identity, stream_offset, event_id) SELECT up.identity, up.off, ev.id FROM up, ev),
	gone AS (
		DELETE FROM user_events WHERE ctid = ANY (ARRAY (
			SELECT old.ctid FROM up, LATERAL (
				SELECT ctid FROM user_events
				WHERE identity = up.identity AND stream_offset <= up.off - $15
				ORDER BY stream_offset LIMIT 100) old)))
	SELECT conv.idx, up.identity, up.off FROM conv LEFT JOIN up ON true`

// sendFast sends a message without media to an active conversation in one round trip:
// BEGIN, the locks, sendFastSQL and COMMIT go out as one pipeline, so the conversation's
// lock is held for the statements and the commit only, never for a round trip. It returns
// errSlowPath when the conversation turns out inactive (waking it emits more events).
func (s *Store) sendFast(ctx context.Context, nm store.NewMessage) (wire.Message, []store.Delivery, error) {
	t := storeutil.Now()
	m := wire.Message{Sid: store.NewSid(store.PrefixMessage), ConversationSid: nm.ConversationSid, Author: nm.Author,
		ParticipantSid: nm.ParticipantSid, Body: clone(nm.Body), Subject: clone(nm.Subject),
		Attributes: wire.RawJSON(storeutil.Attrs(nm.Attributes)), ContentSid: nm.ContentSid,
		DateCreated: storeutil.FromMillis(t), DateUpdated: storeutil.FromMillis(t)}
	var vars *string
	if len(nm.ContentVariables) > 0 {
		m.ContentVariables = slices.Clone(nm.ContentVariables)
		b, err := json.Marshal(m.ContentVariables)
		if err != nil {
			return m, nil, err
		}
		v := string(b)
		vars = &v
	}
	prefix, suffix, err := splitAtIndex(m)
	if err != nil {
		return m, nil, err
	}
	var (
		state   string
		locked  []recipient
		offsets map[string]int64
		bumped  bool
	)
	err = s.pipeline(ctx, func(b *pgx.Batch) {
		state, locked, offsets, bumped = "", nil, map[string]int64{}, false
		b.Queue(`SELECT state FROM conversations WHERE sid = $1 FOR NO KEY UPDATE`, nm.ConversationSid).QueryRow(func(row pgx.Row) error {
			return notFound(row.Scan(&state))
		})
		b.Queue(`SELECT s.identity, p.id FROM streams s JOIN participants p ON p.identity = s.identity
			WHERE p.conversation_sid = $1 AND p.type = 'chat' ORDER BY s.identity FOR UPDATE OF s`, nm.ConversationSid).
			Query(func(rows pgx.Rows) error {
				var r recipient
				_, err := pgx.ForEachRow(rows, []any{&r.identity, &r.order}, func() error {
					locked = append(locked, r)
					return nil
				})
				return err
			})
		b.Queue(sendFastSQL, m.Sid, m.ConversationSid, m.Author, nullText(m.ParticipantSid), m.Body, string(m.Attributes),
			nullText(nm.IdempotencyKey), t, m.Subject, nullText(m.ContentSid), vars,
			wire.EventMessageAdded, string(prefix), string(suffix), s.retention).Query(func(rows pgx.Rows) error {
			var (
				identity *string
				off      *int64
			)
			_, err := pgx.ForEachRow(rows, []any{&m.Index, &identity, &off}, func() error {
				bumped = true
				if identity != nil {
					offsets[*identity] = *off
				}
				return nil
			})
			return err
		})
	})
	if uniqueViolation(err, "messages_idempotency") {
		return m, nil, errDuplicateKey
	}
	if err != nil {
		return m, nil, err
	}
	switch {
	case state == wire.StateClosed:
		return m, nil, store.ErrClosed
	case state != wire.StateActive:
		return m, nil, errSlowPath
	case !bumped || len(offsets) != len(locked):
		return m, nil, fmt.Errorf("postgres: %d of %d streams took message %s", len(offsets), len(locked), m.Sid)
	}
	slices.SortFunc(locked, func(a, b recipient) int { return cmp.Compare(a.order, b.order) })
	ids := make([]string, len(locked))
	for i, mb := range locked {
		ids[i] = mb.identity
	}
	payload := slices.Concat(prefix, fmt.Appendf(nil, "%d", m.Index), suffix)
	return m, deliveries(wire.EventMessageAdded, ids, offsets, time.Now(), func(int) []byte { return payload }), nil
}

// recipient is a member whose stream a send locked, with its place in the conversation
// (participants.id), which orders the deliveries as the sqlite store does.
type recipient struct {
	identity string
	order    int64
}

// splitAtIndex encodes m's messageAdded payload around its index: the index is written as
// a random number and the encoding split at its first occurrence. Only the index field
// comes out as that number before any client-supplied JSON could, and a client cannot
// guess it.
func splitAtIndex(m wire.Message) (prefix, suffix []byte, err error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1e17))
	if err != nil {
		return nil, nil, err
	}
	m.Index = n.Int64() + 1e17 // 18 digits
	b, err := json.Marshal(wire.MessageEvent{Message: m})
	if err != nil {
		return nil, nil, err
	}
	mark := fmt.Appendf(nil, `"index":%d`, m.Index)
	i := bytes.Index(b, mark)
	if i < 0 {
		return nil, nil, fmt.Errorf("postgres: message payload without its index")
	}
	return b[:i+len(`"index":`)], b[i+len(mark):], nil
}
