package sqlite

import (
	"context"
	"database/sql"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/server/store/internal/storeutil"
	"github.com/convo-sdk/convo/wire"
)

const conversationCols = storeutil.ConversationCols

const viewCols = storeutil.ViewCols

type extraScanner = storeutil.ExtraScanner

// checkUniqueName refuses a unique name another conversation holds.
func checkUniqueName(ctx context.Context, tx *sql.Tx, name string) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM conversations WHERE unique_name = ?`, name).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return store.ErrConflict
	}
	return nil
}

func (s *Store) conversation(ctx context.Context, q querier, where string, arg any) (wire.Conversation, error) {
	c, _, err := scan.Conversation(q.QueryRowContext(ctx, `SELECT `+conversationCols+` FROM conversations c WHERE `+where, arg))
	return c, err
}

// cursorPage reads up to limit items from rows fetched with LIMIT limit+1 (see
// storeutil.CursorPage), and closes rows.
func cursorPage[T any](rows *sql.Rows, limit int, scan func(scanner) (T, int64, error)) ([]T, string, error) {
	defer rows.Close()
	return storeutil.CursorPage(rows, limit, scan)
}

func (s *Store) CreateConversation(ctx context.Context, nc store.NewConversation) (wire.Conversation, error) {
	sid := store.NewSid(store.PrefixConversation)
	t := storeutil.Now()
	var conv wire.Conversation
	var uniq sql.NullString
	if nc.UniqueName != "" {
		uniq = sql.NullString{String: nc.UniqueName, Valid: true}
	}
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if uniq.Valid {
			if err := checkUniqueName(ctx, tx, uniq.String); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO conversations
			(sid, unique_name, friendly_name, attributes, created_by, date_created, date_updated)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, sid, uniq, nc.FriendlyName, storeutil.Attrs(nc.Attributes), nc.CreatedBy, t, t)
		if err != nil {
			return err
		}
		if conv, err = s.conversation(ctx, tx, `c.sid = ?`, sid); err != nil {
			return err
		}
		return appendWebhookEvent(ctx, tx, store.EventConversationCreated, wire.ConversationEvent{Conversation: conv})
	})
	return conv, err
}

func (s *Store) Conversation(ctx context.Context, sid string) (wire.Conversation, error) {
	return s.conversation(ctx, s.r, `c.sid = ?`, sid)
}

func (s *Store) ConversationByUniqueName(ctx context.Context, name string) (wire.Conversation, error) {
	return s.conversation(ctx, s.r, `c.unique_name = ?`, name)
}

func (s *Store) ConversationsOf(ctx context.Context, identity, after string, limit int) ([]wire.Conversation, string, error) {
	afterID, err := storeutil.ParseCursor(after)
	if err != nil {
		return nil, "", err
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+conversationCols+`, `+viewCols+` FROM conversations c
		JOIN participants p ON p.conversation_sid = c.sid
		WHERE p.identity = ? AND c.id > ? ORDER BY c.id LIMIT ?`, identity, afterID, limit+1)
	if err != nil {
		return nil, "", err
	}
	return cursorPage(rows, limit, scan.ConversationView)
}

// AllConversations lists every conversation by creation order.
func (s *Store) AllConversations(ctx context.Context, after string, limit int) ([]wire.Conversation, string, error) {
	afterID, err := storeutil.ParseCursor(after)
	if err != nil {
		return nil, "", err
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+conversationCols+` FROM conversations c
		WHERE c.id > ? ORDER BY c.id LIMIT ?`, afterID, limit+1)
	if err != nil {
		return nil, "", err
	}
	return cursorPage(rows, limit, scan.Conversation)
}

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
			if err := checkUniqueName(ctx, tx, c.UniqueName); err != nil {
				return err
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
		if err := eraseConversation(ctx, tx, sid); err != nil {
			return err
		}
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
