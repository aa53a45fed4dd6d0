package core

import (
	"context"
	"time"
	"weak"

	"github.com/convo-sdk/convo/wire"
)

// Conversation statuses from the current user's point of view.
const (
	StatusJoined           = "joined"
	StatusNotParticipating = "notParticipating"
)

// Conversation is a conversation the client knows. One sid maps to one *Conversation for the
// life of the client, so applications can compare pointers.
type Conversation struct {
	emitter *Emitter
	client  *Client
	sid     string

	// Guarded by client.mu.
	data         wire.Conversation
	participants map[string]*Participant // by sid
	byIndex      []*Message              // messages' values in ascending index order, so trimming finds the oldest at once
	// evicted holds messages trimmed from messages that may still be referenced, until they
	// are collected; evictedAnnounced is the highest index of an announced one collected.
	evicted          map[sidKey]weak.Pointer[Message]
	evictedAnnounced int64
	lastTyping       time.Time // when Typing last sent a signal
	// streamLast is the newest message index the event stream has accounted for: announced
	// with messageAdded, or history from before the client followed the conversation. A
	// resync replays from there. (data.LastMessage is no guide: a send's reply or a history
	// page moves it before the messages up to it were announced.)
	streamLast *int64
	// left: the user was a participant and no longer is; the client has dropped the
	// conversation, and reads answer from what it still holds.
	left bool
	read readReport // the read horizon report waiting to be sent
	// reporting is held (a token in it) while a read report is being sent: a channel, so
	// that a flush waiting for it can give up with its context.
	reporting chan struct{}
	// names holds one copy of each author and participant sid of the cached messages
	// (guarded by client.mu; see upsertMessage).
	names map[string]string
}

// Emitter returns the conversation's string-named emitter, for bindings; see EventSource.
func (cv *Conversation) Emitter() *Emitter { return cv.emitter }

// upsertConversation returns the one object for d.Sid, updated to d, and whether it is new.
func (c *Client) upsertConversation(d wire.Conversation) (*Conversation, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	conv, ok := c.conversations[d.Sid]
	if !ok {
		conv = &Conversation{
			emitter:          c.newEmitter(),
			client:           c,
			sid:              d.Sid,
			participants:     make(map[string]*Participant),
			evictedAnnounced: -1,
			reporting:        make(chan struct{}, 1),
		}
		c.conversations[d.Sid] = conv
	}
	// Keep the newest lastMessage: a snapshot may be older than an event already applied.
	if conv.data.LastMessage != nil && (d.LastMessage == nil || d.LastMessage.Index < conv.data.LastMessage.Index) {
		d.LastMessage = conv.data.LastMessage
	}
	conv.data = d
	c.touchLocked("")
	return conv, !ok
}

func (cv *Conversation) snapshot() wire.Conversation {
	cv.client.mu.Lock()
	defer cv.client.mu.Unlock()
	return cv.data
}

// Sid returns the conversation's sid.
func (cv *Conversation) Sid() string { return cv.sid }

// Client returns the client this conversation belongs to.
func (cv *Conversation) Client() *Client { return cv.client }

// FriendlyName returns the display name, possibly empty.
func (cv *Conversation) FriendlyName() string { return cv.snapshot().FriendlyName }

// UniqueName returns the unique name, possibly empty.
func (cv *Conversation) UniqueName() string { return cv.snapshot().UniqueName }

// CreatedBy returns the creator's identity.
func (cv *Conversation) CreatedBy() string { return cv.snapshot().CreatedBy }

// DateCreated returns the creation time.
func (cv *Conversation) DateCreated() time.Time { return cv.snapshot().DateCreated }

// DateUpdated returns the last update time.
func (cv *Conversation) DateUpdated() time.Time { return cv.snapshot().DateUpdated }

// AttributesJSON returns the attributes as JSON ("{}" when unset).
func (cv *Conversation) AttributesJSON() wire.RawJSON {
	return orEmptyObject(cv.snapshot().Attributes)
}

// Status returns StatusJoined or StatusNotParticipating.
func (cv *Conversation) Status() string {
	if cv.snapshot().Joined {
		return StatusJoined
	}
	return StatusNotParticipating
}

// LastMessage is the newest message of a conversation: its index and date.
type LastMessage struct {
	Index       int64
	DateCreated time.Time
}

