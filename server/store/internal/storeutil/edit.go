package storeutil

import (
	"errors"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/wire"
)

// ReadHorizon is where a read-horizon update moves a participant's last read index from
// horizon, in the given mode (index is the mode's argument, last the conversation's last
// message), and whether that is a change.
func ReadHorizon(mode string, index, horizon *int64, last *wire.LastMessage) (next *int64, changed bool, err error) {
	next = horizon
	switch mode {
	case wire.ReadSet:
		next = index
	case wire.ReadAdvance:
		if index != nil && (horizon == nil || *index > *horizon) {
			next = index
		}
	case wire.ReadAll:
		if last != nil {
			i := last.Index
			next = &i
		}
	case wire.ReadNone:
		next = nil
	default:
		return nil, false, errors.New("unknown read mode " + mode)
	}
	changed = (next == nil) != (horizon == nil) || (next != nil && *next != *horizon)
	return next, changed, nil
}

// MessageEdit applies an update to a message as stored (old): the body and attributes to
// store, and the update reasons; no reasons when nothing changes.
func MessageEdit(old wire.Message, u store.MessageUpdate) (reasons []string, body *string, attrs wire.RawJSON) {
	body, attrs = old.Body, old.Attributes
	if u.Body != nil && (old.Body == nil || *u.Body != *old.Body) {
		reasons, body = append(reasons, wire.ReasonBody), u.Body
	}
	if u.Attributes != nil && !JSONEqual(u.Attributes, old.Attributes) {
		reasons, attrs = append(reasons, wire.ReasonAttributes), u.Attributes
	}
	if len(reasons) == 0 {
		return nil, body, attrs
	}
	if old.LastUpdatedBy != u.By {
		reasons = append(reasons, wire.ReasonLastUpdatedBy)
	}
	return append(reasons, wire.ReasonDateUpdated), body, attrs
}

// ConversationEdit applies an update to a conversation as stored (old): the conversation
// with the new fields, and the update reasons; no reasons when nothing changes.
func ConversationEdit(old wire.Conversation, u store.ConversationUpdate) (c wire.Conversation, reasons []string) {
	c = old
	if u.FriendlyName != nil && *u.FriendlyName != old.FriendlyName {
		reasons = append(reasons, wire.ReasonFriendlyName)
		c.FriendlyName = *u.FriendlyName
	}
	if u.UniqueName != nil && *u.UniqueName != old.UniqueName {
		reasons = append(reasons, wire.ReasonUniqueName)
		c.UniqueName = *u.UniqueName
	}
	if u.Attributes != nil && !JSONEqual(u.Attributes, old.Attributes) {
		reasons = append(reasons, wire.ReasonAttributes)
		c.Attributes = u.Attributes
	}
	if len(reasons) == 0 {
		return c, nil
	}
	return c, append(reasons, wire.ReasonDateUpdated)
}

// MessageExtras gathers the media and receipt counts of a batch of messages, read from
// their own tables, into the messages.
type MessageExtras struct {
	Sids   []string // the messages' sids, in order
	bySid  map[string]*wire.Message
	counts map[string]map[string]int
}

// NewMessageExtras starts gathering for ms, clearing their media and receipts.
func NewMessageExtras(ms []*wire.Message) *MessageExtras {
	x := &MessageExtras{Sids: make([]string, len(ms)), bySid: make(map[string]*wire.Message, len(ms)), counts: map[string]map[string]int{}}
	for i, m := range ms {
		x.bySid[m.Sid], x.Sids[i] = m, m.Sid
		m.Media, m.Receipts = nil, nil
	}
	return x
}

// AddMedia appends a media item (rows in position order) to message msg.
func (x *MessageExtras) AddMedia(msg string, md wire.Media) {
	x.bySid[msg].Media = append(x.bySid[msg].Media, md)
}

// AddReceipts counts n receipts of a status for message msg.
func (x *MessageExtras) AddReceipts(msg, status string, n int) {
	if x.counts[msg] == nil {
		x.counts[msg] = map[string]int{}
	}
	x.counts[msg][status] += n
}

// Done sets the messages' aggregated receipts from the counts.
func (x *MessageExtras) Done() {
	for msg, c := range x.counts {
		x.bySid[msg].Receipts = Aggregate(c)
	}
}

// Member is a chat participant's per-user view of its conversation.
type Member struct {
	Identity string
	Level    string
	LastRead *int64
}

// View is c as m sees it.
func (m Member) View(c wire.Conversation) wire.Conversation {
	c.Joined, c.NotificationLevel, c.LastReadMessageIndex = true, m.Level, m.LastRead
	return c
}

// ConvEvent is a conversation event for members, each with its own view: the recipients
// and the payload for each. The payload is a ConversationUpdatedEvent when reasons are
// given, else a ConversationEvent.
func ConvEvent(c wire.Conversation, reasons []string, ms []Member) (ids []string, payload func(id string) any) {
	byID := make(map[string]Member, len(ms))
	ids = make([]string, len(ms))
	for i, m := range ms {
		byID[m.Identity], ids[i] = m, m.Identity
	}
	return ids, func(id string) any {
		v := byID[id].View(c)
		if reasons != nil {
			return wire.ConversationUpdatedEvent{Conversation: v, UpdateReasons: reasons}
		}
		return wire.ConversationEvent{Conversation: v}
	}
}

// ContentEdit applies an update to a content template as stored (cur).
func ContentEdit(cur wire.ContentTemplate, u store.ContentTemplateUpdate) wire.ContentTemplate {
	if u.FriendlyName != nil {
		cur.FriendlyName = *u.FriendlyName
	}
	if u.Variables != nil {
		cur.Variables = *u.Variables
	}
	if len(u.Variants) > 0 {
		cur.Variants = u.Variants
	}
	return cur
}

// ParticipantView is c as a participant sees it, from that participant's read (pp, its
// notification level, and err, the read's error): with store.ErrNotFound, c as it is and
// no participant.
func ParticipantView(c wire.Conversation, pp wire.Participant, level string, err error) (wire.Conversation, *wire.Participant, error) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return c, nil, nil
	case err != nil:
		return c, nil, err
	}
	c.Joined, c.NotificationLevel, c.LastReadMessageIndex = true, level, pp.LastReadMessageIndex
	return c, &pp, nil
}
