package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/convo-sdk/convo/server/store/internal/storeutil"
)

// TakeToken refills and takes in one upsert, one round trip: the row lock of ON CONFLICT
// orders concurrent takes from all nodes, and the WHERE leaves an empty bucket as it is and
// returns no row.
func (s *Store) TakeToken(ctx context.Context, key string, rate float64, burst int) (bool, error) {
	var left float64
	err := s.pool.QueryRow(ctx, `INSERT INTO rate_buckets (key, tokens, at) VALUES ($1, $2::float8 - 1, $4)
		ON CONFLICT (key) DO UPDATE SET
			tokens = LEAST($2::float8, rate_buckets.tokens + GREATEST(0, $4 - rate_buckets.at) * $3::float8 / 1000.0) - 1,
			at = GREATEST(rate_buckets.at, $4)
		WHERE LEAST($2::float8, rate_buckets.tokens + GREATEST(0, $4 - rate_buckets.at) * $3::float8 / 1000.0) >= 1
		RETURNING tokens`, key, float64(burst), rate, storeutil.Now()).Scan(&left)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, unavailable(err)
	}
	return true, nil
}

// leaseLockSpace keeps AcquireLease's advisory locks apart from the migration lock.
const leaseLockSpace int32 = 0x6c656173 // "leas"

// AcquireLease counts and inserts under a transaction-scoped advisory lock on the key, so
// that two nodes admitting the same identity at once cannot both take the last lease.
func (s *Store) AcquireLease(ctx context.Context, key, holder, node string, max int, expires time.Time) (bool, error) {
	var ok bool
	err := s.write(ctx, func(tx pgx.Tx) error {
		ok = false
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, leaseLockSpace, key); err != nil {
			return err
		}
		var held int
		var mine bool
		if err := tx.QueryRow(ctx, `WITH gone AS (DELETE FROM leases WHERE key = $1 AND expires < $3 AND holder <> $2)
			SELECT count(*), coalesce(bool_or(holder = $2), false) FROM leases WHERE key = $1 AND (expires >= $3 OR holder = $2)`,
			key, holder, storeutil.Now()).Scan(&held, &mine); err != nil {
			return err
		}
		if !mine && held >= max {
			return nil
		}
		_, err := tx.Exec(ctx, `INSERT INTO leases (key, holder, node, expires) VALUES ($1, $2, $3, $4)
			ON CONFLICT (key, holder) DO UPDATE SET node = excluded.node, expires = excluded.expires`, key, holder, node, expires.UnixMilli())
		ok = err == nil
		return err
	})
	return ok, err
}

func (s *Store) RenewLeases(ctx context.Context, node string, expires, idleBefore time.Time) error {
	b := func(bt *pgx.Batch) {
		bt.Queue(`UPDATE leases SET expires = $1 WHERE node = $2`, expires.UnixMilli(), node)
		bt.Queue(`DELETE FROM leases WHERE expires < $1`, storeutil.Now())
		bt.Queue(`DELETE FROM rate_buckets WHERE at < $1`, idleBefore.UnixMilli())
	}
	return s.pipeline(ctx, b)
}

func (s *Store) ReleaseLease(ctx context.Context, key, holder string) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM leases WHERE key = $1 AND holder = $2`, key, holder)
	return unavailable(err)
}
