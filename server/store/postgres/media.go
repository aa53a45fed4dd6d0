package postgres

import (
	"context"
	"time"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/server/store/internal/storeutil"
)

func (s *Store) CreateMedia(ctx context.Context, m store.MediaRecord) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO media (sid, owner, category, filename, content_type, size, date_created)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, m.Sid, m.Owner, m.Category, m.Filename, m.ContentType, m.Size, storeutil.Now())
	return err
}

func (s *Store) Media(ctx context.Context, sid string) (store.MediaRecord, error) {
	var (
		m         store.MediaRecord
		conv, msg *string
		created   int64
	)
	err := s.pool.QueryRow(ctx, `SELECT sid, owner, category, filename, content_type, size, conversation_sid, message_sid, date_created
		FROM media WHERE sid = $1`, sid).Scan(&m.Sid, &m.Owner, &m.Category, &m.Filename, &m.ContentType, &m.Size, &conv, &msg, &created)
	if err != nil {
		return m, notFound(err)
	}
	m.ConversationSid, m.MessageSid, m.DateCreated = storeutil.Deref(conv), storeutil.Deref(msg), storeutil.FromMillis(created)
	return m, nil
}

func (s *Store) DeleteMedia(ctx context.Context, sids []string) error {
	if len(sids) == 0 {
		return nil
	}
	_, err := s.pool.Exec(ctx, `DELETE FROM media WHERE sid = ANY($1)`, sids)
	return err
}

// DeleteUnattachedMedia picks and deletes in one statement; a media attached meanwhile no
// longer matches and stays, and SKIP LOCKED leaves those a send is attaching right now.
func (s *Store) DeleteUnattachedMedia(ctx context.Context, before time.Time, limit int) ([]string, error) {
	return queryStrings(ctx, s.pool, `DELETE FROM media WHERE sid IN (
			SELECT sid FROM media WHERE message_sid IS NULL AND date_created < $1
			ORDER BY date_created LIMIT $2 FOR UPDATE SKIP LOCKED)
		AND message_sid IS NULL RETURNING sid`, before.UnixMilli(), limit)
}
