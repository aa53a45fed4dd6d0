package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/server/store/internal/storeutil"
	"github.com/convo-sdk/convo/wire"
)

// This file implements store.FeatureStore.

type queryer interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

type extraScanner = storeutil.ExtraScanner

const viewCols = storeutil.ViewCols

// appendWebhookEvent records an event for the webhook dispatcher only: no stream gets it,
// and the pruner leaves it alone.
func appendWebhookEvent(ctx context.Context, tx *sql.Tx, name string, v any) error {
	payload, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO events (name, payload, webhook_only) VALUES (?, ?, 1)`, name, string(payload))
	return err
}

func participantCount(ctx context.Context, tx *sql.Tx, conv string) (int, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM participants WHERE conversation_sid = ?`, conv).Scan(&n)
	return n, err
}

// member is a chat participant's per-user view of its conversation.
type member = storeutil.Member

func members(ctx context.Context, tx *sql.Tx, conv string) ([]member, error) {
	rows, err := tx.QueryContext(ctx, `SELECT identity, notification_level, last_read_index FROM participants
		WHERE conversation_sid = ? AND type = 'chat' ORDER BY id`, conv)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ms []member
	for rows.Next() {
		var (
			m  member
			lr sql.NullInt64
		)
		if err := rows.Scan(&m.Identity, &m.Level, &lr); err != nil {
			return nil, err
		}
		if lr.Valid {
			m.LastRead = &lr.Int64
		}
		ms = append(ms, m)
	}
	return ms, rows.Err()
}

// appendConvEvent emits a conversation event to members, each with its own view: a
// ConversationUpdatedEvent when reasons are given, else a ConversationEvent.
func (s *Store) appendConvEvent(ctx context.Context, tx *sql.Tx, name string, c wire.Conversation, reasons []string, ms []member) ([]store.Delivery, error) {
	ids, payload := storeutil.ConvEvent(c, reasons, ms)
	return s.appendEventFor(ctx, tx, name, ids, payload)
}

// ---- users and push registrations

func (s *Store) User(ctx context.Context, identity string) (wire.User, error) {
	u, err := s.user(ctx, s.r, identity)
	if err != nil {
		return u, err
	}
	err = s.r.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM push_registrations WHERE identity = ?)`, identity).Scan(&u.IsNotifiable)
	return u, err
}

func (s *Store) UpdateUser(ctx context.Context, identity string, friendlyName *string, attributes json.RawMessage) (wire.User, []string, error) {
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

func (s *Store) userFrom(ctx context.Context, q querier, identity string) (wire.User, error) {
	u, err := s.user(ctx, q, identity)
	if err != nil {
		return u, err
	}
	err = q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM push_registrations WHERE identity = ?)`, identity).Scan(&u.IsNotifiable)
	return u, err
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

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
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

// ---- conversations

func (s *Store) ConversationView(ctx context.Context, sid, identity string) (wire.Conversation, *wire.Participant, error) {
	var (
		c wire.Conversation
		p *wire.Participant
	)
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		if c, err = s.conversation(ctx, tx, `c.sid = ?`, sid); err != nil {
			return err
		}
		var level string
		pp, err := scan.Participant(extraScanner{Sc: tx.QueryRowContext(ctx, `SELECT `+participantSelect+`, notification_level
			FROM participants WHERE conversation_sid = ? AND identity = ?`, sid, identity), Extra: []any{&level}})
		c, p, err = storeutil.ParticipantView(c, pp, level, err)
		return err
	})
	return c, p, err
}

func (s *Store) UpdateConversation(ctx context.Context, u store.ConversationUpdate) (wire.Conversation, []store.Delivery, error) {
	var (
		c  wire.Conversation
		ds []store.Delivery
	)
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		old, err := s.conversation(ctx, tx, `c.sid = ?`, u.Sid)
		if err != nil {
			return err
		}
		var reasons []string
		if c, reasons = storeutil.ConversationEdit(old, u); reasons == nil {
			return nil
		}
		if c.UniqueName != old.UniqueName && c.UniqueName != "" {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM conversations WHERE unique_name = ?`, c.UniqueName).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return store.ErrConflict
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE conversations SET friendly_name = ?, unique_name = ?, attributes = ?, date_updated = ?
			WHERE sid = ?`, c.FriendlyName, nullString(c.UniqueName), storeutil.Attrs(c.Attributes), storeutil.Now(), u.Sid); err != nil {
			return err
		}
		if c, err = s.conversation(ctx, tx, `c.sid = ?`, u.Sid); err != nil {
			return err
		}
		ms, err := members(ctx, tx, u.Sid)
		if err != nil {
			return err
		}
		ds, err = s.appendConvEvent(ctx, tx, wire.EventConversationUpdated, c, reasons, ms)
		return err
	})
	return c, ds, err
}

