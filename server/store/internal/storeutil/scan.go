package storeutil

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/convo-sdk/convo/wire"
)

// Scanner is what a row or a cursor over rows offers a scan function, with database/sql
// and pgx alike. Nullable columns scan into pointers (nil for NULL), which both accept.
type Scanner interface{ Scan(dest ...any) error }

// ExtraScanner scans a row's leading columns with an existing scan function and the
// trailing ones into Extra.
type ExtraScanner struct {
	Sc    Scanner
	Extra []any
}

func (e ExtraScanner) Scan(dest ...any) error { return e.Sc.Scan(append(dest, e.Extra...)...) }

// Rows is a cursor over a query's rows: *sql.Rows or pgx.Rows (the caller closes it).
type Rows interface {
	Scanner
	Next() bool
	Err() error
}

// All scans every row with scan; an empty result is an empty slice, not nil (lists are
// JSON arrays on the wire). The caller closes rows.
func All[T any](rows Rows, scan func(Scanner) (T, error)) ([]T, error) {
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// CursorPage reads up to limit items from rows fetched with LIMIT limit+1, and returns the
// cursor of the next page (the last item's id) when there is one.
func CursorPage[T any](rows Rows, limit int, scan func(Scanner) (T, int64, error)) ([]T, string, error) {
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

// Scans reads rows into wire types. NotFound maps the driver's error for a query that
// returned no row (store.ErrNotFound for sql.ErrNoRows or pgx.ErrNoRows) and passes any
// other error on; the scan functions apply it to what Scan returns.
type Scans struct{ NotFound func(error) error }

// ConversationCols are the columns Conversation scans (alias c).
const ConversationCols = `c.id, c.sid, c.unique_name, c.friendly_name, c.attributes, c.created_by,
	c.date_created, c.date_updated, c.last_message_index, c.last_message_date, c.state, c.state_date, c.bindings`

// ViewCols are the participant columns that make a conversation per-user (alias p), which
// ConversationView scans after ConversationCols.
const ViewCols = `p.notification_level, p.last_read_index`

// Conversation scans ConversationCols; the int64 is the row id (a paging cursor).
func (s Scans) Conversation(sc Scanner) (wire.Conversation, int64, error) {
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
		return c, 0, s.NotFound(err)
	}
	if stateDate != nil {
		c.State = &wire.ConversationState{Current: state, DateUpdated: FromMillis(*stateDate)}
	}
	if bindings != nil {
		c.Bindings = wire.RawJSON(*bindings)
	}
	c.UniqueName = Deref(uniq)
	c.Attributes = wire.RawJSON(a)
	c.DateCreated, c.DateUpdated = FromMillis(created), FromMillis(upd)
	if lastIdx != nil && last != nil {
		c.LastMessage = &wire.LastMessage{Index: *lastIdx, DateCreated: FromMillis(*last)}
	}
	return c, id, nil
}

// ConversationView scans ConversationCols and ViewCols: a conversation as one of its
// participants sees it.
func (s Scans) ConversationView(sc Scanner) (wire.Conversation, int64, error) {
	var (
		level    string
		lastRead *int64
	)
	c, id, err := s.Conversation(ExtraScanner{sc, []any{&level, &lastRead}})
	if err == nil {
		c.Joined, c.NotificationLevel, c.LastReadMessageIndex = true, level, lastRead
	}
	return c, id, err
}

// Participant scans sid, conversation_sid, identity, type, attributes, date_created,
// date_updated, last_read_index, last_read_date, address, proxy_address, bindings, role_sid.
// A non-chat participant's identity column holds a placeholder; it reads as "".
func (s Scans) Participant(sc Scanner) (wire.Participant, error) {
	var (
		p                         wire.Participant
		a                         string
		created, upd              int64
		lastReadDate              *int64
		addr, proxy, bind, roleID *string
	)
	err := sc.Scan(&p.Sid, &p.ConversationSid, &p.Identity, &p.Type, &a, &created, &upd,
		&p.LastReadMessageIndex, &lastReadDate, &addr, &proxy, &bind, &roleID)
	if err != nil {
		return wire.Participant{}, s.NotFound(err)
	}
	p.Attributes = wire.RawJSON(a)
	p.DateCreated, p.DateUpdated = FromMillis(created), FromMillis(upd)
	if lastReadDate != nil {
		t := FromMillis(*lastReadDate)
		p.LastReadTimestamp = &t
	}
	if p.Type != wire.ParticipantChat {
		p.Identity = ""
	}
	p.Address, p.ProxyAddress, p.RoleSid = Deref(addr), Deref(proxy), Deref(roleID)
	if bind != nil {
		p.Bindings = wire.RawJSON(*bind)
	}
	return p, nil
}

// Message scans sid, conversation_sid, idx, author, participant_sid, body, attributes,
// date_created, date_updated, subject, content_sid, content_variables, last_updated_by.
// Media and receipts come from their own tables (MessageExtras).
func (s Scans) Message(sc Scanner) (wire.Message, error) {
	var (
		m                   wire.Message
		psid, vars, content *string
		lastUpdatedBy       *string
		a                   string
		created, upd        int64
	)
	err := sc.Scan(&m.Sid, &m.ConversationSid, &m.Index, &m.Author, &psid, &m.Body, &a, &created, &upd,
		&m.Subject, &content, &vars, &lastUpdatedBy)
	if err != nil {
		return wire.Message{}, s.NotFound(err)
	}
	m.ParticipantSid, m.ContentSid, m.LastUpdatedBy = Deref(psid), Deref(content), Deref(lastUpdatedBy)
	if vars != nil {
		_ = json.Unmarshal([]byte(*vars), &m.ContentVariables)
	}
	m.Attributes = wire.RawJSON(a)
	m.DateCreated, m.DateUpdated = FromMillis(created), FromMillis(upd)
	return m, nil
}

// ContentCols are the columns Content scans.
const ContentCols = `id, sid, friendly_name, variables, variants, date_created, date_updated`

// Content scans ContentCols; the int64 is the row id (a paging cursor).
func (s Scans) Content(sc Scanner) (wire.ContentTemplate, int64, error) {
	var (
		t            wire.ContentTemplate
		id           int64
		vars, vnts   string
		created, upd int64
	)
	if err := sc.Scan(&id, &t.Sid, &t.FriendlyName, &vars, &vnts, &created, &upd); err != nil {
		return t, 0, s.NotFound(err)
	}
	if err := json.Unmarshal([]byte(vars), &t.Variables); err != nil {
		return t, 0, fmt.Errorf("content template %s: variables: %w", t.Sid, err)
	}
	if t.Variables == nil {
		t.Variables = []wire.ContentVariable{}
	}
	t.Variants = wire.RawJSON(vnts)
	t.DateCreated, t.DateUpdated = FromMillis(created), FromMillis(upd)
	return t, id, nil
}

// ReceiptCols are the columns Receipt scans.
const ReceiptCols = `sid, message_sid, conversation_sid, channel_message_sid, participant_sid, status, error_code, date_created, date_updated`

// Receipt scans ReceiptCols. Its error is Scan's own: no row is not mapped.
func Receipt(sc Scanner) (wire.DetailedReceipt, error) {
	var (
		r            wire.DetailedReceipt
		created, upd int64
	)
	err := sc.Scan(&r.Sid, &r.MessageSid, &r.ConversationSid, &r.ChannelMessageSid, &r.ParticipantSid, &r.Status, &r.ErrorCode, &created, &upd)
	r.DateCreated, r.DateUpdated = FromMillis(created), FromMillis(upd)
	return r, err
}

// ChannelMetadata decodes a message's stored channel metadata: nil when there is none.
func ChannelMetadata(raw *string) (*wire.ChannelMetadata, error) {
	if raw == nil || *raw == "" || *raw == "null" {
		return nil, nil
	}
	var md wire.ChannelMetadata
	if err := json.Unmarshal([]byte(*raw), &md); err != nil {
		return nil, err
	}
	return &md, nil
}

// Deref is *s, or "" for nil (a NULL text column).
func Deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
