package sqlite

import (
	"context"
	"database/sql"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/server/store/internal/storeutil"
	"github.com/convo-sdk/convo/wire"
)

func (s *Store) User(ctx context.Context, identity string) (wire.User, error) {
	return s.userFrom(ctx, s.r, identity)
}

// userFrom reads identity's user record through q, with whether it has a push registration.
func (s *Store) userFrom(ctx context.Context, q querier, identity string) (wire.User, error) {
	u, err := s.user(ctx, q, identity)
	if err != nil {
		return u, err
	}
	err = q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM push_registrations WHERE identity = ?)`, identity).Scan(&u.IsNotifiable)
	return u, err
}

func (s *Store) UpdateUser(ctx context.Context, identity string, friendlyName *string, attributes wire.RawJSON) (wire.User, []string, error) {
	var reasons []string
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := ensureUser(ctx, tx, identity); err != nil {
			return err
		}
		u, err := s.user(ctx, tx, identity)
		if err != nil {
			return err
		}
		if friendlyName != nil && *friendlyName != u.FriendlyName {
			reasons = append(reasons, wire.ReasonFriendlyName)
		}
		if attributes != nil && !storeutil.JSONEqual(attributes, u.Attributes) {
			reasons = append(reasons, wire.ReasonAttributes)
		}
		if len(reasons) == 0 {
			return nil
		}
		if friendlyName == nil {
			friendlyName = &u.FriendlyName
		}
		if attributes == nil {
			attributes = u.Attributes
		}
		_, err = tx.ExecContext(ctx, `UPDATE users SET friendly_name = ?, attributes = ? WHERE identity = ?`,
			*friendlyName, storeutil.Attrs(attributes), identity)
		return err
	})
	if err != nil {
		return wire.User{}, nil, err
	}
	u, err := s.userFrom(ctx, s.w, identity)
	return u, reasons, err
}

func (s *Store) PushRegistrations(ctx context.Context, ids []string) (map[string][]store.PushRegistration, error) {
	out := map[string][]store.PushRegistration{}
	if len(ids) == 0 {
		return out, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := s.r.QueryContext(ctx, `SELECT identity, channel_type, registration_id FROM push_registrations
		WHERE identity IN (`+placeholders(len(ids))+`) ORDER BY identity, date_created, channel_type, registration_id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var r store.PushRegistration
		if err := rows.Scan(&r.Identity, &r.ChannelType, &r.RegistrationID); err != nil {
			return nil, err
		}
		out[r.Identity] = append(out[r.Identity], r)
	}
	return out, rows.Err()
}

func (s *Store) AddPushRegistration(ctx context.Context, r store.PushRegistration) (bool, error) {
	var added bool
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := ensureUser(ctx, tx, r.Identity); err != nil {
			return err
		}
		// A device registering again is alive: delete and insert it, so it becomes the newest
		// (rowids grow with insertion) and is dropped last.
		res, err := tx.ExecContext(ctx, `DELETE FROM push_registrations WHERE identity = ? AND channel_type = ? AND registration_id = ?`,
			r.Identity, r.ChannelType, r.RegistrationID)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		added = n == 0
		if _, err := tx.ExecContext(ctx, `INSERT INTO push_registrations (identity, channel_type, registration_id, date_created)
			VALUES (?, ?, ?, ?)`, r.Identity, r.ChannelType, r.RegistrationID, storeutil.Now()); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM push_registrations WHERE identity = ? AND rowid NOT IN (
			SELECT rowid FROM push_registrations WHERE identity = ? ORDER BY rowid DESC LIMIT ?)`,
			r.Identity, r.Identity, store.MaxPushRegistrations)
		return err
	})
	return added, err
}

func (s *Store) RemovePushRegistrations(ctx context.Context, identity, channelType, registrationID string) (int64, error) {
	var n int64
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		q, args := `DELETE FROM push_registrations WHERE identity = ? AND channel_type = ?`, []any{identity, channelType}
		if registrationID != "" {
			q, args = q+` AND registration_id = ?`, append(args, registrationID)
		}
		res, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}