func (s *Store) DeleteConversation(ctx context.Context, sid string) ([]string, []store.Delivery, error) {
	var (
		media []string
		ds    []store.Delivery
	)
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := s.conversation(ctx, tx, `c.sid = ?`, sid); err != nil {
			return err
		}
		ids, err := participantIdentities(ctx, tx, sid)
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT sid FROM media WHERE conversation_sid = ?`, sid)
		if err != nil {
			return err
		}
		for rows.Next() {
			var m string
			if err := rows.Scan(&m); err != nil {
				rows.Close()
				return err
			}
			media = append(media, m)
		}
		rows.Close()
		for _, q := range []string{
			`DELETE FROM media WHERE conversation_sid = ?`,
			`DELETE FROM receipts WHERE conversation_sid = ?`,
			`DELETE FROM messages WHERE conversation_sid = ?`,
			`DELETE FROM participants WHERE conversation_sid = ?`,
			`DELETE FROM participant_bans WHERE conversation_sid = ?`,
			`DELETE FROM conversations WHERE sid = ?`,
		} {
			if _, err := tx.ExecContext(ctx, q, sid); err != nil {
				return err
			}
		}
		ds, err = s.appendEvent(ctx, tx, wire.EventConversationRemoved, wire.ConversationRefEvent{ConversationSid: sid}, ids)
		return err
	})
	return media, ds, err
}

func (s *Store) SetNotificationLevel(ctx context.Context, conv, identity, level string) (wire.Conversation, []store.Delivery, error) {
	var (
		c  wire.Conversation
		ds []store.Delivery
	)
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		if c, err = s.conversation(ctx, tx, `c.sid = ?`, conv); err != nil {
			return err
		}
		var m member
		var lr sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT identity, notification_level, last_read_index FROM participants
			WHERE conversation_sid = ? AND identity = ?`, conv, identity).Scan(&m.Identity, &m.Level, &lr); err != nil {
			return notFound(err)
		}
		if lr.Valid {
			m.LastRead = &lr.Int64
		}
		if m.Level == level {
			c = m.View(c)
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE participants SET notification_level = ? WHERE conversation_sid = ? AND identity = ?`,
			level, conv, identity); err != nil {
			return err
		}
		m.Level = level
		c = m.View(c)
		ds, err = s.appendConvEvent(ctx, tx, wire.EventConversationUpdated, c, []string{wire.ReasonNotificationLevel}, []member{m})
		return err
	})
	return c, ds, err
}

func (s *Store) SetReadHorizon(ctx context.Context, conv, identity, mode string, index *int64) (wire.ReadResult, []store.Delivery, error) {
	var (
		res wire.ReadResult
		ds  []store.Delivery
	)
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		c, err := s.conversation(ctx, tx, `c.sid = ?`, conv)
		if err != nil {
			return err
		}
		var (
			psid  string
			level string
			cur   sql.NullInt64
		)
		if err := tx.QueryRowContext(ctx, `SELECT sid, notification_level, last_read_index FROM participants
			WHERE conversation_sid = ? AND identity = ?`, conv, identity).Scan(&psid, &level, &cur); err != nil {
			return notFound(err)
		}
		var horizon *int64
		if cur.Valid {
			horizon = &cur.Int64
		}
		next, changed, err := storeutil.ReadHorizon(mode, index, horizon, c.LastMessage)
		if err != nil {
			return fmt.Errorf("sqlite: %w", err)
		}
		res.LastReadMessageIndex = next
		if next != nil {
			var n int64
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM messages WHERE conversation_sid = ? AND idx > ?`, conv, *next).Scan(&n); err != nil {
				return err
			}
			res.UnreadCount = &n
		}
		if !changed {
			return nil
		}
		var nv sql.NullInt64
		if next != nil {
			nv = sql.NullInt64{Int64: *next, Valid: true}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE participants SET last_read_index = ?, last_read_date = ? WHERE sid = ?`,
			nv, storeutil.Now(), psid); err != nil {
			return err
		}
		mine, err := s.appendConvEvent(ctx, tx, wire.EventConversationUpdated, c, []string{wire.ReasonLastReadMessageIndex},
			[]member{{Identity: identity, Level: level, LastRead: next}})
		if err != nil {
			return err
		}
		p, err := scan.Participant(tx.QueryRowContext(ctx, `SELECT `+participantSelect+` FROM participants WHERE sid = ?`, psid))
		if err != nil {
			return err
		}
		ids, err := participantIdentities(ctx, tx, conv)
		if err != nil {
			return err
		}
		all, err := s.appendEvent(ctx, tx, wire.EventParticipantUpdated, wire.ParticipantUpdatedEvent{Participant: p,
			UpdateReasons: []string{wire.ReasonLastReadMessageIndex, wire.ReasonLastReadTimestamp}}, ids)
		ds = append(mine, all...)
		return err
	})
	return res, ds, err
}

func (s *Store) Counts(ctx context.Context, conv, identity string) (wire.Counts, error) {
	var c wire.Counts
	err := s.read(ctx, func(tx *sql.Tx) error {
		var lr sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT last_read_index FROM participants WHERE conversation_sid = ? AND identity = ?`,
			conv, identity).Scan(&lr)
		if err != nil {
			return notFound(err)
		}
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM messages WHERE conversation_sid = ?`, conv).Scan(&c.Messages); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM participants WHERE conversation_sid = ?`, conv).Scan(&c.Participants); err != nil {
			return err
		}
		if lr.Valid {
			var n int64
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM messages WHERE conversation_sid = ? AND idx > ?`, conv, lr.Int64).Scan(&n); err != nil {
				return err
			}
			c.Unread = &n
		}
		return nil
	})
	return c, err
}

// ---- lifecycle state

func nullMillis(d time.Duration) sql.NullInt64 {
	return sql.NullInt64{Int64: d.Milliseconds(), Valid: d > 0}
}

func (s *Store) SetConversationTimers(ctx context.Context, sid string, inactiveAfter, closedAfter time.Duration) error {
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var state string
		if err := tx.QueryRowContext(ctx, `SELECT state FROM conversations WHERE sid = ?`, sid).Scan(&state); err != nil {
			return notFound(err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE conversations SET inactive_after_ms = ?, closed_after_ms = ? WHERE sid = ?`,
			nullMillis(inactiveAfter), nullMillis(closedAfter), sid); err != nil {
			return err
		}
		return restartTimers(ctx, tx, sid, state, storeutil.Now())
	})
}

