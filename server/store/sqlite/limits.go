package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/convo-sdk/convo/server/store/internal/storeutil"
)

// TakeToken refills and takes in one upsert; the WHERE leaves an empty bucket as it is and
// returns no row. Writes are serialised by the store's single writer.
func (s *Store) TakeToken(ctx context.Context, key string, rate float64, burst int) (bool, error) {
	var ok bool
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var left float64
		err := tx.QueryRowContext(ctx, `INSERT INTO rate_buckets (key, tokens, at) VALUES (?1, ?2 - 1, ?4)
			ON CONFLICT (key) DO UPDATE SET
				tokens = min(?2, tokens + max(0, ?4 - at) * ?3 / 1000.0) - 1, at = max(at, ?4)
			WHERE min(?2, tokens + max(0, ?4 - at) * ?3 / 1000.0) >= 1
			RETURNING tokens`, key, float64(burst), rate, storeutil.Now()).Scan(&left)
		ok = err == nil
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		return err
	})
	return ok, err
}

func (s *Store) AcquireLease(ctx context.Context, key, holder, node string, max int, expires time.Time) (bool, error) {
	var ok bool
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		ok = false
		now := storeutil.Now()
		if _, err := tx.ExecContext(ctx, `DELETE FROM leases WHERE key = ? AND expires < ? AND holder <> ?`, key, now, holder); err != nil {
			return err
		}
		var held int
		var mine bool
		if err := tx.QueryRowContext(ctx, `SELECT count(*), coalesce(max(holder = ?), 0) FROM leases WHERE key = ?`, holder, key).Scan(&held, &mine); err != nil {
			return err
		}
		if !mine && held >= max {
			return nil
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO leases (key, holder, node, expires) VALUES (?, ?, ?, ?)
			ON CONFLICT (key, holder) DO UPDATE SET node = excluded.node, expires = excluded.expires`, key, holder, node, expires.UnixMilli())
		ok = err == nil
		return err
	})
	return ok, err
}

func (s *Store) RenewLeases(ctx context.Context, node string, expires, idleBefore time.Time) error {
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE leases SET expires = ? WHERE node = ?`, expires.UnixMilli(), node); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM leases WHERE expires < ?`, storeutil.Now()); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM rate_buckets WHERE at < ?`, idleBefore.UnixMilli())
		return err
	})
}

func (s *Store) ReleaseLease(ctx context.Context, key, holder string) error {
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM leases WHERE key = ? AND holder = ?`, key, holder)
		return err
	})
}
