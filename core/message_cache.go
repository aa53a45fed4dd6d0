package core

import (
	"math"
	"runtime"
	"slices"
	"time"
	"weak"

	"github.com/convo-sdk/convo/wire"
)

// MessageCacheSize is how many messages each conversation keeps: the newest by index. The
// rule keeps the vendor SDK's observable behaviour with bounded memory:
//   - an evicted message the application can still reach (a Go pointer, or a JS wrapper
//     that JS code still holds: jsapi keeps a message only while its wrapper lives) is found
//     again through a weak pointer, so one sid stays one object while anyone can compare
//     it; only unreachable messages are forgotten;
//   - pages are always read from the server, so eviction never changes a page;
//   - messageAdded stays once per message: the highest index of an announced message that
//     was evicted and collected is remembered, and a message at or below it that comes back
//     counts as announced.
const MessageCacheSize = 100

// upsertMessage returns the one object for m.Sid, updated to m, and whether it is new.
func (cv *Conversation) upsertMessage(m wire.Message) (*Message, bool) {
	msg, isNew := cv.upsertMessageLocked(m)
	if hook := cv.client.opts.MessageChanged; hook != nil && !isNew {
		hook(msg)
	}
	return msg, isNew
}

func (cv *Conversation) upsertMessageLocked(m wire.Message) (*Message, bool) {
	c := cv.client
	c.mu.Lock()
	defer c.mu.Unlock()
	msg := cv.cachedLocked(m.Sid)
	ok := msg != nil
	if !ok {
		key := keyOfSid(m.Sid)
		if w, held := cv.evicted[key]; held {
			msg = w.Value() // evicted, but the application still holds it: keep it the one object
		}
		if msg == nil {
			msg = newMessage(cv, m.Sid)
			msg.announced = m.Index <= cv.evictedAnnounced
		} else {
			ok = true
		}
		delete(cv.evicted, key)
		// Live messages arrive in index order, so this is nearly always an append.
		i := firstIndex(len(cv.byIndex), func(i int) bool { return cv.byIndex[i].data.Index > m.Index })
		cv.byIndex = slices.Insert(cv.byIndex, i, msg)
		defer cv.trimLocked()
	}
	// JSON decoding gives every message its own copy of strings that thousands of cached
	// messages share: the conversation's sid and a few authors. Keep one of each.
	if m.ConversationSid == cv.sid {
		m.ConversationSid = cv.sid
	}
	m.Author = cv.internLocked(m.Author)
	m.ParticipantSid = cv.internLocked(m.ParticipantSid)
	msg.data = compactMessage(m, cv.sid)
	c.touchLocked(cv.sid)
	if lm := cv.data.LastMessage; lm == nil || lm.Index < m.Index {
		cv.data.LastMessage = &wire.LastMessage{Index: m.Index, DateCreated: m.DateCreated}
	}
	return msg, !ok
}

// trimLocked evicts the oldest messages beyond MessageCacheSize. cv.client.mu must be held.
func (cv *Conversation) trimLocked() {
	for len(cv.byIndex) > MessageCacheSize {
		// Resliced rather than shifted: a shift moves every cached pointer (each behind a
		// GC write barrier while the collector runs) at every message. The slot is cleared
		// so the backing array does not keep the message alive; the next append that
		// outgrows the array copies only the live part.
		oldest := cv.byIndex[0]
		cv.byIndex[0] = nil
		cv.byIndex = cv.byIndex[1:]
		if cv.evicted == nil {
			cv.evicted = make(map[sidKey]weak.Pointer[Message])
		}
		key := oldest.sidKey()
		cv.evicted[key] = weak.Make(oldest)
		runtime.AddCleanup(oldest, cv.forgetEvicted, evictedMessage{key, oldest.data.Index, oldest.announced})
	}
}

// cachedLocked returns the cached message sid, or nil. The cache is cv.byIndex, at most
// MessageCacheSize messages, searched from the newest (most events are about recent ones):
// a map beside it cost 45 bytes a message. cv.client.mu must be held.
func (cv *Conversation) cachedLocked(sid string) *Message {
	key := keyOfSid(sid)
	for i := len(cv.byIndex) - 1; i >= 0; i-- {
		if m := cv.byIndex[i]; m.sidKey() == key {
			return m
		}
	}
	return nil
}

// dropOrderLocked removes m from cv.byIndex. cv.client.mu must be held.
func (cv *Conversation) dropOrderLocked(m *Message) {
	if i := slices.Index(cv.byIndex, m); i >= 0 {
		cv.byIndex = slices.Delete(cv.byIndex, i, i+1)
	}
}

