package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/server/store/internal/storeutil"
	"github.com/convo-sdk/convo/wire"
)

const (
	conversationCols = storeutil.ConversationCols
	viewCols         = storeutil.ViewCols
)

func conversation(ctx context.Context, q querier, sid string) (wire.Conversation, error) {
	c, _, err := scan.Conversation(q.QueryRow(ctx, `SELECT `+conversationCols+` FROM conversations c WHERE c.sid = $1`, sid))
	return c, err
}

// cursorPage reads up to limit items from rows fetched with LIMIT limit+1 (see
// storeutil.CursorPage), and closes rows.
func cursorPage[T any](rows pgx.Rows, limit int, scan func(scanner) (T, int64, error)) ([]T, string, error) {
	defer rows.Close()
	return storeutil.CursorPage(rows, limit, scan)
}

func (s *Store) CreateConversation(ctx context.Context, nc store.NewConversation) (wire.Conversation, error) {
	sid := store.NewSid(store.PrefixConversation)
	t := storeutil.Now()
	var conv wire.Conversation
	err := s.write(ctx, func(tx pgx.Tx) error {
		c, _, err := scan.Conversation(tx.QueryRow(ctx, `INSERT INTO conversations AS c
			(sid, unique_name, friendly_name, attributes, created_by, date_created, date_updated)
			VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING `+conversationCols,
			sid, nullText(nc.UniqueName), nc.FriendlyName, storeutil.Attrs(nc.Attributes), nc.CreatedBy, t))
		if uniqueViolation(err, "conversations_unique_name_key") {
			return store.ErrConflict
		}
		if err != nil {
			return err
		}
		conv = c
		return s.events(tx).webhookEvent(ctx, store.EventConversationCreated, wire.ConversationEvent{Conversation: conv})
	})
	return conv, err
}

func (s *Store) Conversation(ctx context.Context, sid string) (wire.Conversation, error) {
	return conversation(ctx, s.pool, sid)
}

func (s *Store) ConversationByUniqueName(ctx context.Context, name string) (wire.Conversation, error) {
	c, _, err := scan.Conversation(s.pool.QueryRow(ctx, `SELECT `+conversationCols+` FROM conversations c WHERE c.unique_name = $1`, name))
	return c, err
}

func (s *Store) ConversationsOf(ctx context.Context, identity, after string, limit int) ([]wire.Conversation, string, error) {
	afterID, err := storeutil.ParseCursor(after)
	if err != nil {
		return nil, "", err
	}
	rows, err := s.pool.Query(ctx, `SELECT `+conversationCols+`, `+viewCols+` FROM conversations c
		JOIN participants p ON p.conversation_sid = c.sid
		WHERE p.identity = $1 AND c.id > $2 ORDER BY c.id LIMIT $3`, identity, afterID, limit+1)
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
	rows, err := s.pool.Query(ctx, `SELECT `+conversationCols+` FROM conversations c
		WHERE c.id > $1 ORDER BY c.id LIMIT $2`, afterID, limit+1)
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
	err := s.read(ctx, func(tx pgx.Tx) error {
		var err error
		if c, err = conversation(ctx, tx, sid); err != nil {
			return err
		}
		var level string
		pp, err := scan.Participant(extraScanner{Sc: tx.QueryRow(ctx, `SELECT `+participantSelect+`, notification_level
			FROM participants WHERE conversation_sid = $1 AND identity = $2`, sid, identity), Extra: []any{&level}})
		c, p, err = storeutil.ParticipantView(c, pp, level, err)
		return err
	})
	return c, p, err
}

// member is a chat participant's per-user view of its conversation.
type member = storeutil.Member

func members(ctx context.Context, q querier, conv string) ([]member, error) {
	rows, _ := q.Query(ctx, `SELECT identity, notification_level, last_read_index FROM participants
		WHERE conversation_sid = $1 AND type = 'chat' ORDER BY id`, conv)
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (member, error) {
		var m member
		err := row.Scan(&m.Identity, &m.Level, &m.LastRead)
		return m, err
	})
}

// appendConvEvent emits a conversation event to members, each with its own view: a
// ConversationUpdatedEvent when reasons are given, else a ConversationEvent.
func (l *eventLog) appendConvEvent(ctx context.Context, name string, c wire.Conversation, reasons []string, ms []member) ([]store.Delivery, error) {
	ids, payload := storeutil.ConvEvent(c, reasons, ms)
	return l.appendFor(ctx, name, ids, payload)
}

func (s *Store) UpdateConversation(ctx context.Context, u store.ConversationUpdate) (wire.Conversation, []store.Delivery, error) {
	var (
		c  wire.Conversation
		ds []store.Delivery
	)
	err := s.write(ctx, func(tx pgx.Tx) error {
		ds = nil
		if _, err := lockConversation(ctx, tx, u.Sid); err != nil {
			return err
		}
		old, err := conversation(ctx, tx, u.Sid)
		if err != nil {
			return err
		}
		var reasons []string
		if c, reasons = storeutil.ConversationEdit(old, u); reasons == nil {
			return nil
		}
		c, _, err = scan.Conversation(tx.QueryRow(ctx, `UPDATE conversations c SET friendly_name = $1, unique_name = $2, attributes = $3,
			date_updated = $4 WHERE sid = $5 RETURNING `+conversationCols,
			c.FriendlyName, nullText(c.UniqueName), storeutil.Attrs(c.Attributes), storeutil.Now(), u.Sid))
		if uniqueViolation(err, "conversations_unique_name_key") {
			return store.ErrConflict
		}
		if err != nil {
			return err
		}
		ms, err := members(ctx, tx, u.Sid)
		if err != nil {
			return err
		}
		ds, err = s.events(tx).appendConvEvent(ctx, wire.EventConversationUpdated, c, reasons, ms)
		return err
	})
	return c, ds, err
}

func (s *Store) DeleteConversation(ctx context.Context, sid string) ([]string, []store.Delivery, error) {
	var (
		media []string
		ds    []store.Delivery
	)
	err := s.write(ctx, func(tx pgx.Tx) error {
		if _, err := lockConversation(ctx, tx, sid); err != nil {
			return err
		}
		ids, err := participantIdentities(ctx, tx, sid)
		if err != nil {
			return err
		}
		if media, err = queryStrings(ctx, tx, `DELETE FROM media WHERE conversation_sid = $1 RETURNING sid`, sid); err != nil {
			return err
		}
		if err := redactConversation(ctx, tx, sid); err != nil {
			return err
		}
		for _, q := range []string{
			`DELETE FROM receipts WHERE conversation_sid = $1`,
			`DELETE FROM messages WHERE conversation_sid = $1`,
			`DELETE FROM participants WHERE conversation_sid = $1`,
			`DELETE FROM participant_bans WHERE conversation_sid = $1`,
			`DELETE FROM conversations WHERE sid = $1`,
		} {
			if _, err := tx.Exec(ctx, q, sid); err != nil {
				return err
			}
		}
		if err := giveUpWebhooks(ctx, tx, conversationWebhookTypes, sid); err != nil {
			return err
		}
		ds, err = s.events(tx).append(ctx, wire.EventConversationRemoved, wire.ConversationRefEvent{ConversationSid: sid}, ids)
		return err
	})
	return media, ds, err
}