// restartTimers sets the deadlines from t according to the state: an active conversation
// runs both, an inactive one only the closed timer, a closed one none.
func restartTimers(ctx context.Context, tx *sql.Tx, sid, state string, t int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE conversations SET
		inactive_at = CASE WHEN ? = 'active' AND inactive_after_ms IS NOT NULL THEN ? + inactive_after_ms END,
		closed_at = CASE WHEN ? <> 'closed' AND closed_after_ms IS NOT NULL THEN ? + closed_after_ms END
		WHERE sid = ?`, state, t, state, t, sid)
	return err
}

// touchConversation records activity (a new message): an inactive conversation becomes
// active again, and the timers restart.
func (s *Store) touchConversation(ctx context.Context, tx *sql.Tx, sid, state string, t int64) ([]store.Delivery, error) {
	if state == wire.StateInactive {
		return s.setState(ctx, tx, sid, wire.StateActive, t)
	}
	return nil, restartTimers(ctx, tx, sid, state, t)
}

func (s *Store) setState(ctx context.Context, tx *sql.Tx, sid, state string, t int64) ([]store.Delivery, error) {
	if _, err := tx.ExecContext(ctx, `UPDATE conversations SET state = ?, state_date = ? WHERE sid = ?`, state, t, sid); err != nil {
		return nil, err
	}
	if err := restartTimers(ctx, tx, sid, state, t); err != nil {
		return nil, err
	}
	c, err := s.conversation(ctx, tx, `c.sid = ?`, sid)
	if err != nil {
		return nil, err
	}
	ms, err := members(ctx, tx, sid)
	if err != nil {
		return nil, err
	}
	return s.appendConvEvent(ctx, tx, wire.EventConversationUpdated, c, []string{wire.ReasonState}, ms)
}

func (s *Store) SetConversationState(ctx context.Context, sid, state string) (wire.Conversation, []store.Delivery, error) {
	switch state {
	case wire.StateActive, wire.StateInactive, wire.StateClosed:
	default:
		return wire.Conversation{}, nil, errors.New("sqlite: unknown conversation state " + state)
	}
	var (
		c  wire.Conversation
		ds []store.Delivery
	)
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var cur string
		if err := tx.QueryRowContext(ctx, `SELECT state FROM conversations WHERE sid = ?`, sid).Scan(&cur); err != nil {
			return notFound(err)
		}
		if cur != state {
			var err error
			if ds, err = s.setState(ctx, tx, sid, state, storeutil.Now()); err != nil {
				return err
			}
		}
		var err error
		c, err = s.conversation(ctx, tx, `c.sid = ?`, sid)
		return err
	})
	return c, ds, err
}

func (s *Store) AdvanceConversationStates(ctx context.Context, at time.Time) ([]store.Delivery, error) {
	t := at.UnixMilli()
	var ds []store.Delivery
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT sid, state, closed_at IS NOT NULL AND closed_at <= ? FROM conversations
			WHERE (inactive_at <= ? AND state = 'active') OR (closed_at <= ? AND state <> 'closed') LIMIT 500`, t, t, t)
		if err != nil {
			return err
		}
		type due struct {
			sid, state string
			close      bool
		}
		var dues []due
		for rows.Next() {
			var d due
			if err := rows.Scan(&d.sid, &d.state, &d.close); err != nil {
				rows.Close()
				return err
			}
			dues = append(dues, d)
		}
		rows.Close()
		for _, d := range dues {
			next := wire.StateInactive
			if d.close {
				next = wire.StateClosed
			}
			got, err := s.setState(ctx, tx, d.sid, next, t)
			if err != nil {
				return err
			}
			ds = append(ds, got...)
		}
		return nil
	})
	return ds, err
}

