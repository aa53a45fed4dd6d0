package sqlite

import (
	"context"
	"database/sql"

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
	rows, err := s.r.QueryContext(ctx, `SELECT `+contentCols+` FROM content_templates WHERE id > ? ORDER BY id LIMIT ?`, afterID, limit+1)
	if err != nil {
		return nil, "", err
	}
	return cursorPage(rows, limit, scan.Content)
}

func (s *Store) ContentTemplate(ctx context.Context, sid string) (wire.ContentTemplate, error) {
	t, _, err := scan.Content(s.r.QueryRowContext(ctx, `SELECT `+contentCols+` FROM content_templates WHERE sid = ?`, sid))
	return t, err
}

func (s *Store) CreateContentTemplate(ctx context.Context, nt store.NewContentTemplate) (wire.ContentTemplate, error) {
	sid := store.NewSid(store.PrefixContent)
	t := storeutil.Now()
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO content_templates (sid, friendly_name, variables, variants, date_created, date_updated)
			VALUES (?, ?, ?, ?, ?, ?)`, sid, nt.FriendlyName, storeutil.VariablesJSON(nt.Variables), storeutil.Attrs(nt.Variants), t, t)
		return err
	})
	if err != nil {
		return wire.ContentTemplate{}, err
	}
	ct, _, err := scan.Content(s.w.QueryRowContext(ctx, `SELECT `+contentCols+` FROM content_templates WHERE sid = ?`, sid))
	return ct, err
}

func (s *Store) UpdateContentTemplate(ctx context.Context, sid string, u store.ContentTemplateUpdate) (wire.ContentTemplate, error) {
	var ct wire.ContentTemplate
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		cur, _, err := scan.Content(tx.QueryRowContext(ctx, `SELECT `+contentCols+` FROM content_templates WHERE sid = ?`, sid))
		if err != nil {
			return err
		}
		cur = storeutil.ContentEdit(cur, u)
		if _, err := tx.ExecContext(ctx, `UPDATE content_templates SET friendly_name = ?, variables = ?, variants = ?, date_updated = ?
			WHERE sid = ?`, cur.FriendlyName, storeutil.VariablesJSON(cur.Variables), storeutil.Attrs(cur.Variants), storeutil.Now(), sid); err != nil {
			return err
		}
		ct, _, err = scan.Content(tx.QueryRowContext(ctx, `SELECT `+contentCols+` FROM content_templates WHERE sid = ?`, sid))
		return err
	})
	return ct, err
}

func (s *Store) DeleteContentTemplate(ctx context.Context, sid string) error {
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM content_templates WHERE sid = ?`, sid)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		return nil
	})
}
