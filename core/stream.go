package core

import (
	"context"
	"encoding/json"
	"sort"

	"github.com/convo-sdk/convo/wire"
)

// Update payloads of the *Updated events: the object and what changed, with the vendor
// SDK's reason names.
type (
	ConversationUpdate struct {
		Conversation  *Conversation
		UpdateReasons []string
	}
	ParticipantUpdate struct {
		Participant   *Participant
		UpdateReasons []string
	}
	MessageUpdate struct {
		Message       *Message
		UpdateReasons []string
	}
	UserUpdate struct {
		User          *User
		UpdateReasons []string
	}
)

// handleEvent applies one server event to the object model and emits what the application
// sees. It runs on the event goroutine, in stream order.
func (c *Client) handleEvent(name string, data json.RawMessage) {
	switch name {
	case wire.EventConversationJoined:
		var ev wire.ConversationEvent
		if c.decodeEvent(name, data, &ev) {
			ev.Conversation.Joined = true
			conv, isNew := c.upsertConversation(ev.Conversation)
			conv.markStreamHistory(ev.Conversation.LastMessage)
			if isNew {
				c.Emit(EventConversationAdded, conv)
			}
			c.Emit(EventConversationJoined, conv)
		}
	case wire.EventConversationLeft, wire.EventConversationRemoved:
		var ev wire.ConversationRefEvent
		if c.decodeEvent(name, data, &ev) {
			c.dropConversation(ev.ConversationSid)
		}
	case wire.EventConversationUpdated:
		var ev wire.ConversationUpdatedEvent
		if c.decodeEvent(name, data, &ev) {
			var before *int64
			if known := c.conversation(ev.Conversation.Sid); known != nil {
				before = known.LastReadMessageIndex()
			}
			conv, isNew := c.upsertConversation(ev.Conversation)
			if isNew {
				c.Emit(EventConversationAdded, conv)
				return
			}
			// The echo of this client's own read report was already announced locally.
			if len(ev.UpdateReasons) == 1 && ev.UpdateReasons[0] == wire.ReasonLastReadMessageIndex &&
				sameIndex(before, ev.Conversation.LastReadMessageIndex) {
				return
			}
			c.emitConversationUpdated(conv, ev.UpdateReasons)
		}
	case wire.EventParticipantJoined:
		var ev wire.ParticipantEvent
		if c.decodeEvent(name, data, &ev) {
			if conv := c.conversation(ev.Participant.ConversationSid); conv != nil {
				p, _ := conv.upsertParticipant(ev.Participant)
				// The vendor's client loads a conversation's participants silently once
				// the user is in it, so the user's own arrival is no participantJoined.
				if ev.Participant.Identity == c.claims.Identity {
					return
				}
				c.Emit(EventParticipantJoined, p)
				conv.Emit(ConversationEventParticipantJoined, p)
			}
		}
	case wire.EventParticipantLeft:
		var ev wire.ParticipantEvent
		if c.decodeEvent(name, data, &ev) {
			if conv := c.conversation(ev.Participant.ConversationSid); conv != nil {
				// Its typing, if any, runs out by its timer, as with the vendor.
				p := conv.removeParticipant(ev.Participant)
				c.Emit(EventParticipantLeft, p)
				conv.Emit(ConversationEventParticipantLeft, p)
			}
		}
	case wire.EventParticipantUpdated:
		var ev wire.ParticipantUpdatedEvent
		if c.decodeEvent(name, data, &ev) {
			if conv := c.conversation(ev.Participant.ConversationSid); conv != nil {
				p, _ := conv.upsertParticipant(ev.Participant)
				u := ParticipantUpdate{Participant: p, UpdateReasons: ev.UpdateReasons}
				c.Emit(EventParticipantUpdated, u)
				conv.Emit(ConversationEventParticipantUpdated, u)
				p.Emit(ParticipantEventUpdated, u)
			}
		}
	case wire.EventMessageAdded:
		var ev wire.MessageEvent
		if c.decodeEvent(name, data, &ev) {
			c.emitMessageAdded(ev.Message)
		}
	case wire.EventMessageUpdated:
		var ev wire.MessageUpdatedEvent
		if c.decodeEvent(name, data, &ev) {
			if conv := c.conversation(ev.Message.ConversationSid); conv != nil {
				m, _ := conv.upsertMessage(ev.Message)
				u := MessageUpdate{Message: m, UpdateReasons: ev.UpdateReasons}
				c.Emit(EventMessageUpdated, u)
				conv.Emit(ConversationEventMessageUpdated, u)
				m.Emit(MessageEventUpdated, u)
			}
		}
	case wire.EventMessageRemoved:
		var ev wire.MessageEvent
		if c.decodeEvent(name, data, &ev) {
			if conv := c.conversation(ev.Message.ConversationSid); conv != nil {
				m := conv.removeMessage(ev.Message)
				c.Emit(EventMessageRemoved, m)
				conv.Emit(ConversationEventMessageRemoved, m)
			}
		}
	default:
		// A newer server may send events this client does not know; skipping them keeps
		// old clients working.
	}
}

// handleSignal applies an ephemeral signal (typing, user updates).
func (c *Client) handleSignal(name string, data json.RawMessage) {
	switch name {
	case wire.SignalTyping:
		var sig wire.TypingSignal
		if c.decodeEvent(name, data, &sig) {
			if conv := c.conversation(sig.ConversationSid); conv != nil {
				conv.typingSignal(sig)
			}
		}
	case wire.SignalUserUpdated:
		var sig wire.UserUpdatedSignal
		if c.decodeEvent(name, data, &sig) {
			c.applyUserUpdate(sig.User, sig.UpdateReasons)
		}
	}
}

