package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/server/store/internal/storeutil"
	"github.com/convo-sdk/convo/wire"
)

// participantSelect are the columns a participant read scans.
const participantSelect = `sid, conversation_sid, identity, type, attributes, date_created, date_updated,
	last_read_index, last_read_date, address, proxy_address, bindings, role_sid`

// nonChatIdentity is what the identity column holds for a non-chat participant: unique per
// participant and never a real identity (those exclude control characters).
func nonChatIdentity(sid string) string { return "\x01" + sid }

func participantIdentities(ctx context.Context, q querier, conv string) ([]string, error) {
	return queryStrings(ctx, q, `SELECT identity FROM participants WHERE conversation_sid = $1 AND type = 'chat' ORDER BY id`, conv)
}

func (s *Store) AddParticipant(ctx context.Context, np store.NewParticipant) (wire.Participant, []store.Delivery, error) {
	if np.Type == "" {
		np.Type = wire.ParticipantChat
	}
	if np.Max <= 0 {
		np.Max = wire.MaxParticipantsPerConv
	}
	var (
		p  wire.Participant
		ds []store.Delivery
	)
	err := s.write(ctx, func(tx pgx.Tx) error {
		var err error
		p, ds, err = s.addParticipant(ctx, tx, np)
		return err
	})
	return p, ds, err
}

func (s *Store) addParticipant(ctx context.Context, tx pgx.Tx, np store.NewParticipant) (wire.Participant, []store.Delivery, error) {
	chat := np.Type == wire.ParticipantChat
	if _, err := lockConversation(ctx, tx, np.ConversationSid); err != nil {
		return wire.Participant{}, nil, err
	}
	conv, err := conversation(ctx, tx, np.ConversationSid)
	if err != nil {
		return wire.Participant{}, nil, err
	}
	members, err := participantIdentities(ctx, tx, np.ConversationSid)
	if err != nil {
		return wire.Participant{}, nil, err
	}
	if chat {
		if err := checkBan(ctx, tx, np); err != nil {
			return wire.Participant{}, nil, err
		}
	}
	var n int
	if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM participants WHERE conversation_sid = $1`, np.ConversationSid).Scan(&n); err != nil {
		return wire.Participant{}, nil, err
	}
	t := storeutil.Now()
	sid := store.NewSid(store.PrefixParticipant)
	identity, addr, proxy, bind := np.Identity, (*string)(nil), (*string)(nil), (*string)(nil)
	if !chat {
		identity, addr, proxy = nonChatIdentity(sid), &np.Address, &np.ProxyAddress
		if len(np.Bindings) > 0 && string(np.Bindings) != "null" {
			b := string(np.Bindings)
			bind = &b
		}
	}
	// A duplicate is a conflict even when the conversation is full (the sqlite store checks
	// in this order too), so insert first and count after.
	p, err := scan.Participant(tx.QueryRow(ctx, `INSERT INTO participants (sid, conversation_sid, identity, type, attributes,
			date_created, date_updated, address, proxy_address, bindings)
		VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8, $9) RETURNING `+participantSelect,
		sid, np.ConversationSid, identity, np.Type, storeutil.Attrs(np.Attributes), t, addr, proxy, bind))
	if uniqueViolation(err, "participants_conversation_sid_identity_key") || uniqueViolation(err, "participants_address") {
		return p, nil, store.ErrConflict
	}
	if err != nil {
		return p, nil, err
	}
	if n >= np.Max {
		return p, nil, store.ErrTooManyParticipants
	}
	l := s.events(tx)
	if !chat {
		ds, err := l.append(ctx, wire.EventParticipantJoined, wire.ParticipantEvent{Participant: p}, members)
		return p, ds, err
	}
	if err := ensureUser(ctx, tx, np.Identity); err != nil {
		return p, nil, err
	}
	all := append(members, np.Identity)
	if err := l.lock(ctx, all); err != nil {
		return p, nil, err
	}
	conv.Joined, conv.NotificationLevel = true, wire.NotificationDefault
	joined, err := l.append(ctx, wire.EventConversationJoined, wire.ConversationEvent{Conversation: conv}, []string{np.Identity})
	if err != nil {
		return p, nil, err
	}
	others, err := l.append(ctx, wire.EventParticipantJoined, wire.ParticipantEvent{Participant: p}, all)
	return p, append(joined, others...), err
}

// checkBan refuses to add an identity removed by someone else, or ends its ban when the add
// may (np.LiftBan).
func checkBan(ctx context.Context, tx pgx.Tx, np store.NewParticipant) error {
	if np.LiftBan {
		_, err := tx.Exec(ctx, `DELETE FROM participant_bans WHERE conversation_sid = $1 AND identity = $2`, np.ConversationSid, np.Identity)
		return err
	}
	var banned bool
	err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM participant_bans WHERE conversation_sid = $1 AND identity = $2)`,
		np.ConversationSid, np.Identity).Scan(&banned)
	if err == nil && banned {
		return store.ErrRemoved
	}
	return err
}

