package core

import (
	"github.com/convo-sdk/convo/wire"
)

// markStreamHistory records, for a conversation the client starts following, that the
// messages up to last are history rather than news to announce (-1: there are none).
func (cv *Conversation) markStreamHistory(last *wire.LastMessage) {
	cv.client.mu.Lock()
	defer cv.client.mu.Unlock()
	if cv.streamLast == nil {
		i := int64(-1)
		if last != nil {
			i = last.Index
		}
		cv.streamLast = &i
	}
}

// resync runs after a reconnect whose gap the server could not replay: it reloads the
// conversations and emits what the application would have seen live: conversations added,
// updated, left or removed meanwhile, and the messages it missed, in index order.
//
// It runs on the event goroutine, queued before the new connection's first live event, and
// emits directly: live events wait behind it, so none is announced before the missed
// messages that precede it, and the replay starts where the stream left off.
//
// A resync that could not finish (a call failed or timed out, say while the connection was
// down again) runs again at the next connection, even one that resumes its stream: that
// stream starts after the gap this resync was filling. Where each conversation's gap starts
// is taken when the first attempt begins (resyncFrom), because the live events queued behind
// a failed attempt move the conversations past it. Running it again announces nothing twice
// (emitMessageAdded and the conversation views see to that); what a failed attempt let
// through live is announced before the gap's messages.
func (c *Client) resync() {
	if c.resyncFrom == nil {
		c.resyncFrom = c.gapStarts()
	}
	if c.resyncOnce() {
		c.resyncFrom = nil
		c.resyncPending.Store(false)
	}
}

// gapStarts is, for every known conversation, the index of the newest message the
// application has been told of (nil: none).
func (c *Client) gapStarts() map[string]*int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	from := make(map[string]*int64, len(c.conversations))
	for sid, cv := range c.conversations {
		last := cv.streamLast
		if last == nil && cv.data.LastMessage != nil {
			i := cv.data.LastMessage.Index
			last = &i
		}
		from[sid] = last
	}
	return from
}

// resyncOnce is one attempt at resync; it reports whether every step succeeded.
func (c *Client) resyncOnce() bool {
	list, err := c.listAllConversations(c.ctx)
	if err != nil {
		c.opts.Logf("convo: resynchronising after reconnect failed (retried at the next connection): %v", err)
		return false
	}
	complete := true
	listed := make(map[string]bool, len(list))
	for _, d := range list {
		listed[d.Sid] = true
		c.mu.Lock()
		var before wire.Conversation
		if known := c.conversations[d.Sid]; known != nil {
			before = known.data
		}
		c.mu.Unlock()
		last := c.resyncFrom[d.Sid] // nil for a conversation unknown before the gap
		reasons := conversationChanges(before, d)
		conv, isNew := c.upsertConversation(d)
		switch {
		case isNew:
			EventConversationAdded.emit(c.emitter, conv)
			EventConversationJoined.emit(c.emitter, conv)
		case !before.Joined:
			EventConversationJoined.emit(c.emitter, conv)
		case len(reasons) > 0:
			c.emitConversationUpdated(conv, reasons)
		}
		if !c.resyncMessages(conv, before, d, last) {
			complete = false
			continue
		}
		i := int64(-1)
		if d.LastMessage != nil {
			i = d.LastMessage.Index
		}
		c.resyncFrom[d.Sid] = &i // a later attempt need not replay this conversation again
	}

	// Joined conversations the server no longer lists were left or deleted meanwhile.
	c.mu.Lock()
	var gone []*Conversation
	for sid, conv := range c.conversations {
		if conv.data.Joined && !listed[sid] {
			gone = append(gone, conv)
		}
	}
	c.mu.Unlock()
	for _, conv := range gone {
		c.dropConversation(conv.sid)
	}
	return complete
}

