package core

import (
	"context"
	"encoding/json"
	"sort"

	"github.com/convo-sdk/convo/wire"
)

// CreateConversationOptions are the optional fields of a new conversation.
type CreateConversationOptions struct {
	FriendlyName string
	UniqueName   string
	Attributes   json.RawMessage
}

// CreateConversation creates a conversation. The creator is not a participant until Join.
func (c *Client) CreateConversation(ctx context.Context, opts CreateConversationOptions) (*Conversation, error) {
	if err := c.ready(ctx); err != nil {
		return nil, err
	}
	args := wire.CreateConversationArgs{FriendlyName: opts.FriendlyName, UniqueName: opts.UniqueName, Attributes: opts.Attributes}
	var d wire.Conversation
	if err := c.call(ctx, wire.OpConversationCreate, args, &d, false); err != nil {
		return nil, err
	}
	conv, isNew := c.upsertConversation(d)
	if isNew {
		// The vendor emits conversationAdded inside the call, before it resolves.
		c.emitThenReturn(ctx, func() { c.Emit(EventConversationAdded, conv) })
	}
	return conv, nil
}

// GetConversationBySid returns a conversation the user participates in or, as the vendor's
// falls back to peeking, one whose sid the user knows.
func (c *Client) GetConversationBySid(ctx context.Context, sid string) (*Conversation, error) {
	conv, err := c.fetchConversation(ctx, wire.OpConversationGet, wire.GetConversationArgs{Sid: sid})
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
	if err := c.call(ctx, op, args, &d, true); err != nil {
		return nil, err
	}
	conv, isNew := c.upsertConversation(d)
	if isNew {
		// The vendor announces a conversation it comes to know this way before returning it.
		c.emitThenReturn(ctx, func() { c.announceConversation(conv) })
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
	sort.Slice(all, func(i, j int) bool {
		a, b := all[i].DateCreated(), all[j].DateCreated()
		if a.Equal(b) {
			return all[i].sid < all[j].sid
		}
		return a.Before(b)
	})
	return pageOf(all, 0, wire.DefaultConversationPerPage), nil
}

// OnMessageAdded calls fn for each new message in any subscribed conversation.
func (c *Client) OnMessageAdded(fn func(*Message)) (off func()) {
	return c.On(EventMessageAdded, func(args ...any) { fn(args[0].(*Message)) })
}

// OnConversationJoined calls fn for each conversation the user joins or is added to.
func (c *Client) OnConversationJoined(fn func(*Conversation)) (off func()) {
	return c.On(EventConversationJoined, func(args ...any) { fn(args[0].(*Conversation)) })
}

// OnConnectionStateChanged calls fn on each change of the connection state.
func (c *Client) OnConnectionStateChanged(fn func(ConnectionState)) (off func()) {
	return c.On(EventConnectionStateChanged, func(args ...any) { fn(args[0].(ConnectionState)) })
}
