package sqlite

import (
	"context"
	"database/sql"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/server/store/internal/storeutil"
	"github.com/convo-sdk/convo/wire"
)

// messageCols are the columns every insert sets; messageSelect those a read scans. Media
// and receipts come from their own tables (loadMessageExtras).
const messageCols = `sid, conversation_sid, idx, author, participant_sid, body, attributes, date_created, date_updated`

const messageSelect = messageCols + `, subject, content_sid, content_variables, last_updated_by`

func (s *Store) message(ctx context.Context, q querier, conv, sid string) (wire.Message, error) {
	m, err := scan.Message(q.QueryRowContext(ctx, `SELECT `+messageSelect+` FROM messages WHERE conversation_sid = ? AND sid = ?`, conv, sid))
	if err != nil {
		return m, err
	}
	return m, loadMessageExtras(ctx, q, []*wire.Message{&m})
}

func (s *Store) Message(ctx context.Context, conv, sid string) (wire.Message, error) {
	var m wire.Message
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		m, err = s.message(ctx, tx, conv, sid)
		return err
	})
	return m, err
}

// loadMessageExtras fills the media and aggregated receipts of messages.
func loadMessageExtras(ctx context.Context, q querier, ms []*wire.Message) error {
	if len(ms) == 0 {
		return nil
	}
	x := storeutil.NewMessageExtras(ms)
	args := make([]any, len(ms))
	for i, sid := range x.Sids {
		args[i] = sid
	}
	in := placeholders(len(ms))
	rows, err := q.QueryContext(ctx, `SELECT message_sid, sid, category, filename, content_type, size FROM media
		WHERE message_sid IN (`+in+`) ORDER BY message_sid, position`, args...)
	if err != nil {
		return err
	}
	for rows.Next() {
		var (
			msg string
			md  wire.Media
		)
		if err := rows.Scan(&msg, &md.Sid, &md.Category, &md.Filename, &md.ContentType, &md.Size); err != nil {
			rows.Close()
			return err
		}
		x.AddMedia(msg, md)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	rows, err = q.QueryContext(ctx, `SELECT message_sid, status, COUNT(*) FROM receipts
		WHERE message_sid IN (`+in+`) GROUP BY message_sid, status`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			msg, status string
			n           int
		)
		if err := rows.Scan(&msg, &status, &n); err != nil {
			return err
		}
		x.AddReceipts(msg, status, n)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	x.Done()
	return nil
}

func (s *Store) Messages(ctx context.Context, q store.MessageQuery) (wire.MessagePage, error) {
	page := wire.MessagePage{Items: []wire.Message{}}
	if q.PageSize <= 0 {
		q.PageSize = wire.DefaultMessagePageSize
	}
	err := s.read(ctx, func(tx *sql.Tx) error {
		var (
			query string
			args  = []any{q.ConversationSid}
		)
		switch {
		case q.Forward && q.Anchor != nil:
			query, args = `AND idx >= ? ORDER BY idx ASC`, append(args, *q.Anchor)
		case q.Forward:
			query = `ORDER BY idx ASC`
		case q.Anchor != nil:
			query, args = `AND idx <= ? ORDER BY idx DESC`, append(args, *q.Anchor)
		default:
			query = `ORDER BY idx DESC`
		}
		items, err := queryMessages(ctx, tx, `SELECT `+messageSelect+` FROM messages WHERE conversation_sid = ? `+query+` LIMIT ?`,
			append(args, q.PageSize+1)...)
		if err != nil {
			return err
		}
		page.Items = items
		more := len(page.Items) > q.PageSize
		if more {
			page.Items = page.Items[:q.PageSize]
		}
		if !q.Forward {
			for i, j := 0, len(page.Items)-1; i < j; i, j = i+1, j-1 {
				page.Items[i], page.Items[j] = page.Items[j], page.Items[i]
			}
		}
		if err := loadMessageExtras(ctx, tx, pointers(page.Items)); err != nil {
			return err
		}
		// The side the query walked towards is known from the extra row; look at the other.
		exists := func(cond string, idx int64) (bool, error) {
			var n int
			err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM messages WHERE conversation_sid = ? AND idx `+cond+` ? LIMIT 1) t`,
				q.ConversationSid, idx).Scan(&n)
			return n > 0, err
		}
		if q.Forward {
			page.HasNext = more
			if q.Anchor != nil {
				page.HasPrev, err = exists("<", *q.Anchor)
			}
		} else {
			page.HasPrev = more
			if q.Anchor != nil {
				page.HasNext, err = exists(">", *q.Anchor)
			}
		}
		return err
	})
	return page, err
}

func (s *Store) UpdateMessage(ctx context.Context, u store.MessageUpdate) (wire.Message, []store.Delivery, error) {
	var (
		m  wire.Message
		ds []store.Delivery
	)
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		old, err := s.message(ctx, tx, u.ConversationSid, u.Sid)
		if err != nil {
			return err
		}
		m = old
		reasons, body, a := storeutil.MessageEdit(old, u)
		if reasons == nil {
			return nil
		}
		var b sql.NullString
		if body != nil {
			b = sql.NullString{String: *body, Valid: true}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE messages SET body = ?, attributes = ?, last_updated_by = ?, date_updated = ? WHERE sid = ?`,
			b, storeutil.Attrs(a), u.By, storeutil.Now(), u.Sid); err != nil {
			return err
		}
		if m, err = s.message(ctx, tx, u.ConversationSid, u.Sid); err != nil {
			return err
		}
		ids, err := participantIdentities(ctx, tx, u.ConversationSid)
		if err != nil {
			return err
		}
		ds, err = s.appendEvent(ctx, tx, wire.EventMessageUpdated, wire.MessageUpdatedEvent{Message: m, UpdateReasons: reasons}, ids)
		return err
	})
	return m, ds, err
}