// ---- participants

func (s *Store) addNonChatParticipant(ctx context.Context, np store.NewParticipant) (wire.Participant, []store.Delivery, error) {
	var (
		p  wire.Participant
		ds []store.Delivery
	)
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := s.conversation(ctx, tx, `c.sid = ?`, np.ConversationSid); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM participants WHERE conversation_sid = ? AND address = ? AND proxy_address = ?`,
			np.ConversationSid, np.Address, np.ProxyAddress).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return store.ErrConflict
		}
		if n, err := participantCount(ctx, tx, np.ConversationSid); err != nil {
			return err
		} else if n >= np.Max {
			return store.ErrTooManyParticipants
		}
		t := storeutil.Now()
		sid := store.NewSid(store.PrefixParticipant)
		var bind sql.NullString
		if len(np.Bindings) > 0 && string(np.Bindings) != "null" {
			bind = sql.NullString{String: string(np.Bindings), Valid: true}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO participants (`+participantCols+`, address, proxy_address, bindings)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			sid, np.ConversationSid, nonChatIdentity(sid), np.Type, storeutil.Attrs(np.Attributes), t, t, np.Address, np.ProxyAddress, bind); err != nil {
			return err
		}
		var err error
		if p, err = scan.Participant(tx.QueryRowContext(ctx, `SELECT `+participantSelect+` FROM participants WHERE sid = ?`, sid)); err != nil {
			return err
		}
		ids, err := participantIdentities(ctx, tx, np.ConversationSid)
		if err != nil {
			return err
		}
		ds, err = s.appendEvent(ctx, tx, wire.EventParticipantJoined, wire.ParticipantEvent{Participant: p}, ids)
		return err
	})
	return p, ds, err
}

func (s *Store) ParticipantBySid(ctx context.Context, conv, sid string) (wire.Participant, error) {
	return scan.Participant(s.r.QueryRowContext(ctx, `SELECT `+participantSelect+` FROM participants
		WHERE conversation_sid = ? AND sid = ?`, conv, sid))
}

func (s *Store) UpdateParticipant(ctx context.Context, conv, sid string, attributes json.RawMessage) (wire.Participant, []store.Delivery, error) {
	var (
		p  wire.Participant
		ds []store.Delivery
	)
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		old, err := scan.Participant(tx.QueryRowContext(ctx, `SELECT `+participantSelect+` FROM participants
			WHERE conversation_sid = ? AND sid = ?`, conv, sid))
		if err != nil {
			return err
		}
		p = old
		if storeutil.JSONEqual(attributes, old.Attributes) || (attributes == nil && string(old.Attributes) == "{}") {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE participants SET attributes = ?, date_updated = ? WHERE sid = ?`,
			storeutil.Attrs(attributes), storeutil.Now(), sid); err != nil {
			return err
		}
		if p, err = scan.Participant(tx.QueryRowContext(ctx, `SELECT `+participantSelect+` FROM participants WHERE sid = ?`, sid)); err != nil {
			return err
		}
		ids, err := participantIdentities(ctx, tx, conv)
		if err != nil {
			return err
		}
		ds, err = s.appendEvent(ctx, tx, wire.EventParticipantUpdated, wire.ParticipantUpdatedEvent{Participant: p,
			UpdateReasons: []string{wire.ReasonAttributes, wire.ReasonDateUpdated}}, ids)
		return err
	})
	return p, ds, err
}