// LastMessage returns the newest message's index and date, or nil while there is none.
func (cv *Conversation) LastMessage() *LastMessage {
	lm := cv.snapshot().LastMessage
	if lm == nil {
		return nil
	}
	copied := LastMessage(*lm)
	return &copied
}

// Join makes the current user a participant.
func (cv *Conversation) Join(ctx context.Context) error {
	if err := cv.client.ready(ctx); err != nil {
		return err
	}
	var p wire.Participant
	return cv.client.callThenEvents(ctx, wire.OpConversationJoin, &wire.ConversationRef{ConversationSid: cv.sid}, &p, sendOnce, func() {
		// A left conversation stays left: joining again brings a new object, announced by
		// the stream's conversationJoined, as with the vendor.
		if cv.isLeft() {
			return
		}
		cv.client.mu.Lock()
		cv.data.Joined = true
		cv.client.mu.Unlock()
		cv.upsertParticipant(p)
	})
}

// Limits are the media limits the vendor SDK reports on Conversation.limits.
type Limits struct {
	MediaAttachmentsCountLimit         int
	MediaAttachmentSizeLimitInMb       int
	MediaAttachmentsTotalSizeLimitInMb int
	EmailHistoriesAllowedContentTypes  []string
	EmailBodiesAllowedContentTypes     []string
}

// Limits returns the media limits the server enforces.
func (cv *Conversation) Limits() Limits {
	mb := wire.DefaultMaxMediaBytes >> 20
	return Limits{
		MediaAttachmentsCountLimit:         wire.MaxMediaPerMessage,
		MediaAttachmentSizeLimitInMb:       mb,
		MediaAttachmentsTotalSizeLimitInMb: mb * wire.MaxMediaPerMessage,
		EmailHistoriesAllowedContentTypes:  []string{"text/html", "text/plain"},
		EmailBodiesAllowedContentTypes:     []string{"text/html", "text/plain"},
	}
}

// State returns the lifecycle state; an active one since creation when the server sent none.
func (cv *Conversation) State() ConversationState {
	d := cv.snapshot()
	if d.State == nil {
		return ConversationState{Current: wire.StateActive, DateUpdated: d.DateCreated}
	}
	return ConversationState(*d.State)
}

// ConversationState is a conversation's lifecycle state ("active", "inactive" or "closed")
// and when it was entered.
type ConversationState struct {
	Current     string
	DateUpdated time.Time
}

// NotificationLevel returns "default" or "muted" for the current user.
func (cv *Conversation) NotificationLevel() string {
	if l := cv.snapshot().NotificationLevel; l != "" {
		return l
	}
	return wire.NotificationDefault
}

// LastReadMessageIndex returns the current user's read horizon, nil until first set.
func (cv *Conversation) LastReadMessageIndex() *int64 {
	if i := cv.snapshot().LastReadMessageIndex; i != nil {
		v := *i
		return &v
	}
	return nil
}

// BindingsJSON returns the conversation's channel bindings as JSON ("{}" when none).
func (cv *Conversation) BindingsJSON() wire.RawJSON { return orEmptyObject(cv.snapshot().Bindings) }

// Leave removes the current user from the conversation. Leaving one the user is not part of
// does nothing, as with the vendor.
func (cv *Conversation) Leave(ctx context.Context) error {
	if err := cv.client.ready(ctx); err != nil {
		return err
	}
	if cv.Status() != StatusJoined {
		return nil
	}
	return cv.client.callThenEvents(ctx, wire.OpConversationLeave, &wire.ConversationRef{ConversationSid: cv.sid}, nil, resendLeave, nil)
}

// Delete deletes the conversation (its creator only).
func (cv *Conversation) Delete(ctx context.Context) error {
	if err := cv.client.ready(ctx); err != nil {
		return err
	}
	return cv.client.callThenEvents(ctx, wire.OpConversationDelete, &wire.ConversationRef{ConversationSid: cv.sid}, nil, resendRemoval, nil)
}

// UpdateConversationOptions are the fields Update changes: those that are not nil.
type UpdateConversationOptions struct {
	FriendlyName *string
	UniqueName   *string
	Attributes   wire.RawJSON
}

