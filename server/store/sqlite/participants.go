package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/server/store/internal/storeutil"
	"github.com/convo-sdk/convo/wire"
)

// participantCols are the columns every insert sets; participantSelect those a read scans.
const participantCols = `sid, conversation_sid, identity, type, attributes, date_created, date_updated`

const participantSelect = participantCols + `, last_read_index, last_read_date, address, proxy_address, bindings, role_sid`

// nonChatIdentity is what the identity column holds for a non-chat participant: unique per
// participant and never a real identity (those exclude control characters).
func nonChatIdentity(sid string) string { return "\x00" + sid }

func participantIdentities(ctx context.Context, tx *sql.Tx, conv string) ([]string, error) {
	return queryStrings(ctx, tx, `SELECT identity FROM participants WHERE conversation_sid = ? AND type = 'chat' ORDER BY id`, conv)
}

// checkRoom refuses a participant the conversation has no room for (np.Max).
func checkRoom(ctx context.Context, tx *sql.Tx, np store.NewParticipant) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM participants WHERE conversation_sid = ?`, np.ConversationSid).Scan(&n); err != nil {
		return err
	}
	if n >= np.Max {
		return store.ErrTooManyParticipants
	}
	return nil
}

func (s *Store) AddParticipant(ctx context.Context, np store.NewParticipant) (wire.Participant, []store.Delivery, error) {
	if np.Type == "" {
		np.Type = wire.ParticipantChat
	}
	if np.Max <= 0 {
		np.Max = wire.MaxParticipantsPerConv
	}
	if np.Type != wire.ParticipantChat {
		return s.addNonChatParticipant(ctx, np)
	}
	var (
		p  wire.Participant
		ds []store.Delivery
	)
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		conv, err := s.conversation(ctx, tx, `c.sid = ?`, np.ConversationSid)
		if err != nil {
			return err
		}
		members, err := participantIdentities(ctx, tx, np.ConversationSid)
		if err != nil {
			return err
		}
		for _, m := range members {
			if m == np.Identity {
				return store.ErrConflict
			}
		}
		if err := checkBan(ctx, tx, np); err != nil {
			return err
		}
		if err := checkRoom(ctx, tx, np); err != nil {
			return err
		}
		t := storeutil.Now()
		sid := store.NewSid(store.PrefixParticipant)
		if _, err := tx.ExecContext(ctx, `INSERT INTO participants (`+participantCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			sid, np.ConversationSid, np.Identity, np.Type, storeutil.Attrs(np.Attributes), t, t); err != nil {
			return err
		}
		if err := ensureUser(ctx, tx, np.Identity); err != nil {
			return err
		}
		if p, err = scan.Participant(tx.QueryRowContext(ctx, `SELECT `+participantSelect+` FROM participants WHERE sid = ?`, sid)); err != nil {
			return err
		}
		conv.Joined = true
		conv.NotificationLevel = wire.NotificationDefault
		joined, err := s.appendEvent(ctx, tx, wire.EventConversationJoined, wire.ConversationEvent{Conversation: conv}, []string{np.Identity})
		if err != nil {
			return err
		}
		all, err := s.appendEvent(ctx, tx, wire.EventParticipantJoined, wire.ParticipantEvent{Participant: p}, append(members, np.Identity))
		if err != nil {
			return err
		}
		ds = append(joined, all...)
		return nil
	})
	return p, ds, err
}

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
		if err := checkRoom(ctx, tx, np); err != nil {
			return err
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

// checkBan refuses to add an identity removed by someone else, or ends its ban when the add
// may (np.LiftBan).
func checkBan(ctx context.Context, tx *sql.Tx, np store.NewParticipant) error {
	if np.LiftBan {
		_, err := tx.ExecContext(ctx, `DELETE FROM participant_bans WHERE conversation_sid = ? AND identity = ?`, np.ConversationSid, np.Identity)
		return err
	}
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM participant_bans WHERE conversation_sid = ? AND identity = ?`, np.ConversationSid, np.Identity).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return err
	}
	return store.ErrRemoved
}

func (s *Store) Participant(ctx context.Context, conv, identity string) (wire.Participant, error) {
	return scan.Participant(s.r.QueryRowContext(ctx, `SELECT `+participantSelect+` FROM participants
		WHERE conversation_sid = ? AND identity = ?`, conv, identity))
}

func (s *Store) ParticipantBySid(ctx context.Context, conv, sid string) (wire.Participant, error) {
	return scan.Participant(s.r.QueryRowContext(ctx, `SELECT `+participantSelect+` FROM participants
		WHERE conversation_sid = ? AND sid = ?`, conv, sid))
}

func (s *Store) Participants(ctx context.Context, conv string) ([]wire.Participant, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+participantSelect+` FROM participants WHERE conversation_sid = ? ORDER BY id`, conv)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return storeutil.All(rows, scan.Participant)
}

func (s *Store) UpdateParticipant(ctx context.Context, conv, sid string, attributes wire.RawJSON) (wire.Participant, []store.Delivery, error) {
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

func (s *Store) MutedIdentities(ctx context.Context, conv string) ([]string, error) {
	return queryStrings(ctx, s.r, `SELECT identity FROM participants
		WHERE conversation_sid = ? AND type = 'chat' AND notification_level = ?`, conv, wire.NotificationMuted)
}
