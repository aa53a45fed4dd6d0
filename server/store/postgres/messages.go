package postgres

import (
	"context"
	"errors"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/server/store/internal/storeutil"
	"github.com/convo-sdk/convo/wire"
)

// messageSelect are the columns a message read scans. Media and receipts come from their
// own tables (loadMessageExtras).
const messageSelect = `sid, conversation_sid, idx, author, participant_sid, body, attributes, date_created, date_updated,
	subject, content_sid, content_variables, last_updated_by`

func message(ctx context.Context, q querier, conv, sid string) (wire.Message, error) {
	m, err := scan.Message(q.QueryRow(ctx, `SELECT `+messageSelect+` FROM messages WHERE conversation_sid = $1 AND sid = $2`, conv, sid))
	if err != nil {
		return m, err
	}
	return m, loadMessageExtras(ctx, q, []*wire.Message{&m})
}

func (s *Store) Message(ctx context.Context, conv, sid string) (wire.Message, error) {
	var m wire.Message
	err := s.read(ctx, func(tx pgx.Tx) error {
		var err error
		m, err = message(ctx, tx, conv, sid)
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
	rows, _ := q.Query(ctx, `SELECT message_sid, sid, category, filename, content_type, size FROM media
		WHERE message_sid = ANY($1) ORDER BY message_sid, position`, x.Sids)
	var (
		msg string
		md  wire.Media
	)
	if _, err := pgx.ForEachRow(rows, []any{&msg, &md.Sid, &md.Category, &md.Filename, &md.ContentType, &md.Size}, func() error {
		x.AddMedia(msg, md)
		return nil
	}); err != nil {
		return err
	}
	var (
		status string
		n      int
	)
	rows, _ = q.Query(ctx, `SELECT message_sid, status, COUNT(*) FROM receipts
		WHERE message_sid = ANY($1) GROUP BY message_sid, status`, x.Sids)
	if _, err := pgx.ForEachRow(rows, []any{&msg, &status, &n}, func() error {
		x.AddReceipts(msg, status, n)
		return nil
	}); err != nil {
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
	var (
		cond  string
		args  = []any{q.ConversationSid, q.PageSize + 1}
		other string // the side not walked towards, checked for more
	)
	switch {
	case q.Forward && q.Anchor != nil:
		cond, args, other = `AND idx >= $3 ORDER BY idx ASC`, append(args, *q.Anchor), "<"
	case q.Forward:
		cond = `ORDER BY idx ASC`
	case q.Anchor != nil:
		cond, args, other = `AND idx <= $3 ORDER BY idx DESC`, append(args, *q.Anchor), ">"
	default:
		cond = `ORDER BY idx DESC`
	}
	err := s.read(ctx, func(tx pgx.Tx) error {
		page.Items = page.Items[:0]
		rows, _ := tx.Query(ctx, `SELECT `+messageSelect+` FROM messages WHERE conversation_sid = $1 `+cond+` LIMIT $2`, args...)
		items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (wire.Message, error) { return scan.Message(row) })
		if err != nil {
			return err
		}
		page.Items = append(page.Items, items...)
		more := len(page.Items) > q.PageSize
		if more {
			page.Items = page.Items[:q.PageSize]
		}
		if !q.Forward {
			slices.Reverse(page.Items)
		}
		ptrs := make([]*wire.Message, len(page.Items))
		for i := range page.Items {
			ptrs[i] = &page.Items[i]
		}
		if err := loadMessageExtras(ctx, tx, ptrs); err != nil {
			return err
		}
		// The side the query walked towards is known from the extra row; look at the other.
		beyond := false
		if other != "" {
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM messages WHERE conversation_sid = $1 AND idx `+other+` $2)`,
				q.ConversationSid, *q.Anchor).Scan(&beyond); err != nil {
				return err
			}
		}
		if q.Forward {
			page.HasNext, page.HasPrev = more, beyond
		} else {
			page.HasPrev, page.HasNext = more, beyond
		}
		return nil
	})
	return page, err
}

func (s *Store) UpdateMessage(ctx context.Context, u store.MessageUpdate) (wire.Message, []store.Delivery, error) {
	var (
		m  wire.Message
		ds []store.Delivery
	)
	err := s.write(ctx, func(tx pgx.Tx) error {
		ds = nil
		if _, err := lockConversation(ctx, tx, u.ConversationSid); err != nil {
			return err
		}
		old, err := message(ctx, tx, u.ConversationSid, u.Sid)
		if err != nil {
			return err
		}
		m = old
		reasons, body, a := storeutil.MessageEdit(old, u)
		if reasons == nil {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE messages SET body = $1, attributes = $2, last_updated_by = $3, date_updated = $4 WHERE sid = $5`,
			body, storeutil.Attrs(a), u.By, storeutil.Now(), u.Sid); err != nil {
			return err
		}
		if m, err = message(ctx, tx, u.ConversationSid, u.Sid); err != nil {
			return err
		}
		ids, err := participantIdentities(ctx, tx, u.ConversationSid)
		if err != nil {
			return err
		}
		ds, err = s.events(tx).append(ctx, wire.EventMessageUpdated, wire.MessageUpdatedEvent{Message: m, UpdateReasons: reasons}, ids)
		return err
	})
	return m, ds, err
}

func (s *Store) RemoveMessage(ctx context.Context, conv, sid string) (wire.Message, []store.Delivery, error) {
	var (
		m  wire.Message
		ds []store.Delivery
	)
	err := s.write(ctx, func(tx pgx.Tx) error {
		if _, err := lockConversation(ctx, tx, conv); err != nil {
			return err
		}
		var err error
		if m, err = message(ctx, tx, conv, sid); err != nil {
			return err
		}
		if err := redactMessage(ctx, tx, sid); err != nil {
			return err
		}
		for _, q := range []string{
			`DELETE FROM media WHERE message_sid = $1`,
			`DELETE FROM receipts WHERE message_sid = $1`,
			`DELETE FROM messages WHERE sid = $1`,
		} {
			if _, err := tx.Exec(ctx, q, sid); err != nil {
				return err
			}
		}
		if err := giveUpWebhooks(ctx, tx, messageWebhookTypes, sid); err != nil {
			return err
		}
		ids, err := participantIdentities(ctx, tx, conv)
		if err != nil {
			return err
		}
		ds, err = s.events(tx).append(ctx, wire.EventMessageRemoved, wire.MessageEvent{Message: m.Redacted()}, ids)
		return err
	})
	return m, ds, err
}

// messageByKey finds the message an idempotency key already stored; ErrNotFound if none.
func (s *Store) messageByKey(ctx context.Context, nm store.NewMessage) (wire.Message, error) {
	var m wire.Message
	err := s.read(ctx, func(tx pgx.Tx) error {
		var err error
		if m, err = scan.Message(tx.QueryRow(ctx, `SELECT `+messageSelect+` FROM messages
			WHERE conversation_sid = $1 AND author = $2 AND idempotency_key = $3`, nm.ConversationSid, nm.Author, nm.IdempotencyKey)); err != nil {
			return err
		}
		return loadMessageExtras(ctx, tx, []*wire.Message{&m})
	})
	return m, err
}

var errDuplicateKey = errors.New("postgres: idempotency key already used")

func (s *Store) MessagesByAuthor(ctx context.Context, author, after string, limit int) ([]wire.Message, error) {
	var ms []wire.Message
	err := s.read(ctx, func(tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, `SELECT `+messageSelect+` FROM messages WHERE author = $1 AND sid > $2 ORDER BY sid LIMIT $3`,
			author, after, limit)
		var err error
		if ms, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (wire.Message, error) { return scan.Message(row) }); err != nil {
			return err
		}
		ptrs := make([]*wire.Message, len(ms))
		for i := range ms {
			ptrs[i] = &ms[i]
		}
		return loadMessageExtras(ctx, tx, ptrs)
	})
	return ms, err
}