func (s *Store) Participant(ctx context.Context, conv, identity string) (wire.Participant, error) {
	return scan.Participant(s.pool.QueryRow(ctx, `SELECT `+participantSelect+` FROM participants
		WHERE conversation_sid = $1 AND identity = $2`, conv, identity))
}

func (s *Store) ParticipantBySid(ctx context.Context, conv, sid string) (wire.Participant, error) {
	return scan.Participant(s.pool.QueryRow(ctx, `SELECT `+participantSelect+` FROM participants
		WHERE conversation_sid = $1 AND sid = $2`, conv, sid))
}

func (s *Store) Participants(ctx context.Context, conv string) ([]wire.Participant, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+participantSelect+` FROM participants WHERE conversation_sid = $1 ORDER BY id`, conv)
	defer rows.Close()
	return storeutil.All(rows, scan.Participant)
}

func (s *Store) UpdateParticipant(ctx context.Context, conv, sid string, attributes wire.RawJSON) (wire.Participant, []store.Delivery, error) {
	var (
		p  wire.Participant
		ds []store.Delivery
	)
	err := s.write(ctx, func(tx pgx.Tx) error {
		ds = nil
		if _, err := lockConversation(ctx, tx, conv); err != nil {
			return err
		}
		old, err := scan.Participant(tx.QueryRow(ctx, `SELECT `+participantSelect+` FROM participants
			WHERE conversation_sid = $1 AND sid = $2`, conv, sid))
		if err != nil {
			return err
		}
		p = old
		if storeutil.JSONEqual(attributes, old.Attributes) || (attributes == nil && string(old.Attributes) == "{}") {
			return nil
		}
		if p, err = scan.Participant(tx.QueryRow(ctx, `UPDATE participants SET attributes = $1, date_updated = $2
			WHERE sid = $3 RETURNING `+participantSelect, storeutil.Attrs(attributes), storeutil.Now(), sid)); err != nil {
			return err
		}
		ids, err := participantIdentities(ctx, tx, conv)
		if err != nil {
			return err
		}
		ds, err = s.events(tx).append(ctx, wire.EventParticipantUpdated, wire.ParticipantUpdatedEvent{Participant: p,
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
	err := s.write(ctx, func(tx pgx.Tx) error {
		ds = nil
		if _, err := lockConversation(ctx, tx, conv); err != nil {
			return err
		}
		ids, err := participantIdentities(ctx, tx, conv)
		if err != nil {
			return err
		}
		if p, err = scan.Participant(tx.QueryRow(ctx, `DELETE FROM participants WHERE conversation_sid = $1 AND sid = $2
			RETURNING `+participantSelect, conv, sid)); err != nil {
			return err
		}
		l := s.events(tx)
		if err := l.lock(ctx, ids); err != nil {
			return err
		}
		if p.Type == wire.ParticipantChat {
			if ban {
				if _, err := tx.Exec(ctx, `INSERT INTO participant_bans (conversation_sid, identity, date_created) VALUES ($1, $2, $3)
					ON CONFLICT (conversation_sid, identity) DO UPDATE SET date_created = excluded.date_created`,
					conv, p.Identity, storeutil.Now()); err != nil {
					return err
				}
			}
			if ds, err = l.append(ctx, wire.EventConversationLeft, wire.ConversationRefEvent{ConversationSid: conv},
				[]string{p.Identity}); err != nil {
				return err
			}
		}
		all, err := l.append(ctx, wire.EventParticipantLeft, wire.ParticipantEvent{Participant: p}, ids)
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
	err := s.write(ctx, func(tx pgx.Tx) error {
		ds = nil
		if _, err := lockConversation(ctx, tx, conv); err != nil {
			return err
		}
		var err error
		if c, err = conversation(ctx, tx, conv); err != nil {
			return err
		}
		m := member{Identity: identity}
		if err := tx.QueryRow(ctx, `SELECT notification_level, last_read_index FROM participants
			WHERE conversation_sid = $1 AND identity = $2`, conv, identity).Scan(&m.Level, &m.LastRead); err != nil {
			return notFound(err)
		}
		if m.Level == level {
			c = m.View(c)
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE participants SET notification_level = $1 WHERE conversation_sid = $2 AND identity = $3`,
			level, conv, identity); err != nil {
			return err
		}
		m.Level = level
		c = m.View(c)
		ds, err = s.events(tx).appendConvEvent(ctx, wire.EventConversationUpdated, c, []string{wire.ReasonNotificationLevel}, []member{m})
		return err
	})
	return c, ds, err
}

func (s *Store) SetReadHorizon(ctx context.Context, conv, identity, mode string, index *int64) (wire.ReadResult, []store.Delivery, error) {
	var (
		res wire.ReadResult
		ds  []store.Delivery
	)
	err := s.write(ctx, func(tx pgx.Tx) error {
		res, ds = wire.ReadResult{}, nil
		if _, err := lockConversation(ctx, tx, conv); err != nil {
			return err
		}
		c, err := conversation(ctx, tx, conv)
		if err != nil {
			return err
		}
		var (
			psid, level string
			horizon     *int64
		)
		if err := tx.QueryRow(ctx, `SELECT sid, notification_level, last_read_index FROM participants
			WHERE conversation_sid = $1 AND identity = $2`, conv, identity).Scan(&psid, &level, &horizon); err != nil {
			return notFound(err)
		}
		next, changed, err := storeutil.ReadHorizon(mode, index, horizon, c.LastMessage)
		if err != nil {
			return fmt.Errorf("postgres: %w", err)
		}
		res.LastReadMessageIndex = next
		if next != nil {
			var n int64
			if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM messages WHERE conversation_sid = $1 AND idx > $2`, conv, *next).Scan(&n); err != nil {
				return err
			}
			res.UnreadCount = &n
		}
		if !changed {
			return nil
		}
		p, err := scan.Participant(tx.QueryRow(ctx, `UPDATE participants SET last_read_index = $1, last_read_date = $2
			WHERE sid = $3 RETURNING `+participantSelect, next, storeutil.Now(), psid))
		if err != nil {
			return err
		}
		ids, err := participantIdentities(ctx, tx, conv)
		if err != nil {
			return err
		}
		l := s.events(tx)
		if err := l.lock(ctx, ids); err != nil {
			return err
		}
		mine, err := l.appendConvEvent(ctx, wire.EventConversationUpdated, c, []string{wire.ReasonLastReadMessageIndex},
			[]member{{Identity: identity, Level: level, LastRead: next}})
		if err != nil {
			return err
		}
		all, err := l.append(ctx, wire.EventParticipantUpdated, wire.ParticipantUpdatedEvent{Participant: p,
			UpdateReasons: []string{wire.ReasonLastReadMessageIndex, wire.ReasonLastReadTimestamp}}, ids)
		ds = append(mine, all...)
		return err
	})
	return res, ds, err
}

func (s *Store) Counts(ctx context.Context, conv, identity string) (wire.Counts, error) {
	var (
		c        wire.Counts
		lastRead *int64
		unread   int64
	)
	// One statement, one snapshot.
	err := s.pool.QueryRow(ctx, `SELECT p.last_read_index,
			(SELECT COUNT(*) FROM messages WHERE conversation_sid = $1),
			(SELECT COUNT(*) FROM participants WHERE conversation_sid = $1),
			(SELECT COUNT(*) FROM messages WHERE conversation_sid = $1 AND idx > p.last_read_index)
		FROM participants p WHERE p.conversation_sid = $1 AND p.identity = $2`, conv, identity).
		Scan(&lastRead, &c.Messages, &c.Participants, &unread)
	if err != nil {
		return wire.Counts{}, notFound(err)
	}
	if lastRead != nil {
		c.Unread = &unread
	}
	return c, nil
}

func (s *Store) MutedIdentities(ctx context.Context, conv string) ([]string, error) {
	return queryStrings(ctx, s.pool, `SELECT identity FROM participants
		WHERE conversation_sid = $1 AND type = 'chat' AND notification_level = $2 ORDER BY id`, conv, wire.NotificationMuted)
}
