package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/server/store/internal/storeutil"
	"github.com/convo-sdk/convo/wire"
)

// SendMessage is the hot path. A message without media to an active conversation takes
// one round trip (sendFast); otherwise send takes two inside its transaction: the first
// takes the conversation's lock and next index, reads the members and locks their streams,
// and attaches the media; the second inserts the message and appends its event. An
// idempotency key already used fails the insert on its unique index; the transaction rolls
// back (the index it took with it) and the first message is read and returned.
func (s *Store) SendMessage(ctx context.Context, nm store.NewMessage) (wire.Message, bool, []store.Delivery, error) {
	for {
		var (
			m   wire.Message
			ds  []store.Delivery
			err = errSlowPath
		)
		if len(nm.MediaSids) == 0 {
			m, ds, err = s.sendFast(ctx, nm)
		}
		if errors.Is(err, errSlowPath) {
			m, ds, err = s.send(ctx, nm)
		}
		if err == nil {
			return m, true, ds, nil
		}
		retried := errors.Is(err, errDuplicateKey)
		// A retried send finds its message even if the conversation closed, or its media
		// went to that message, since.
		if nm.IdempotencyKey != "" && (retried || errors.Is(err, store.ErrClosed) || errors.Is(err, store.ErrNotFound) ||
			errors.Is(err, store.ErrMediaUnusable)) {
			prev, perr := s.messageByKey(ctx, nm)
			switch {
			case perr == nil:
				return prev, false, nil, nil
			case !errors.Is(perr, store.ErrNotFound):
				return wire.Message{}, false, nil, perr
			case retried:
				continue // the first message was removed meanwhile: the key is free again
			}
		}
		return wire.Message{}, false, nil, err
	}
}

func (s *Store) send(ctx context.Context, nm store.NewMessage) (wire.Message, []store.Delivery, error) {
	var vars *string
	if len(nm.ContentVariables) > 0 {
		b, err := json.Marshal(nm.ContentVariables)
		if err != nil {
			return wire.Message{}, nil, err
		}
		v := string(b)
		vars = &v
	}
	var (
		m  wire.Message
		ds []store.Delivery
	)
	err := s.write(ctx, func(tx pgx.Tx) error {
		t := storeutil.Now()
		m = wire.Message{Sid: store.NewSid(store.PrefixMessage), ConversationSid: nm.ConversationSid, Author: nm.Author,
			ParticipantSid: nm.ParticipantSid, Body: clone(nm.Body), Subject: clone(nm.Subject),
			Attributes: wire.RawJSON(storeutil.Attrs(nm.Attributes)), ContentSid: nm.ContentSid,
			DateCreated: storeutil.FromMillis(t), DateUpdated: storeutil.FromMillis(t)}
		if vars != nil {
			m.ContentVariables = slices.Clone(nm.ContentVariables)
		}
		var (
			state   string
			members []string
			locked  []string
			bumped  bool
		)
		b := &pgx.Batch{}
		b.Queue(`SELECT state FROM conversations WHERE sid = $1 FOR NO KEY UPDATE`, nm.ConversationSid).QueryRow(func(row pgx.Row) error {
			return notFound(row.Scan(&state))
		})
		// Activity restarts the lifecycle timers and wakes an inactive conversation.
		b.Queue(`UPDATE conversations SET last_message_index = COALESCE(last_message_index, -1) + 1, last_message_date = $2,
				state = 'active', state_date = CASE WHEN state = 'inactive' THEN $2 ELSE state_date END,
				inactive_at = $2 + inactive_after_ms, closed_at = $2 + closed_after_ms
			WHERE sid = $1 AND state <> 'closed' RETURNING last_message_index`, nm.ConversationSid, t).Query(func(rows pgx.Rows) error {
			_, err := pgx.ForEachRow(rows, []any{&m.Index}, func() error { bumped = true; return nil })
			return err
		})
		b.Queue(`SELECT identity FROM participants WHERE conversation_sid = $1 AND type = 'chat' ORDER BY id`, nm.ConversationSid).
			Query(collectStrings(&members))
		b.Queue(`SELECT s.identity FROM streams s WHERE s.identity IN (
				SELECT identity FROM participants WHERE conversation_sid = $1 AND type = 'chat')
			ORDER BY s.identity FOR UPDATE OF s`, nm.ConversationSid).Query(collectStrings(&locked))
		if len(nm.MediaSids) > 0 {
			b.Queue(`UPDATE media m SET conversation_sid = $1, message_sid = $2, position = t.pos - 1
				FROM unnest($3::text[]) WITH ORDINALITY AS t(sid, pos)
				WHERE m.sid = t.sid AND m.owner = $4 AND m.message_sid IS NULL
				RETURNING m.position, m.sid, m.category, m.filename, m.content_type, m.size`,
				nm.ConversationSid, m.Sid, nm.MediaSids, nm.Author).Query(func(rows pgx.Rows) error {
				var (
					pos int
					md  wire.Media
				)
				m.Media = make([]wire.Media, len(nm.MediaSids))
				n := 0
				_, err := pgx.ForEachRow(rows, []any{&pos, &md.Sid, &md.Category, &md.Filename, &md.ContentType, &md.Size}, func() error {
					m.Media[pos], n = md, n+1
					return nil
				})
				if err == nil && n != len(nm.MediaSids) && bumped {
					err = store.ErrMediaUnusable // (a closed conversation says so first)
				}
				return err
			})
		}
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
		if !bumped {
			return store.ErrClosed // the row is there (the lock found it), closed
		}
		l := s.events(tx)
		for _, id := range locked {
			l.locked[id] = true
		}
		if err := l.lock(ctx, members); err != nil { // streams missing so far: created
			return err
		}
		ev, err := json.Marshal(wire.MessageEvent{Message: m})
		if err != nil {
			return err
		}
		b = &pgx.Batch{}
		b.Queue(`INSERT INTO messages (sid, conversation_sid, idx, author, participant_sid, body, attributes, date_created, date_updated,
				idempotency_key, subject, content_sid, content_variables)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10, $11, $12)`,
			m.Sid, m.ConversationSid, m.Index, m.Author, nullText(m.ParticipantSid), m.Body, string(m.Attributes), t,
			nullText(nm.IdempotencyKey), m.Subject, nullText(m.ContentSid), vars)
		offsets := map[string]int64{}
		l.queueGroup(b, wire.EventMessageAdded, ev, nil, members, offsets, new(int64))
		err = tx.SendBatch(ctx, b).Close()
		if uniqueViolation(err, "messages_idempotency") {
			return errDuplicateKey
		}
		if err != nil {
			return err
		}
		ds = deliveries(wire.EventMessageAdded, members, offsets, l.at, func(int) []byte { return ev })
		if state == wire.StateInactive {
			woke, err := s.announceState(ctx, l, nm.ConversationSid)
			ds = append(ds, woke...)
			return err
		}
		return nil
	})
	return m, ds, err
}

func clone[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// collectStrings returns a batch callback that reads one text column into *dst.
func collectStrings(dst *[]string) func(pgx.Rows) error {
	return func(rows pgx.Rows) error {
		var err error
		*dst, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	}
}