func (s *Store) RemoveMessage(ctx context.Context, conv, sid string) (wire.Message, []store.Delivery, error) {
	var (
		m  wire.Message
		ds []store.Delivery
	)
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		if m, err = s.message(ctx, tx, conv, sid); err != nil {
			return err
		}
		if err := eraseMessage(ctx, tx, sid); err != nil {
			return err
		}
		for _, q := range []string{
			`DELETE FROM media WHERE message_sid = ?`,
			`DELETE FROM receipts WHERE message_sid = ?`,
			`DELETE FROM messages WHERE sid = ?`,
		} {
			if _, err := tx.ExecContext(ctx, q, sid); err != nil {
				return err
			}
		}
		ids, err := participantIdentities(ctx, tx, conv)
		if err != nil {
			return err
		}
		ds, err = s.appendEvent(ctx, tx, wire.EventMessageRemoved, wire.MessageEvent{Message: m.Redacted()}, ids)
		return err
	})
	return m, ds, err
}

func (s *Store) MessagesByAuthor(ctx context.Context, author, after string, limit int) ([]wire.Message, error) {
	var ms []wire.Message
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		ms, err = queryMessages(ctx, tx, `SELECT `+messageSelect+` FROM messages WHERE author = ? AND sid > ? ORDER BY sid LIMIT ?`,
			author, after, limit)
		if err != nil {
			return err
		}
		return loadMessageExtras(ctx, tx, pointers(ms))
	})
	return ms, err
}

// queryMessages runs a SELECT of messageSelect's columns and scans every row.
func queryMessages(ctx context.Context, tx *sql.Tx, query string, args ...any) ([]wire.Message, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	ms := []wire.Message{} // a page of none is [], not null
	for rows.Next() {
		m, err := scan.Message(rows)
		if err != nil {
			return nil, err
		}
		ms = append(ms, m)
	}
	return ms, rows.Err()
}

// pointers returns a pointer to each of ms, for loadMessageExtras to fill in.
func pointers(ms []wire.Message) []*wire.Message {
	ptrs := make([]*wire.Message, len(ms))
	for i := range ms {
		ptrs[i] = &ms[i]
	}
	return ptrs
}
