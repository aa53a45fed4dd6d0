package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/server/store/internal/storeutil"
	"github.com/convo-sdk/convo/wire"
)

func (s *Store) User(ctx context.Context, identity string) (wire.User, error) {
	return userWithReach(ctx, s.pool, identity)
}

// userWithReach is the user's record with IsNotifiable, in one statement.
func userWithReach(ctx context.Context, q querier, identity string) (wire.User, error) {
	u := wire.User{Identity: identity}
	var a string
	err := q.QueryRow(ctx, `SELECT friendly_name, attributes,
			EXISTS (SELECT 1 FROM push_registrations WHERE identity = $1)
		FROM users WHERE identity = $1`, identity).Scan(&u.FriendlyName, &a, &u.IsNotifiable)
	u.Attributes = wire.RawJSON(a)
	return u, notFound(err)
}

func (s *Store) UpdateUser(ctx context.Context, identity string, friendlyName *string, attributes wire.RawJSON) (wire.User, []string, error) {
	var (
		u       wire.User
		reasons []string
	)
	err := s.write(ctx, func(tx pgx.Tx) error {
		reasons = nil
		if err := ensureUser(ctx, tx, identity); err != nil {
			return err
		}
		var a string
		if err := tx.QueryRow(ctx, `SELECT friendly_name, attributes FROM users WHERE identity = $1 FOR UPDATE`, identity).
			Scan(&u.FriendlyName, &a); err != nil {
			return err
		}
		name, attrs := u.FriendlyName, wire.RawJSON(a)
		if friendlyName != nil && *friendlyName != name {
			reasons, name = append(reasons, wire.ReasonFriendlyName), *friendlyName
		}
		if attributes != nil && !storeutil.JSONEqual(attributes, attrs) {
			reasons, attrs = append(reasons, wire.ReasonAttributes), attributes
		}
		if len(reasons) > 0 {
			if _, err := tx.Exec(ctx, `UPDATE users SET friendly_name = $1, attributes = $2 WHERE identity = $3`,
				name, storeutil.Attrs(attrs), identity); err != nil {
				return err
			}
		}
		var err error
		u, err = userWithReach(ctx, tx, identity)
		return err
	})
	return u, reasons, err
}

func (s *Store) PushRegistrations(ctx context.Context, ids []string) (map[string][]store.PushRegistration, error) {
	out := map[string][]store.PushRegistration{}
	if len(ids) == 0 {
		return out, nil
	}
	rows, _ := s.pool.Query(ctx, `SELECT identity, channel_type, registration_id FROM push_registrations
		WHERE identity = ANY($1) ORDER BY identity, date_created, channel_type, registration_id`, ids)
	var r store.PushRegistration
	_, err := pgx.ForEachRow(rows, []any{&r.Identity, &r.ChannelType, &r.RegistrationID}, func() error {
		out[r.Identity] = append(out[r.Identity], r)
		return nil
	})
	return out, err
}

func (s *Store) AddPushRegistration(ctx context.Context, r store.PushRegistration) (bool, error) {
	var added bool
	err := s.write(ctx, func(tx pgx.Tx) error {
		if err := ensureUser(ctx, tx, r.Identity); err != nil {
			return err
		}
		// A device registering again is alive: it becomes the newest (seq) and is dropped
		// last. xmax is 0 on a row this statement inserted rather than updated.
		if err := tx.QueryRow(ctx, `INSERT INTO push_registrations (identity, channel_type, registration_id, date_created)
			VALUES ($1, $2, $3, $4)
			ON CONFLICT (identity, channel_type, registration_id) DO UPDATE
				SET date_created = excluded.date_created, seq = nextval('push_registrations_seq')
			RETURNING xmax = 0`, r.Identity, r.ChannelType, r.RegistrationID, storeutil.Now()).Scan(&added); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM push_registrations WHERE identity = $1 AND seq NOT IN (
			SELECT seq FROM push_registrations WHERE identity = $1 ORDER BY seq DESC LIMIT $2)`,
			r.Identity, store.MaxPushRegistrations)
		return err
	})
	return added, err
}

func (s *Store) RemovePushRegistrations(ctx context.Context, identity, channelType, registrationID string) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM push_registrations WHERE identity = $1 AND channel_type = $2
		AND ($3 = '' OR registration_id = $3)`, identity, channelType, registrationID)
	return tag.RowsAffected(), err
}