// announceConversation tells listeners of a conversation the client has just come to know:
// conversationAdded, then conversationJoined when the user is a participant.
func (c *Client) announceConversation(conv *Conversation) {
	c.Emit(EventConversationAdded, conv)
	if conv.Status() == StatusJoined {
		c.Emit(EventConversationJoined, conv)
	}
}

// dropConversation forgets a conversation the user is no longer part of (they left, were
// removed, or it was deleted) and tells listeners: conversationLeft if the user was a
// participant, then conversationRemoved, then the conversation's own removed, with no
// conversationUpdated for the status, as the vendor's client does when a conversation leaves
// the user's list (docs/VENDOR-BEHAVIOUR.md). The object keeps what it holds, so reads on it
// answer locally; events that follow about it (the user's own participantLeft) find no
// conversation and are dropped.
func (c *Client) dropConversation(sid string) {
	conv := c.removeConversation(sid)
	if conv == nil {
		return
	}
	c.mu.Lock()
	wasJoined := conv.data.Joined
	conv.data.Joined = false
	conv.left = true
	c.mu.Unlock()
	if wasJoined {
		c.Emit(EventConversationLeft, conv)
	}
	c.Emit(EventConversationRemoved, conv)
	conv.Emit(ConversationEventRemoved, conv)
}

func (c *Client) emitConversationUpdated(conv *Conversation, reasons []string) {
	u := ConversationUpdate{Conversation: conv, UpdateReasons: reasons}
	c.Emit(EventConversationUpdated, u)
	conv.Emit(ConversationEventUpdated, u)
}

func (c *Client) emitMessageAdded(m wire.Message) {
	conv := c.conversation(m.ConversationSid)
	if conv == nil {
		return
	}
	msg, _ := conv.upsertMessage(m)
	if !msg.markAnnounced() {
		return // already announced (a resync overlapping a live event)
	}
	c.mu.Lock()
	if conv.streamLast == nil || *conv.streamLast < m.Index {
		i := m.Index
		conv.streamLast = &i
	}
	c.mu.Unlock()
	// A message from someone typing ends their typing at once.
	if p := conv.participantByIdentity(m.Author); p != nil {
		p.stopTyping()
	}
	c.Emit(EventMessageAdded, msg)
	conv.Emit(ConversationEventMessageAdded, msg)
	c.emitConversationUpdated(conv, []string{wire.ReasonLastMessage})
}

func (c *Client) decodeEvent(name string, data json.RawMessage, v any) bool {
	if err := json.Unmarshal(data, v); err != nil {
		c.opts.Logf("convo: dropping malformed %q event: %v", name, err)
		return false
	}
	return true
}

func (c *Client) conversation(sid string) *Conversation {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.conversations[sid]
}

// listAllConversations reads every page of the user's conversations.
func (c *Client) listAllConversations(ctx context.Context) ([]wire.Conversation, error) {
	var all []wire.Conversation
	args := wire.ListArgs{PageSize: wire.DefaultConversationPerPage}
	for {
		var page wire.ConversationPage
		if err := c.call(ctx, wire.OpConversationList, args, &page, true); err != nil {
			return nil, err
		}
		all = append(all, page.Items...)
		if page.Next == "" {
			return all, nil
		}
		args.After = page.Next
	}
}

// initialise loads the subscribed conversations, then reports the client initialised and
// announces them, in that order, as the vendor's client does in practice (its conversations
// take more round trips than its own user; docs/VENDOR-BEHAVIOUR.md §1). They are in place
// before initialized fires, so a listener of it finds them all.
func (c *Client) initialise() {
	list, err := c.listAllConversations(c.ctx)
	if err != nil {
		if c.ctx.Err() == nil {
			c.failInit(false, err)
		}
		return
	}
	c.events.push(func() {
		fresh := make([]*Conversation, 0, len(list))
		for _, d := range list {
			conv, isNew := c.upsertConversation(d)
			conv.markStreamHistory(d.LastMessage)
			if isNew {
				fresh = append(fresh, conv)
			}
		}
		if !c.initialised() {
			c.announceOwnUser()
		}
		c.succeedInit()
		for _, conv := range fresh {
			c.announceConversation(conv)
		}
	})
}

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
			c.Emit(EventConversationAdded, conv)
			c.Emit(EventConversationJoined, conv)
		case !before.Joined:
			c.Emit(EventConversationJoined, conv)
		case len(reasons) > 0:
			c.emitConversationUpdated(conv, reasons)
		}
		if d.LastMessage == nil || (last != nil && *last >= d.LastMessage.Index) {
			continue
		}
		if !c.replayMissedMessages(d.Sid, last) {
			complete = false
			continue
		}
		i := d.LastMessage.Index
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

// replayMissedMessages emits messageAdded for every message after index `after`; false when
// a page could not be fetched.
func (c *Client) replayMissedMessages(sid string, after *int64) bool {
	anchor := int64(0)
	if after != nil {
		anchor = *after + 1
	}
	for {
		args := wire.ListMessagesArgs{ConversationSid: sid, PageSize: wire.MaxPageSize, Anchor: &anchor, Direction: wire.Forward}
		var page wire.MessagePage
		if err := c.call(c.ctx, wire.OpMessageList, args, &page, true); err != nil {
			c.opts.Logf("convo: fetching missed messages of %s failed: %v", sid, err)
			return false
		}
		sort.Slice(page.Items, func(i, j int) bool { return page.Items[i].Index < page.Items[j].Index })
		for _, m := range page.Items {
			c.emitMessageAdded(m)
		}
		if !page.HasNext || len(page.Items) == 0 {
			return true
		}
		anchor = page.Items[len(page.Items)-1].Index + 1
	}
}