func (s *Store) RemoveParticipant(ctx context.Context, conv, sid string, ban bool) (wire.Participant, []store.Delivery, error) {
	var (
		p  wire.Participant
		ds []store.Delivery
	)
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		if p, err = scan.Participant(tx.QueryRowContext(ctx, `SELECT `+participantSelect+` FROM participants
			WHERE conversation_sid = ? AND sid = ?`, conv, sid)); err != nil {
			return err
		}
		ids, err := participantIdentities(ctx, tx, conv)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM participants WHERE sid = ?`, sid); err != nil {
			return err
		}
		if ban && p.Type == wire.ParticipantChat {
			if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO participant_bans (conversation_sid, identity, date_created)
				VALUES (?, ?, ?)`, conv, p.Identity, storeutil.Now()); err != nil {
				return err
			}
		}
		if p.Type == wire.ParticipantChat {
			if ds, err = s.appendEvent(ctx, tx, wire.EventConversationLeft, wire.ConversationRefEvent{ConversationSid: conv},
				[]string{p.Identity}); err != nil {
				return err
			}
		}
		all, err := s.appendEvent(ctx, tx, wire.EventParticipantLeft, wire.ParticipantEvent{Participant: p}, ids)
		ds = append(ds, all...)
		return err
	})
	return p, ds, err
}

// ---- messages

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

// loadMessageExtras fills the media and aggregated receipts of messages.
func loadMessageExtras(ctx context.Context, q queryer, ms []*wire.Message) error {
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

func (s *Store) message(ctx context.Context, q queryer, conv, sid string) (wire.Message, error) {
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
		ds, err = s.appendEvent(ctx, tx, wire.EventMessageRemoved, wire.MessageEvent{Message: m}, ids)
		return err
	})
	return m, ds, err
}

func (s *Store) Receipts(ctx context.Context, conv, msg string) ([]wire.DetailedReceipt, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+storeutil.ReceiptCols+` FROM receipts WHERE conversation_sid = ? AND message_sid = ?
		ORDER BY date_created, sid`, conv, msg)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return storeutil.All(rows, storeutil.Receipt)
}

func (s *Store) ChannelMetadata(ctx context.Context, conv, msg string) (*wire.ChannelMetadata, error) {
	var raw *string
	err := s.r.QueryRowContext(ctx, `SELECT channel_metadata FROM messages WHERE conversation_sid = ? AND sid = ?`, conv, msg).Scan(&raw)
	if err != nil {
		return nil, notFound(err)
	}
	return storeutil.ChannelMetadata(raw)
}

// ---- media

func (s *Store) CreateMedia(ctx context.Context, m store.MediaRecord) error {
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO media (sid, owner, category, filename, content_type, size, date_created)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, m.Sid, m.Owner, m.Category, m.Filename, m.ContentType, m.Size, storeutil.Now())
		return err
	})
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