type evictedMessage struct {
	sid       sidKey
	index     int64
	announced bool
}

// forgetEvicted drops an evicted message once nothing references it any more.
func (cv *Conversation) forgetEvicted(e evictedMessage) {
	cv.client.mu.Lock()
	defer cv.client.mu.Unlock()
	if w, ok := cv.evicted[e.sid]; ok && w.Value() == nil {
		delete(cv.evicted, e.sid)
		if e.announced && e.index > cv.evictedAnnounced {
			cv.evictedAnnounced = e.index
		}
	}
}

// internLocked returns the conversation's shared copy of s. cv.client.mu must be held.
func (cv *Conversation) internLocked(s string) string {
	if s == "" {
		return s
	}
	if v, ok := cv.names[s]; ok {
		return v
	}
	if cv.names == nil {
		cv.names = make(map[string]string)
	}
	cv.names[s] = s
	return s
}

// messageData is a cached message's wire.Message in less than half its size: the sids live
// in Message and Conversation, and the fields most messages leave empty sit behind one
// pointer. A hundred thousand cached messages make the difference count.
type messageData struct {
	Index                  int64
	Author, ParticipantSid string
	Body                   *string
	created, updated       packedTime // 8 bytes each rather than time.Time's 24
	// rare holds what most messages lack, attributes other than {} included: with them out
	// of line a cached Message fits the 112-byte size class.
	rare *rareMessageFields
}

// packedTime is a UTC time as Unix nanoseconds, the zero time as math.MinInt64. The wire's
// times are UTC (RFC 3339 with Z), so unpack gives back the time that was packed.
type packedTime int64

const zeroPackedTime = packedTime(math.MinInt64)

func packTime(t time.Time) packedTime {
	if t.IsZero() {
		return zeroPackedTime
	}
	return packedTime(t.UnixNano())
}

func (p packedTime) time() time.Time {
	if p == zeroPackedTime {
		return time.Time{}
	}
	return time.Unix(0, int64(p)).UTC()
}

type rareMessageFields struct {
	Attributes       wire.RawJSON // nil for {}
	ConversationSid  string       // when it is not the conversation's (never, from a sane server)
	otherConv        bool
	Subject          *string
	Media            []wire.Media
	ContentSid       string
	ContentVariables []wire.ContentVariable
	LastUpdatedBy    string
	Receipts         *wire.AggregatedReceipt
}

func compactMessage(m wire.Message, convSid string) messageData {
	d := messageData{Index: m.Index, Author: m.Author, ParticipantSid: m.ParticipantSid, Body: m.Body,
		created: packTime(m.DateCreated), updated: packTime(m.DateUpdated)}
	r := rareMessageFields{Subject: m.Subject, Media: m.Media, ContentSid: m.ContentSid,
		ContentVariables: m.ContentVariables, LastUpdatedBy: m.LastUpdatedBy, Receipts: m.Receipts}
	if a := m.Attributes; len(a) > 0 && string(a) != "{}" {
		r.Attributes = a
	}
	if m.ConversationSid != convSid {
		r.ConversationSid, r.otherConv = m.ConversationSid, true
	}
	if r.otherConv || r.Attributes != nil || r.Subject != nil || r.Media != nil || r.ContentSid != "" ||
		r.ContentVariables != nil || r.LastUpdatedBy != "" || r.Receipts != nil {
		d.rare = &r
	}
	return d
}

// wire returns the message as decoded from the wire.
func (d *messageData) wire(sid, convSid string) wire.Message {
	m := wire.Message{Sid: sid, ConversationSid: convSid, Index: d.Index, Author: d.Author, ParticipantSid: d.ParticipantSid,
		Body: d.Body, DateCreated: d.created.time(), DateUpdated: d.updated.time()}
	if r := d.rare; r != nil {
		m.Attributes = r.Attributes
		if r.otherConv {
			m.ConversationSid = r.ConversationSid
		}
		m.Subject, m.Media, m.ContentSid, m.ContentVariables = r.Subject, r.Media, r.ContentSid, r.ContentVariables
		m.LastUpdatedBy, m.Receipts = r.LastUpdatedBy, r.Receipts
	}
	return m
}

// firstIndex returns the smallest i in [0, n) for which ok is true, n if none; ok must be
// false and then true along the range (sort.Search, without the package).
func firstIndex(n int, ok func(int) bool) int {
	lo, hi := 0, n
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if ok(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}