// conversationChanges names what differs between two views of a conversation, with the
// vendor's update reasons. The last message is left out: replayed messages report it.
func conversationChanges(a, b wire.Conversation) []string {
	var reasons []string
	add := func(changed bool, reason string) {
		if changed {
			reasons = append(reasons, reason)
		}
	}
	add(a.FriendlyName != b.FriendlyName, wire.ReasonFriendlyName)
	add(a.UniqueName != b.UniqueName, wire.ReasonUniqueName)
	add(string(orEmptyObject(a.Attributes)) != string(orEmptyObject(b.Attributes)), wire.ReasonAttributes)
	add(!sameState(a.State, b.State), wire.ReasonState)
	add(!sameIndex(a.LastReadMessageIndex, b.LastReadMessageIndex), wire.ReasonLastReadMessageIndex)
	add(a.NotificationLevel != b.NotificationLevel, wire.ReasonNotificationLevel)
	add(!a.DateUpdated.Equal(b.DateUpdated), wire.ReasonDateUpdated)
	return reasons
}

func sameState(a, b *wire.ConversationState) bool {
	current := func(s *wire.ConversationState) string {
		if s == nil {
			return wire.StateActive
		}
		return s.Current
	}
	return current(a) == current(b)
}

// resyncMessages brings conv's messages in line with the server's view d of it, last being
// the newest index the application was told of before the gap (nil: none). In the common
// case the server has moved on from last and its messages after last are announced, with no
// request beyond the pages of those. When the conversation went back instead (a store
// restored from a backup: see rewind.go), the messages the server no longer has are removed
// and those now in their place announced. False when a page could not be fetched: a later
// attempt runs it again, and announces nothing twice.
func (c *Client) resyncMessages(conv *Conversation, before, d wire.Conversation, last *int64) bool {
	if last == nil {
		if d.LastMessage == nil {
			return true
		}
		ok, _ := c.replayMissedMessages(conv, nil)
		return ok
	}
	serverLast := int64(-1)
	if d.LastMessage != nil {
		serverLast = d.LastMessage.Index
	}
	check := *last    // the index whose message must still be the one the client knows
	from := int64(-1) // where the client's messages and the server's part (-1: they do not)
	if serverLast < check {
		from, check = serverLast+1, serverLast
	}
	switch {
	case serverLast < 0: // no message now: nothing to check or replay
	case serverLast == check:
		if !conv.changedAt(check, before, d.LastMessage) {
			break
		}
		p, ok := c.divergence(conv, check)
		if !ok {
			return false
		}
		from = p
	default: // the server has messages after check
		ok, diverged := c.replayMissedMessages(conv, &check)
		if !ok {
			return false
		}
		if diverged {
			p, ok := c.divergence(conv, check)
			if !ok {
				return false
			}
			from = p
		}
	}
	if from < 0 {
		return true
	}
	return c.rewind(conv, from, d.LastMessage)
}

// replayMissedMessages emits messageAdded for every message after index `after` (all of
// them when after is nil); false when a page could not be fetched. When the client holds
// the message at after, the first page starts there to check that the server still has that
// message; diverged reports that it has not, and then nothing was emitted.
func (c *Client) replayMissedMessages(conv *Conversation, after *int64) (ok, diverged bool) {
	anchor := int64(0)
	checkSid := ""
	if after != nil {
		anchor = *after + 1
		if m := conv.cachedAt(*after); m != nil {
			anchor, checkSid = *after, m.Sid()
		}
	}
	for {
		page, ok := c.messagePage(conv.sid, anchor, wire.Forward)
		if !ok {
			return false, false
		}
		items := page.Items
		if checkSid != "" {
			if len(items) == 0 || items[0].Index != anchor || items[0].Sid != checkSid {
				return true, true
			}
			items, checkSid = items[1:], ""
		}
		for _, m := range items {
			c.emitMessageAdded(m)
		}
		if !page.HasNext || len(page.Items) == 0 {
			return true, false
		}
		anchor = page.Items[len(page.Items)-1].Index + 1
	}
}

// messagePage fetches one page of sid's messages from anchor in direction, in index order;
// false (logged) when it could not be fetched.
func (c *Client) messagePage(sid string, anchor int64, direction string) (wire.MessagePage, bool) {
	args := wire.ListMessagesArgs{ConversationSid: sid, PageSize: wire.MaxPageSize, Anchor: &anchor, Direction: direction}
	var page wire.MessagePage
	if err := c.call(c.ctx, wire.OpMessageList, &args, &page, resendAfterReconnect); err != nil {
		c.opts.Logf("convo: fetching missed messages of %s failed: %v", sid, err)
		return page, false
	}
	sortStable(page.Items, func(a, b wire.Message) bool { return a.Index < b.Index })
	return page, true
}
