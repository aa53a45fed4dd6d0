package core

import (
	"github.com/convo-sdk/convo/wire"
)

// A conversation goes back when the server's store is restored from a backup
// (docs/DEPLOYMENT.md, "Backup and restore"): the messages written after the backup point
// are gone, and new messages take their indexes. The streams' epochs change with a restore,
// so every client resynchronises (resync.go), and there it finds that the server's last
// message is older than the newest it knows, or that the message at an index it knows has
// another sid. From the index where its messages and the server's part, it removes its own
// (messageRemoved, as for a deleted message) and announces the server's (messageAdded), in
// index order. The server's view of the conversation wins: its last message, and its read
// horizon (a read report still waiting to be sent that points past the new last message is
// dropped: it would mark as read messages the user never saw).

// cachedAt is the cached message at index i, nil when none is cached.
func (cv *Conversation) cachedAt(i int64) *Message {
	cv.client.mu.Lock()
	defer cv.client.mu.Unlock()
	return cv.cachedAtLocked(i)
}

func (cv *Conversation) cachedAtLocked(i int64) *Message {
	k := firstIndex(len(cv.byIndex), func(k int) bool { return cv.byIndex[k].data.Index >= i })
	if k < len(cv.byIndex) && cv.byIndex[k].data.Index == i {
		return cv.byIndex[k]
	}
	return nil
}

// changedAt tells whether the server's last message lm, at index i, is another message than
// the one the client knows there: the cached one, or else the last message of before (the
// conversation as the client knew it). Their creation times tell, so no request is needed;
// when the client knows neither, it takes the message to be the same.
func (cv *Conversation) changedAt(i int64, before wire.Conversation, lm *wire.LastMessage) bool {
	cv.client.mu.Lock()
	m := cv.cachedAtLocked(i)
	var created packedTime
	if m != nil {
		created = m.data.created
	}
	cv.client.mu.Unlock()
	if m != nil {
		return !created.time().Equal(lm.DateCreated)
	}
	if b := before.LastMessage; b != nil && b.Index == i {
		return !b.DateCreated.Equal(lm.DateCreated)
	}
	return false
}

// divergence finds the lowest index from which the client's cached messages up to at differ
// from the server's: it reads the server's pages backwards from at until a cached message
// is found unchanged (same index, same sid). With no such message in the cache, the oldest
// cached index is taken (at itself when nothing up to at is cached): what lies before the
// cache the client has not shown as news. False when a page could not be fetched.
func (c *Client) divergence(cv *Conversation, at int64) (int64, bool) {
	c.mu.Lock()
	n := firstIndex(len(cv.byIndex), func(k int) bool { return cv.byIndex[k].data.Index > at })
	known := make([]struct {
		index int64
		sid   string
	}, n)
	for k, m := range cv.byIndex[:n] {
		known[k].index, known[k].sid = m.data.Index, m.Sid()
	}
	c.mu.Unlock()
	if len(known) == 0 {
		return at, true
	}
	server := make(map[int64]string) // sid by index, of the pages read so far
	anchor, more := at, true
	for k := len(known) - 1; k >= 0; k-- {
		// Read on until the pages reach this message's index or the server's first message.
		for more && anchor >= known[k].index {
			page, ok := c.messagePage(cv.sid, anchor, wire.Backwards)
			if !ok {
				return 0, false
			}
			for _, m := range page.Items {
				server[m.Index] = m.Sid
			}
			more = page.HasPrev && len(page.Items) > 0
			if len(page.Items) > 0 {
				anchor = page.Items[0].Index - 1
			}
		}
		if server[known[k].index] == known[k].sid {
			return known[k].index + 1, true
		}
	}
	return known[0].index, true
}

// rewind makes conv's messages from index from on the server's: it reads them, removes the
// cached messages there that the server does not have (messageRemoved), then announces the
// server's (messageAdded), both in index order. lm is the server's last message (nil: the
// conversation has none). False when a page could not be fetched; nothing is changed then.
func (c *Client) rewind(cv *Conversation, from int64, lm *wire.LastMessage) bool {
	var items []wire.Message
	for anchor := from; lm != nil && anchor <= lm.Index; {
		page, ok := c.messagePage(cv.sid, anchor, wire.Forward)
		if !ok {
			return false
		}
		items = append(items, page.Items...)
		if !page.HasNext || len(page.Items) == 0 {
			break
		}
		anchor = page.Items[len(page.Items)-1].Index + 1
	}
	onServer := make(map[string]int64, len(items))
	for _, m := range items {
		onServer[m.Sid] = m.Index
	}

	c.mu.Lock()
	var gone []*Message
	kept := cv.byIndex[:0]
	for _, m := range cv.byIndex {
		if i, ok := onServer[m.Sid()]; m.data.Index >= from && (!ok || i != m.data.Index) {
			gone = append(gone, m)
			continue
		}
		kept = append(kept, m)
	}
	clear(cv.byIndex[len(kept):]) // the backing array must not keep removed messages alive
	cv.byIndex = kept
	for sid, w := range cv.evicted {
		if m := w.Value(); m != nil && m.data.Index >= from {
			delete(cv.evicted, sid)
		}
	}
	// Messages announced from here on are news again: the new ones at these indexes.
	if cv.streamLast != nil && *cv.streamLast >= from {
		i := from - 1
		cv.streamLast = &i
	}
	cv.evictedAnnounced = min(cv.evictedAnnounced, from-1)
	if lm != nil {
		l := *lm
		cv.data.LastMessage = &l
	} else {
		cv.data.LastMessage = nil
	}
	if p := cv.read.pending; p != nil && p.Index != nil && (lm == nil || *p.Index > lm.Index) {
		cv.read.pending = nil
	}
	c.touchLocked(cv.sid)
	c.mu.Unlock()

	for _, m := range gone {
		EventMessageRemoved.emit(c.emitter, m)
		ConversationEventMessageRemoved.emit(cv.emitter, m)
	}
	for _, m := range items {
		c.emitMessageAdded(m)
	}
	if len(gone) > 0 && len(items) == 0 {
		c.emitConversationUpdated(cv, []string{wire.ReasonLastMessage})
	}
	return true
}
