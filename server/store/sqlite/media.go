package sqlite

import (
	"context"
	"database/sql"
	"slices"
	"time"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/server/store/internal/storeutil"
)

func (s *Store) CreateMedia(ctx context.Context, m store.MediaRecord) error {
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO media (sid, owner, category, filename, content_type, size, date_created)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, m.Sid, m.Owner, m.Category, m.Filename, m.ContentType, m.Size, storeutil.Now())
		return err
	})
}

// attachMedia attaches the author's unattached media to a message, in order.
func attachMedia(ctx context.Context, tx *sql.Tx, conv, msg, author string, sids []string) error {
	for i, sid := range sids {
		res, err := tx.ExecContext(ctx, `UPDATE media SET conversation_sid = ?, message_sid = ?, position = ?
			WHERE sid = ? AND owner = ? AND message_sid IS NULL`, conv, msg, i, sid, author)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n != 1 {
			return store.ErrMediaUnusable
		}
	}
	return nil
}

func (s *Store) Media(ctx context.Context, sid string) (store.MediaRecord, error) {
	var (
		m         store.MediaRecord
		conv, msg sql.NullString
		created   int64
	)
	err := s.r.QueryRowContext(ctx, `SELECT sid, owner, category, filename, content_type, size, conversation_sid, message_sid, date_created
		FROM media WHERE sid = ?`, sid).Scan(&m.Sid, &m.Owner, &m.Category, &m.Filename, &m.ContentType, &m.Size, &conv, &msg, &created)
	if err != nil {
		return m, notFound(err)
	}
	m.ConversationSid, m.MessageSid, m.DateCreated = conv.String, msg.String, storeutil.FromMillis(created)
	return m, nil
}

func (s *Store) DeleteMedia(ctx context.Context, sids []string) error {
	if len(sids) == 0 {
		return nil
	}
	sids = slices.Clone(sids)
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		for _, sid := range sids {
			if _, err := tx.ExecContext(ctx, `DELETE FROM media WHERE sid = ?`, sid); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *Store) DeleteUnattachedMedia(ctx context.Context, before time.Time, limit int) ([]string, error) {
	var sids []string
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		sids, err = queryStrings(ctx, tx, `SELECT sid FROM media WHERE message_sid IS NULL AND date_created < ?
			ORDER BY date_created LIMIT ?`, before.UnixMilli(), limit)
		if err != nil {
			return err
		}
		for _, sid := range sids {
			if _, err := tx.ExecContext(ctx, `DELETE FROM media WHERE sid = ? AND message_sid IS NULL`, sid); err != nil {
				return err
			}
		}
		return nil
	})
	return sids, err
}