// Update changes the fields that are set. A name or unique name set to the value it already
// has, with nothing else, sends nothing, as with the vendor.
func (cv *Conversation) Update(ctx context.Context, opts UpdateConversationOptions) error {
	if err := cv.client.ready(ctx); err != nil {
		return err
	}
	if opts.Attributes == nil && (opts.FriendlyName == nil) != (opts.UniqueName == nil) {
		d := cv.snapshot()
		if (opts.FriendlyName != nil && *opts.FriendlyName == d.FriendlyName) ||
			(opts.UniqueName != nil && *opts.UniqueName == d.UniqueName) {
			return nil
		}
	}
	args := wire.UpdateConversationArgs{ConversationSid: cv.sid, FriendlyName: opts.FriendlyName, UniqueName: opts.UniqueName, Attributes: opts.Attributes}
	var d wire.Conversation
	return cv.client.callThenEvents(ctx, wire.OpConversationUpdate, &args, &d, resendAfterReconnect, func() { cv.client.upsertConversation(d) })
}

// SetUserNotificationLevel sets the current user's notification level ("default" or "muted").
func (cv *Conversation) SetUserNotificationLevel(ctx context.Context, level string) error {
	if level != wire.NotificationDefault && level != wire.NotificationMuted {
		return wire.Errorf(CodeClientArgument, "notification level must be %q or %q, got %q", wire.NotificationDefault, wire.NotificationMuted, level)
	}
	if err := cv.client.ready(ctx); err != nil {
		return err
	}
	var d wire.Conversation
	return cv.client.callThenEvents(ctx, wire.OpConversationNotify, &wire.NotificationLevelArgs{ConversationSid: cv.sid, Level: level}, &d, resendAfterReconnect,
		func() { cv.client.upsertConversation(d) })
}

// GetUnreadMessagesCount asks the server how many messages lie after the read horizon; nil
// while the horizon is unset.
func (cv *Conversation) GetUnreadMessagesCount(ctx context.Context) (*int64, error) {
	counts, err := cv.counts(ctx)
	return counts.Unread, err
}

// GetMessagesCount returns how many messages the conversation has.
func (cv *Conversation) GetMessagesCount(ctx context.Context) (int64, error) {
	counts, err := cv.counts(ctx)
	return counts.Messages, err
}

// GetParticipantsCount returns how many participants the conversation has.
func (cv *Conversation) GetParticipantsCount(ctx context.Context) (int64, error) {
	counts, err := cv.counts(ctx)
	return counts.Participants, err
}

func (cv *Conversation) counts(ctx context.Context) (wire.Counts, error) {
	var counts wire.Counts
	if err := cv.client.ready(ctx); err != nil {
		return counts, err
	}
	if err := cv.client.flushReads(ctx, cv); err != nil {
		return counts, err
	}
	err := cv.client.call(ctx, wire.OpConversationCounts, &wire.ConversationRef{ConversationSid: cv.sid}, &counts, resendAfterReconnect)
	return counts, err
}

// CreateConversationOptions are the optional fields of a new conversation.
type CreateConversationOptions struct {
	FriendlyName string
	UniqueName   string
	Attributes   wire.RawJSON
}

// CreateConversation creates a conversation. The creator is not a participant until Join.
func (c *Client) CreateConversation(ctx context.Context, opts CreateConversationOptions) (*Conversation, error) {
	if err := c.ready(ctx); err != nil {
		return nil, err
	}
	args := wire.CreateConversationArgs{FriendlyName: opts.FriendlyName, UniqueName: opts.UniqueName, Attributes: opts.Attributes}
	var d wire.Conversation
	if err := c.call(ctx, wire.OpConversationCreate, &args, &d, sendOnce); err != nil {
		return nil, err
	}
	// The vendor emits conversationAdded inside the call, before it resolves.
	var conv *Conversation
	if !c.onQueue(ctx, func() {
		var isNew bool
		if conv, isNew = c.upsertConversation(d); isNew {
			EventConversationAdded.emit(c.emitter, conv)
		}
	}) {
		return nil, c.callError(wire.OpConversationCreate, context.Cause(ctx))
	}
	return conv, nil
}

