package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/server/store/internal/storeutil"
	"github.com/convo-sdk/convo/wire"
)

const contentCols = storeutil.ContentCols

func (s *Store) ContentTemplates(ctx context.Context, after string, limit int) ([]wire.ContentTemplate, string, error) {
	afterID, err := storeutil.ParseCursor(after)
	if err != nil {
		return nil, "", err
	}
	rows, err := s.pool.Query(ctx, `SELECT `+contentCols+` FROM content_templates WHERE id > $1 ORDER BY id LIMIT $2`, afterID, limit+1)
	if err != nil {
		return nil, "", err
	}
	return cursorPage(rows, limit, scan.Content)
}

func (s *Store) ContentTemplate(ctx context.Context, sid string) (wire.ContentTemplate, error) {
	t, _, err := scan.Content(s.pool.QueryRow(ctx, `SELECT `+contentCols+` FROM content_templates WHERE sid = $1`, sid))
	return t, err
}

func (s *Store) CreateContentTemplate(ctx context.Context, nt store.NewContentTemplate) (wire.ContentTemplate, error) {
	t := storeutil.Now()
	ct, _, err := scan.Content(s.pool.QueryRow(ctx, `INSERT INTO content_templates (sid, friendly_name, variables, variants, date_created, date_updated)
		VALUES ($1, $2, $3, $4, $5, $5) RETURNING `+contentCols,
		store.NewSid(store.PrefixContent), nt.FriendlyName, storeutil.VariablesJSON(nt.Variables), storeutil.Attrs(nt.Variants), t))
	return ct, err
}

func (s *Store) UpdateContentTemplate(ctx context.Context, sid string, u store.ContentTemplateUpdate) (wire.ContentTemplate, error) {
	var ct wire.ContentTemplate
	err := s.write(ctx, func(tx pgx.Tx) error {
		cur, _, err := scan.Content(tx.QueryRow(ctx, `SELECT `+contentCols+` FROM content_templates WHERE sid = $1 FOR UPDATE`, sid))
		if err != nil {
			return err
		}
		cur = storeutil.ContentEdit(cur, u)
		ct, _, err = scan.Content(tx.QueryRow(ctx, `UPDATE content_templates SET friendly_name = $1, variables = $2, variants = $3,
			date_updated = $4 WHERE sid = $5 RETURNING `+contentCols,
			cur.FriendlyName, storeutil.VariablesJSON(cur.Variables), storeutil.Attrs(cur.Variants), storeutil.Now(), sid))
		return err
	})
	return ct, err
}

func (s *Store) DeleteContentTemplate(ctx context.Context, sid string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM content_templates WHERE sid = $1`, sid)
	if err == nil && tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return err
}
