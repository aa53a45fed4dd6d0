package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/convo-sdk/convo/core/wire"
	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/server/store/internal/storeutil"
)

const conversationCols = `c.id, c.sid, c.unique_name, c.friendly_name, c.attributes, c.created_by,
	c.date_created, c.date_updated, c.last_message_index, c.last_message_date, c.state, c.state_date, c.bindings`

// viewCols are the participant columns that make a conversation per-user (alias p).
const viewCols = `p.notification_level, p.last_read_index`

func scanConversation(sc scanner) (wire.Conversation, int64, error) {
	var (
		c             wire.Conversation
		id            int64
		uniq          *string
		a             string
		created, upd  int64
		lastIdx, last *int64
		state         string
		stateDate     *int64
		bindings      *string
	)
	err := sc.Scan(&id, &c.Sid, &uniq, &c.FriendlyName, &a, &c.CreatedBy, &created, &upd, &lastIdx, &last, &state, &stateDate, &bindings)
	if err != nil {
		return c, 0, notFound(err)
	}
	if stateDate != nil {
		c.State = &wire.ConversationState{Current: state, DateUpdated: storeutil.FromMillis(*stateDate)}
	}
	if bindings != nil {
		c.Bindings = json.RawMessage(*bindings)
	}
	if uniq != nil {
		c.UniqueName = *uniq
	}
	c.Attributes = json.RawMessage(a)
	c.DateCreated, c.DateUpdated = storeutil.FromMillis(created), storeutil.FromMillis(upd)
	if lastIdx != nil && last != nil {
		c.LastMessage = &wire.LastMessage{Index: *lastIdx, DateCreated: storeutil.FromMillis(*last)}
	}
	return c, id, nil
}

func scanConversationView(sc scanner) (wire.Conversation, int64, error) {
	var (
		level    string
		lastRead *int64
	)
	c, id, err := scanConversation(extraScanner{sc, []any{&level, &lastRead}})
	if err == nil {
		c.Joined, c.NotificationLevel, c.LastReadMessageIndex = true, level, lastRead
	}
	return c, id, err
}

func conversation(ctx context.Context, q querier, sid string) (wire.Conversation, error) {
	c, _, err := scanConversation(q.QueryRow(ctx, `SELECT `+conversationCols+` FROM conversations c WHERE c.sid = $1`, sid))
	return c, err
}

// cursorPage reads up to limit items from rows fetched with LIMIT limit+1, and returns the
// cursor of the next page (the last item's id) when there is one.
func cursorPage[T any](rows pgx.Rows, limit int, scan func(scanner) (T, int64, error)) ([]T, string, error) {
	defer rows.Close()
	items := []T{}
	var lastID int64
	for rows.Next() {
		c, id, err := scan(rows)
		if err != nil {
			return nil, "", err
		}
		if len(items) == limit {
			return items, strconv.FormatInt(lastID, 10), rows.Err()
		}
		items, lastID = append(items, c), id
	}
	return items, "", rows.Err()
}

func (s *Store) CreateConversation(ctx context.Context, nc store.NewConversation) (wire.Conversation, error) {
	sid := store.NewSid(store.PrefixConversation)
	t := storeutil.Now()
	var conv wire.Conversation
	err := s.write(ctx, func(tx pgx.Tx) error {
		c, _, err := scanConversation(tx.QueryRow(ctx, `INSERT INTO conversations AS c
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
	c, _, err := scanConversation(s.pool.QueryRow(ctx, `SELECT `+conversationCols+` FROM conversations c WHERE c.unique_name = $1`, name))
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
	return cursorPage(rows, limit, scanConversationView)
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
	return cursorPage(rows, limit, scanConversation)
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
		pp, err := scanParticipant(extraScanner{tx.QueryRow(ctx, `SELECT `+participantSelect+`, notification_level
			FROM participants WHERE conversation_sid = $1 AND identity = $2`, sid, identity), []any{&level}})
		switch {
		case errors.Is(err, store.ErrNotFound):
			return nil
		case err != nil:
			return err
		}
		p = &pp
		c.Joined, c.NotificationLevel, c.LastReadMessageIndex = true, level, pp.LastReadMessageIndex
		return nil
	})
	return c, p, err
}

// member is a chat participant's per-user view of its conversation.
type member struct {
	identity string
	level    string
	lastRead *int64
}

func members(ctx context.Context, q querier, conv string) ([]member, error) {
	rows, _ := q.Query(ctx, `SELECT identity, notification_level, last_read_index FROM participants
		WHERE conversation_sid = $1 AND type = 'chat' ORDER BY id`, conv)
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (member, error) {
		var m member
		err := row.Scan(&m.identity, &m.level, &m.lastRead)
		return m, err
	})
}

func (m member) view(c wire.Conversation) wire.Conversation {
	c.Joined, c.NotificationLevel, c.LastReadMessageIndex = true, m.level, m.lastRead
	return c
}

// appendConvEvent emits a conversation event to members, each with its own view: a
// ConversationUpdatedEvent when reasons are given, else a ConversationEvent.
func (l *eventLog) appendConvEvent(ctx context.Context, name string, c wire.Conversation, reasons []string, ms []member) ([]store.Delivery, error) {
	byID := make(map[string]member, len(ms))
	ids := make([]string, len(ms))
	for i, m := range ms {
		byID[m.identity], ids[i] = m, m.identity
	}
	return l.appendFor(ctx, name, ids, func(id string) any {
		v := byID[id].view(c)
		if reasons != nil {
			return wire.ConversationUpdatedEvent{Conversation: v, UpdateReasons: reasons}
		}
		return wire.ConversationEvent{Conversation: v}
	})
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
		c = old
		var reasons []string
		if u.FriendlyName != nil && *u.FriendlyName != old.FriendlyName {
			reasons = append(reasons, wire.ReasonFriendlyName)
			c.FriendlyName = *u.FriendlyName
		}
		if u.UniqueName != nil && *u.UniqueName != old.UniqueName {
			reasons = append(reasons, wire.ReasonUniqueName)
			c.UniqueName = *u.UniqueName
		}
		if u.Attributes != nil && !storeutil.JSONEqual(u.Attributes, old.Attributes) {
			reasons = append(reasons, wire.ReasonAttributes)
			c.Attributes = u.Attributes
		}
		if len(reasons) == 0 {
			return nil
		}
		reasons = append(reasons, wire.ReasonDateUpdated)
		c, _, err = scanConversation(tx.QueryRow(ctx, `UPDATE conversations c SET friendly_name = $1, unique_name = $2, attributes = $3,
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
		ds, err = s.events(tx).append(ctx, wire.EventConversationRemoved, wire.ConversationRefEvent{ConversationSid: sid}, ids)
		return err
	})
	return media, ds, err
}