// GetConversationBySid returns a conversation the user participates in or, as the vendor's
// falls back to peeking, one whose sid the user knows.
func (c *Client) GetConversationBySid(ctx context.Context, sid string) (*Conversation, error) {
	conv, err := c.fetchConversation(ctx, wire.OpConversationGet, wire.GetConversationArgs{Sid: sid})
	if wire.CodeOf(err) == CodeClientOffline { // offline: the one the client holds, if any
		if known := c.conversation(sid); known != nil {
			return known, nil
		}
	}
	if wire.CodeOf(err) == wire.CodeForbidden {
		return c.PeekConversationBySid(ctx, sid)
	}
	return conv, err
}

// GetConversationByUniqueName returns a conversation the user participates in.
func (c *Client) GetConversationByUniqueName(ctx context.Context, uniqueName string) (*Conversation, error) {
	return c.fetchConversation(ctx, wire.OpConversationGet, wire.GetConversationArgs{UniqueName: uniqueName})
}

// PeekConversationBySid returns any conversation whose sid the user knows, without joining.
func (c *Client) PeekConversationBySid(ctx context.Context, sid string) (*Conversation, error) {
	return c.fetchConversation(ctx, wire.OpConversationPeek, wire.GetConversationArgs{Sid: sid})
}

func (c *Client) fetchConversation(ctx context.Context, op string, args wire.GetConversationArgs) (*Conversation, error) {
	if err := c.ready(ctx); err != nil {
		return nil, err
	}
	if args.Sid == "" && args.UniqueName == "" {
		return nil, wire.Errorf(CodeClientArgument, "a conversation sid or unique name is required")
	}
	var d wire.Conversation
	if err := c.call(ctx, op, &args, &d, resendAfterReconnect); err != nil {
		return nil, err
	}
	// Applied behind the events already queued (a conversationLeft, say, drops the old object
	// first), and announced before it is returned when it is new, as the vendor's lookups do.
	var conv *Conversation
	if !c.onQueue(ctx, func() {
		var isNew bool
		if conv, isNew = c.upsertConversation(d); isNew {
			c.announceConversation(conv)
		}
	}) {
		return nil, c.callError(op, context.Cause(ctx))
	}
	return conv, nil
}

// GetSubscribedConversations returns the user's conversations, 50 a page, oldest first.
func (c *Client) GetSubscribedConversations(ctx context.Context) (*Paginator[*Conversation], error) {
	if err := c.ready(ctx); err != nil {
		return nil, err
	}
	// As the vendor's, it answers once the conversations known so far have been announced.
	c.events.flush(ctx)
	c.mu.Lock()
	all := make([]*Conversation, 0, len(c.conversations))
	for _, conv := range c.conversations {
		if conv.data.Joined {
			all = append(all, conv)
		}
	}
	c.mu.Unlock()
	sortByCreation(all)
	return pageOf(all, 0, wire.DefaultConversationPerPage), nil
}

// listAllConversations reads every page of the user's conversations.
func (c *Client) listAllConversations(ctx context.Context) ([]wire.Conversation, error) {
	return listAll(ctx, c, wire.OpConversationList, wire.DefaultConversationPerPage,
		func(p *wire.ConversationPage) ([]wire.Conversation, string) { return p.Items, p.Next })
}

func (c *Client) conversation(sid string) *Conversation {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.conversations[sid]
}

// announceConversation tells listeners of a conversation the client has just come to know:
// conversationAdded, then conversationJoined when the user is a participant.
func (c *Client) announceConversation(conv *Conversation) {
	EventConversationAdded.emit(c.emitter, conv)
	if conv.Status() == StatusJoined {
		EventConversationJoined.emit(c.emitter, conv)
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
		EventConversationLeft.emit(c.emitter, conv)
	}
	EventConversationRemoved.emit(c.emitter, conv)
	ConversationEventRemoved.emit(conv.emitter, conv)
}

func (c *Client) removeConversation(sid string) *Conversation {
	c.mu.Lock()
	defer c.mu.Unlock()
	conv := c.conversations[sid]
	delete(c.conversations, sid)
	c.touchLocked("")
	return conv
}

func (c *Client) emitConversationUpdated(conv *Conversation, reasons []string) {
	u := ConversationUpdate{Conversation: conv, UpdateReasons: reasons}
	EventConversationUpdated.emit(c.emitter, u)
	ConversationEventUpdated.emit(conv.emitter, u)
}

func orEmptyObject(raw wire.RawJSON) wire.RawJSON {
	if len(raw) == 0 {
		return wire.RawJSON("{}")
	}
	return raw
}
