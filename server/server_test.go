package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/server"
	"github.com/convo-sdk/convo/server/auth"
	"github.com/convo-sdk/convo/server/servertest"
	"github.com/convo-sdk/convo/wire"
)

// ctxT bounds a test's protocol calls; generous, since CI runs every package at once.
func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func code(t *testing.T, err error) wire.Code {
	t.Helper()
	require.Error(t, err)
	var we *wire.Error
	require.ErrorAs(t, err, &we, "want a *wire.Error, got %v", err)
	return we.Code
}

func str(s string) *string { return &s }

// unlimited lifts the rate limits, for tests that load the server on purpose.
var unlimited = servertest.Options{Configure: func(c *server.Config) {
	c.RequestRate, c.ConversationWriteRate = -1, -1
}}

// room has owner create and join a conversation and add the other identities.
func room(t *testing.T, ctx context.Context, owner *servertest.Client, others ...string) wire.Conversation {
	t.Helper()
	var conv wire.Conversation
	require.NoError(t, owner.Call(ctx, wire.OpConversationCreate, wire.CreateConversationArgs{FriendlyName: "room"}, &conv))
	require.NoError(t, owner.Call(ctx, wire.OpConversationJoin, wire.ConversationRef{ConversationSid: conv.Sid}, nil))
	for _, id := range others {
		require.NoError(t, owner.Call(ctx, wire.OpParticipantAdd, wire.AddParticipantArgs{ConversationSid: conv.Sid, Identity: id}, nil))
	}
	return conv
}

func decode[T any](t *testing.T, f *wire.Frame) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal(f.Data, &v))
	return v
}

func TestHelloWelcome(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t)
	before := time.Now()
	c := env.Connect(ctx, "alice")
	after := time.Now()
	w := c.Welcome
	assert.Equal(t, "alice", w.Identity)
	assert.Equal(t, "alice", w.User.Identity)
	assert.NotEmpty(t, w.Epoch)
	assert.EqualValues(t, 0, w.Offset)
	assert.False(t, w.Resumed)
	// The token is minted between before and after, for an hour; JWT times are whole seconds.
	assert.GreaterOrEqual(t, w.TokenExpires, before.Add(time.Hour-time.Second).UnixMilli())
	assert.LessOrEqual(t, w.TokenExpires, after.Add(time.Hour).UnixMilli())
}

func TestOpsHappyPath(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t)
	alice := env.Connect(ctx, "alice")
	bob := env.Connect(ctx, "bob")

	var conv wire.Conversation
	require.NoError(t, alice.Call(ctx, wire.OpConversationCreate, wire.CreateConversationArgs{
		FriendlyName: "General", UniqueName: "general", Attributes: wire.RawJSON(`{"topic":"x"}`)}, &conv))
	assert.Regexp(t, `^CH[0-9a-f]{32}$`, conv.Sid)
	assert.Equal(t, "alice", conv.CreatedBy)
	assert.False(t, conv.Joined, "creating does not join")
	assert.JSONEq(t, `{"topic":"x"}`, string(conv.Attributes))

	// The creator may get the conversation before joining, by sid and by unique name.
	var got wire.Conversation
	require.NoError(t, alice.Call(ctx, wire.OpConversationGet, wire.GetConversationArgs{UniqueName: "general"}, &got))
	assert.Equal(t, conv.Sid, got.Sid)
	require.NoError(t, alice.Call(ctx, wire.OpConversationGet, wire.GetConversationArgs{Sid: conv.Sid}, &got))
	assert.False(t, got.Joined)

	var me wire.Participant
	require.NoError(t, alice.Call(ctx, wire.OpConversationJoin, wire.ConversationRef{ConversationSid: conv.Sid}, &me))
	assert.Equal(t, "alice", me.Identity)
	assert.Regexp(t, `^MB[0-9a-f]{32}$`, me.Sid)
	evs, err := alice.Events(ctx, 2)
	require.NoError(t, err)
	assert.Equal(t, wire.EventConversationJoined, evs[0].Event)
	assert.EqualValues(t, 1, evs[0].Offset)
	ce := decode[wire.ConversationEvent](t, evs[0])
	assert.True(t, ce.Conversation.Joined)
	assert.Equal(t, conv.Sid, ce.Conversation.Sid)
	assert.Equal(t, wire.EventParticipantJoined, evs[1].Event)
	assert.EqualValues(t, 2, evs[1].Offset)

	// Bob peeks (knows the sid), alice adds him.
	require.NoError(t, bob.Call(ctx, wire.OpConversationPeek, wire.GetConversationArgs{Sid: conv.Sid}, &got))
	assert.False(t, got.Joined)
	var bp wire.Participant
	require.NoError(t, alice.Call(ctx, wire.OpParticipantAdd, wire.AddParticipantArgs{ConversationSid: conv.Sid, Identity: "bob",
		Attributes: wire.RawJSON(`{"role":"guest"}`)}, &bp))
	assert.Equal(t, "bob", bp.Identity)
	evs, err = bob.Events(ctx, 2)
	require.NoError(t, err)
	assert.Equal(t, []string{wire.EventConversationJoined, wire.EventParticipantJoined}, []string{evs[0].Event, evs[1].Event})
	f, err := alice.NextEvent(ctx)
	require.NoError(t, err)
	assert.Equal(t, wire.EventParticipantJoined, f.Event)
	assert.Equal(t, "bob", decode[wire.ParticipantEvent](t, f).Participant.Identity)

	var pp wire.ParticipantPage
	require.NoError(t, bob.Call(ctx, wire.OpParticipantList, wire.ConversationRef{ConversationSid: conv.Sid}, &pp))
	require.Len(t, pp.Items, 2)
	assert.Equal(t, "alice", pp.Items[0].Identity)
	assert.JSONEq(t, `{"role":"guest"}`, string(pp.Items[1].Attributes))

	var m wire.Message
	require.NoError(t, bob.Call(ctx, wire.OpMessageSend, wire.SendMessageArgs{ConversationSid: conv.Sid, Body: str("hello")}, &m))
	assert.EqualValues(t, 0, m.Index)
	assert.Equal(t, "bob", m.Author)
	assert.Equal(t, bp.Sid, m.ParticipantSid)
	for _, c := range []*servertest.Client{alice, bob} {
		f, err := c.NextEvent(ctx)
		require.NoError(t, err)
		assert.Equal(t, wire.EventMessageAdded, f.Event)
		assert.Equal(t, m.Sid, decode[wire.MessageEvent](t, f).Message.Sid)
	}

	var page wire.MessagePage
	require.NoError(t, alice.Call(ctx, wire.OpMessageList, wire.ListMessagesArgs{ConversationSid: conv.Sid}, &page))
	require.Len(t, page.Items, 1)
	assert.Equal(t, "hello", *page.Items[0].Body)
	assert.False(t, page.HasPrev)
	assert.False(t, page.HasNext)

	var cp wire.ConversationPage
	require.NoError(t, bob.Call(ctx, wire.OpConversationList, wire.ListArgs{}, &cp))
	require.Len(t, cp.Items, 1)
	assert.True(t, cp.Items[0].Joined)
	require.NotNil(t, cp.Items[0].LastMessage)
	assert.EqualValues(t, 0, cp.Items[0].LastMessage.Index)
	assert.Empty(t, cp.Next)
}

func TestMessagePagingOverWire(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t, unlimited)
	alice := env.Connect(ctx, "alice")
	conv := room(t, ctx, alice)
	for i := range 35 {
		require.NoError(t, alice.Call(ctx, wire.OpMessageSend, wire.SendMessageArgs{ConversationSid: conv.Sid, Body: str(fmt.Sprint(i))}, nil))
	}
	var p wire.MessagePage
	require.NoError(t, alice.Call(ctx, wire.OpMessageList, wire.ListMessagesArgs{ConversationSid: conv.Sid}, &p))
	require.Len(t, p.Items, wire.DefaultMessagePageSize)
	assert.EqualValues(t, 5, p.Items[0].Index)
	assert.EqualValues(t, 34, p.Items[29].Index)
	assert.True(t, p.HasPrev)
	assert.False(t, p.HasNext)
	anchor := int64(4)
	require.NoError(t, alice.Call(ctx, wire.OpMessageList, wire.ListMessagesArgs{ConversationSid: conv.Sid, Anchor: &anchor}, &p))
	require.Len(t, p.Items, 5)
	assert.False(t, p.HasPrev)
	assert.True(t, p.HasNext)
	require.NoError(t, alice.Call(ctx, wire.OpMessageList, wire.ListMessagesArgs{ConversationSid: conv.Sid, Anchor: &anchor, PageSize: 3, Direction: wire.Forward}, &p))
	require.Len(t, p.Items, 3)
	assert.EqualValues(t, 4, p.Items[0].Index)
	assert.True(t, p.HasPrev)
	assert.True(t, p.HasNext)
}

func TestConversationListPaging(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t)
	alice := env.Connect(ctx, "alice")
	var want []string
	for range 5 {
		want = append(want, room(t, ctx, alice).Sid)
	}
	var got []string
	args := wire.ListArgs{PageSize: 2}
	for {
		var p wire.ConversationPage
		require.NoError(t, alice.Call(ctx, wire.OpConversationList, args, &p))
		for _, c := range p.Items {
			got = append(got, c.Sid)
		}
		if p.Next == "" {
			break
		}
		args.After = p.Next
	}
	assert.Equal(t, want, got)
	assert.Equal(t, wire.CodeBadRequest, code(t, alice.Call(ctx, wire.OpConversationList, wire.ListArgs{After: "nope"}, nil)))
}

func TestAuthorization(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t)
	alice := env.Connect(ctx, "alice")
	mallory := env.Connect(ctx, "mallory")
	conv := room(t, ctx, alice, "bob")
	var m wire.Message
	require.NoError(t, alice.Call(ctx, wire.OpMessageSend, wire.SendMessageArgs{ConversationSid: conv.Sid, Body: str("secret")}, &m))

	forbidden := []struct {
		op   string
		args any
	}{
		{wire.OpConversationGet, wire.GetConversationArgs{Sid: conv.Sid}},
		{wire.OpParticipantAdd, wire.AddParticipantArgs{ConversationSid: conv.Sid, Identity: "mallory"}},
		{wire.OpParticipantList, wire.ConversationRef{ConversationSid: conv.Sid}},
		{wire.OpMessageSend, wire.SendMessageArgs{ConversationSid: conv.Sid, Body: str("hi")}},
		{wire.OpMessageList, wire.ListMessagesArgs{ConversationSid: conv.Sid}},
	}
	for _, tc := range forbidden {
		err := mallory.Call(ctx, tc.op, tc.args, nil)
		assert.Equal(t, wire.CodeForbidden, code(t, err), tc.op)
		assert.Contains(t, err.Error(), "not a participant", tc.op)
	}
	var p wire.ConversationPage
	require.NoError(t, mallory.Call(ctx, wire.OpConversationList, wire.ListArgs{}, &p))
	assert.Empty(t, p.Items)

	// Unknown sids are not found, for everyone.
	for _, op := range []string{wire.OpParticipantList, wire.OpConversationJoin} {
		assert.Equal(t, wire.CodeNotFound, code(t, mallory.Call(ctx, op, wire.ConversationRef{ConversationSid: "CH00000000000000000000000000000000"}, nil)), op)
	}
	assert.Equal(t, wire.CodeNotFound, code(t, mallory.Call(ctx, wire.OpConversationGet, wire.GetConversationArgs{UniqueName: "none"}, nil)))
	assert.Equal(t, wire.CodeNotFound, code(t, mallory.Call(ctx, wire.OpConversationPeek, wire.GetConversationArgs{Sid: "CHx"}, nil)))

	// Knowing the sid lets anyone peek and join; then everything is allowed.
	var peek wire.Conversation
	require.NoError(t, mallory.Call(ctx, wire.OpConversationPeek, wire.GetConversationArgs{Sid: conv.Sid}, &peek))
	assert.False(t, peek.Joined)
	require.NoError(t, mallory.Call(ctx, wire.OpConversationJoin, wire.ConversationRef{ConversationSid: conv.Sid}, nil))
	var page wire.MessagePage
	require.NoError(t, mallory.Call(ctx, wire.OpMessageList, wire.ListMessagesArgs{ConversationSid: conv.Sid}, &page))
	assert.Len(t, page.Items, 1)
	assert.Equal(t, wire.CodeConflict, code(t, mallory.Call(ctx, wire.OpConversationJoin, wire.ConversationRef{ConversationSid: conv.Sid}, nil)))
	assert.Equal(t, wire.CodeConflict, code(t, mallory.Call(ctx, wire.OpParticipantAdd, wire.AddParticipantArgs{ConversationSid: conv.Sid, Identity: "bob"}, nil)))

	// A unique name is taken once.
	require.NoError(t, alice.Call(ctx, wire.OpConversationCreate, wire.CreateConversationArgs{UniqueName: "u"}, nil))
	assert.Equal(t, wire.CodeConflict, code(t, mallory.Call(ctx, wire.OpConversationCreate, wire.CreateConversationArgs{UniqueName: "u"}, nil)))
	// A non-participant who is not the creator cannot get it by unique name either, and is not
	// told its sid (see TestGetByUniqueNameRevealsNothingToOutsiders).
	assert.Equal(t, wire.CodeNotFound, code(t, mallory.Call(ctx, wire.OpConversationGet, wire.GetConversationArgs{UniqueName: "u"}, nil)))
}

func TestLimitsAndBadRequests(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t, servertest.Options{MaxParticipants: 3})
	alice := env.Connect(ctx, "alice")
	conv := room(t, ctx, alice, "bob")
	long := func(n int) string { return strings.Repeat("é", n) } // counts characters, not bytes
	attrs := func(n int) wire.RawJSON { return wire.RawJSON(`"` + strings.Repeat("a", n-2) + `"`) }
	anchor := int64(-1)
	cases := []struct {
		name string
		op   string
		args any
		code wire.Code
		msg  string
	}{
		{"friendlyName", wire.OpConversationCreate, wire.CreateConversationArgs{FriendlyName: long(257)}, wire.CodeTooLarge, "friendlyName has 257 characters"},
		{"uniqueName", wire.OpConversationCreate, wire.CreateConversationArgs{UniqueName: long(257)}, wire.CodeTooLarge, "uniqueName"},
		{"conversation attributes", wire.OpConversationCreate, wire.CreateConversationArgs{Attributes: attrs(16<<10 + 1)}, wire.CodeTooLarge, "limit is 16384"},
		{"body", wire.OpMessageSend, wire.SendMessageArgs{ConversationSid: conv.Sid, Body: str(strings.Repeat("b", 32<<10+1))}, wire.CodeTooLarge, "body"},
		{"message attributes", wire.OpMessageSend, wire.SendMessageArgs{ConversationSid: conv.Sid, Body: str("x"), Attributes: attrs(4<<10 + 1)}, wire.CodeTooLarge, "limit is 4096"},
		{"empty message", wire.OpMessageSend, wire.SendMessageArgs{ConversationSid: conv.Sid}, wire.CodeBadRequest, "body or attributes"},
		{"idempotency key", wire.OpMessageSend, wire.SendMessageArgs{ConversationSid: conv.Sid, Body: str("x"), IdempotencyKey: strings.Repeat("k", 65)}, wire.CodeTooLarge, "idempotencyKey"},
		{"participant attributes", wire.OpParticipantAdd, wire.AddParticipantArgs{ConversationSid: conv.Sid, Identity: "carol", Attributes: attrs(4<<10 + 1)}, wire.CodeTooLarge, "attributes"},
		{"identity length", wire.OpParticipantAdd, wire.AddParticipantArgs{ConversationSid: conv.Sid, Identity: long(257)}, wire.CodeTooLarge, "identity has 257 characters"},
		{"identity missing", wire.OpParticipantAdd, wire.AddParticipantArgs{ConversationSid: conv.Sid}, wire.CodeBadRequest, "identity is required"},
		{"sid missing", wire.OpMessageSend, wire.SendMessageArgs{Body: str("x")}, wire.CodeBadRequest, "conversationSid is required"},
		{"page size", wire.OpMessageList, wire.ListMessagesArgs{ConversationSid: conv.Sid, PageSize: 101}, wire.CodeBadRequest, "pageSize"},
		{"direction", wire.OpMessageList, wire.ListMessagesArgs{ConversationSid: conv.Sid, Direction: "sideways"}, wire.CodeBadRequest, "direction"},
		{"anchor", wire.OpMessageList, wire.ListMessagesArgs{ConversationSid: conv.Sid, Anchor: &anchor}, wire.CodeBadRequest, "anchor"},
		{"field type", wire.OpMessageSend, wire.RawJSON(`{"conversationSid":"` + conv.Sid + `","body":42}`), wire.CodeBadRequest, `"body"`},
		{"args not object", wire.OpConversationCreate, wire.RawJSON(`[1]`), wire.CodeBadRequest, "JSON object"},
		{"get both", wire.OpConversationGet, wire.GetConversationArgs{Sid: conv.Sid, UniqueName: "x"}, wire.CodeBadRequest, "not both"},
		{"unknown op", "conversation.explode", nil, wire.CodeUnknownOp, "conversation.explode"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := alice.Call(ctx, tc.op, tc.args, nil)
			assert.Equal(t, tc.code, code(t, err))
			assert.Contains(t, err.Error(), tc.msg)
		})
	}

	// An error that quotes what it refuses quotes at most wire.MaxEchoChars of it.
	for name, tc := range map[string]struct {
		op   string
		args any
	}{
		"cursor":     {wire.OpConversationList, wire.ListArgs{After: strings.Repeat("x", 100_000)}},
		"unknown op": {strings.Repeat("o", 100_000), nil},
	} {
		err := alice.Call(ctx, tc.op, tc.args, nil)
		require.Error(t, err, name)
		assert.Less(t, len(err.Error()), 400, "%s: the error echoes the whole input", name)
	}

	// Right at the limits is fine.
	require.NoError(t, alice.Call(ctx, wire.OpMessageSend, wire.SendMessageArgs{ConversationSid: conv.Sid,
		Body: str(strings.Repeat("b", 32<<10)), Attributes: attrs(4 << 10)}, nil))
	require.NoError(t, alice.Call(ctx, wire.OpConversationCreate, wire.CreateConversationArgs{FriendlyName: long(256), Attributes: attrs(16 << 10)}, nil))

	// The participant limit (3 here).
	require.NoError(t, alice.Call(ctx, wire.OpParticipantAdd, wire.AddParticipantArgs{ConversationSid: conv.Sid, Identity: "carol"}, nil))
	err := alice.Call(ctx, wire.OpParticipantAdd, wire.AddParticipantArgs{ConversationSid: conv.Sid, Identity: "dave"}, nil)
	assert.Equal(t, wire.CodeTooManyMembers, code(t, err))
	assert.Contains(t, err.Error(), "limit of 3")
}

func TestTokenDefectsGetBye(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t)
	other := auth.NewKey("other")
	wrongKey, err := auth.Mint(other, "alice", time.Hour, "")
	require.NoError(t, err)
	wrongSecret, err := auth.Mint(auth.Key{ID: env.Key.ID, Secret: other.Secret}, "alice", time.Hour, "")
	require.NoError(t, err)
	cases := []struct {
		name, token string
		code        wire.Code
	}{
		{"garbage", "garbage", wire.CodeTokenInvalid},
		{"unknown kid", wrongKey, wire.CodeTokenInvalid},
		{"wrong secret", wrongSecret, wire.CodeTokenInvalid},
		{"expired", expiredToken(t, env.Key), wire.CodeTokenExpired},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := servertest.Dial(ctx, env.URL, tc.token, nil)
			assert.Equal(t, tc.code, code(t, err))
		})
	}
}

func expiredToken(t *testing.T, k auth.Key) string {
	// Mint refuses a negative ttl, so sign an old token by hand through the same claims type.
	tok, err := auth.MintAt(k, "alice", time.Now().Add(-2*time.Hour), time.Hour, "")
	require.NoError(t, err)
	return tok
}

func TestNoHello(t *testing.T) {
	ctx := ctxT(t)
	// Only silence waits for the hello timeout; the other cases must not race it on a
	// loaded machine, so they use a server with the default one.
	quick := servertest.Start(t, servertest.Options{HelloTimeout: 200 * time.Millisecond})
	env := servertest.Start(t)

	t.Run("silence", func(t *testing.T) {
		ws, err := servertest.DialRaw(ctx, quick.URL)
		require.NoError(t, err)
		c := &servertest.Client{WS: ws}
		defer c.Close()
		_, err = c.ReadFrame(ctx)
		assert.Equal(t, wire.CodeNoHello, code(t, err))
	})
	t.Run("request first", func(t *testing.T) {
		ws, err := servertest.DialRaw(ctx, env.URL)
		require.NoError(t, err)
		c := &servertest.Client{WS: ws}
		defer c.Close()
		err = c.Call(ctx, wire.OpConversationList, nil, nil)
		assert.Equal(t, wire.CodeNoHello, code(t, err))
	})
	t.Run("no subprotocol", func(t *testing.T) {
		ws, _, err := websocket.Dial(ctx, env.URL, nil)
		require.NoError(t, err)
		c := &servertest.Client{WS: ws}
		defer c.Close()
		_, err = c.ReadFrame(ctx)
		assert.Equal(t, wire.CodeBadRequest, code(t, err))
	})
	t.Run("bad frame after hello", func(t *testing.T) {
		c := env.Connect(ctx, "alice")
		require.NoError(t, c.WS.Write(ctx, websocket.MessageText, []byte(`{"type":"req"}`)))
		_, err := c.ReadFrame(ctx)
		assert.Equal(t, wire.CodeBadFrame, code(t, err))
	})
}

// A session ends with bye 40101 at its token's Deadline (exp + auth.Leeway), the moment the
// hello would start refusing the token: a token within the leeway gets a working session
// until then, not a welcome followed at once by a bye, and one past it is refused at hello.
func TestLiveTokenExpiry(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t)
	c, err := servertest.Dial(ctx, env.URL, env.Token("alice", 1500*time.Millisecond), nil)
	require.NoError(t, err)
	defer c.Close()
	_, err = c.ReadFrame(ctx)
	assert.Equal(t, wire.CodeTokenExpired, code(t, err))

	// exp lies 2 s in the past (JWT times are whole seconds: 2 to 3 s).
	now := time.Now()
	late, err := auth.MintAt(env.Key, "alice", now.Add(-time.Hour), time.Hour-2*time.Second, env.URL)
	require.NoError(t, err)
	c, err = servertest.Dial(ctx, env.URL, late, nil)
	require.NoError(t, err, "a token within the leeway is accepted")
	defer c.Close()
	exp := time.UnixMilli(c.Welcome.TokenExpires)
	assert.True(t, exp.Before(now), "the welcome gives the token's own exp, %v", exp)
	require.NoError(t, c.Call(ctx, wire.OpConversationList, wire.ListArgs{}, nil), "the session works")
	_, err = c.ReadFrame(ctx)
	assert.Equal(t, wire.CodeTokenExpired, code(t, err))
	assert.False(t, time.Now().Before(exp.Add(auth.Leeway)), "the bye comes at exp + leeway, not before")

	// exp lies further back than the leeway: refused at hello.
	past, err := auth.MintAt(env.Key, "alice", time.Now().Add(-time.Hour), time.Hour-auth.Leeway-time.Second, env.URL)
	require.NoError(t, err)
	_, err = servertest.Dial(ctx, env.URL, past, nil)
	assert.Equal(t, wire.CodeTokenExpired, code(t, err))
}

func TestTwoUsersExchangeMessages(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t)
	alice := env.Connect(ctx, "alice")
	bob := env.Connect(ctx, "bob")
	conv := room(t, ctx, alice, "bob")
	_, err := alice.Events(ctx, 3) // joined, participantJoined x2
	require.NoError(t, err)
	_, err = bob.Events(ctx, 2)
	require.NoError(t, err)

	for i := range 10 {
		sender := alice
		if i%2 == 1 {
			sender = bob
		}
		require.NoError(t, sender.Call(ctx, wire.OpMessageSend, wire.SendMessageArgs{ConversationSid: conv.Sid, Body: str(fmt.Sprint(i))}, nil))
	}
	for name, c := range map[string]*servertest.Client{"alice": alice, "bob": bob} {
		evs, err := c.Events(ctx, 10)
		require.NoError(t, err, name)
		first := evs[0].Offset
		for i, f := range evs {
			assert.Equal(t, wire.EventMessageAdded, f.Event, name)
			assert.Equal(t, first+uint64(i), f.Offset, name+": offsets are dense")
			assert.EqualValues(t, i, decode[wire.MessageEvent](t, f).Message.Index, name)
		}
	}
}

func TestIdempotentSend(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t)
	alice := env.Connect(ctx, "alice")
	conv := room(t, ctx, alice)
	_, err := alice.Events(ctx, 2)
	require.NoError(t, err)
	args := wire.SendMessageArgs{ConversationSid: conv.Sid, Body: str("once"), IdempotencyKey: "key-1"}
	var m1, m2 wire.Message
	require.NoError(t, alice.Call(ctx, wire.OpMessageSend, args, &m1))
	require.NoError(t, alice.Call(ctx, wire.OpMessageSend, args, &m2))
	assert.Equal(t, m1, m2)
	require.NoError(t, alice.Call(ctx, wire.OpMessageSend, wire.SendMessageArgs{ConversationSid: conv.Sid, Body: str("next")}, nil))
	evs, err := alice.Events(ctx, 2)
	require.NoError(t, err)
	assert.Equal(t, "once", *decode[wire.MessageEvent](t, evs[0]).Message.Body)
	assert.Equal(t, "next", *decode[wire.MessageEvent](t, evs[1]).Message.Body, "the retry produced no event")
	assert.Equal(t, evs[0].Offset+1, evs[1].Offset)
}

func TestResumeReplaysExactlyTheGap(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t)
	alice := env.Connect(ctx, "alice")
	bob := env.Connect(ctx, "bob")
	conv := room(t, ctx, alice, "bob")
	evs, err := bob.Events(ctx, 2)
	require.NoError(t, err)
	last := evs[1].Offset
	epoch := bob.Welcome.Epoch
	bob.Close()

	for i := range 3 {
		require.NoError(t, alice.Call(ctx, wire.OpMessageSend, wire.SendMessageArgs{ConversationSid: conv.Sid, Body: str(fmt.Sprint(i))}, nil))
	}
	bob2, err := servertest.Dial(ctx, env.URL, env.Token("bob", time.Hour), &wire.Resume{Epoch: epoch, Offset: last})
	require.NoError(t, err)
	defer bob2.Close()
	assert.True(t, bob2.Welcome.Resumed)
	assert.Equal(t, last+3, bob2.Welcome.Offset)
	evs, err = bob2.Events(ctx, 3)
	require.NoError(t, err)
	for i, f := range evs {
		assert.Equal(t, last+1+uint64(i), f.Offset)
		assert.Equal(t, fmt.Sprint(i), *decode[wire.MessageEvent](t, f).Message.Body)
	}
	// Live events continue right after the replay.
	require.NoError(t, alice.Call(ctx, wire.OpMessageSend, wire.SendMessageArgs{ConversationSid: conv.Sid, Body: str("live")}, nil))
	f, err := bob2.NextEvent(ctx)
	require.NoError(t, err)
	assert.Equal(t, last+4, f.Offset)
	assert.Equal(t, "live", *decode[wire.MessageEvent](t, f).Message.Body)
}

func TestResumeRefused(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t, servertest.Options{Retention: 3})
	alice := env.Connect(ctx, "alice")
	conv := room(t, ctx, alice)
	epoch := alice.Welcome.Epoch
	for range 5 {
		require.NoError(t, alice.Call(ctx, wire.OpMessageSend, wire.SendMessageArgs{ConversationSid: conv.Sid, Body: str("x")}, nil))
	}
	// Head is 7 (2 join events + 5 messages); 3 retained: 5, 6, 7.
	for name, r := range map[string]wire.Resume{
		"wrong epoch":     {Epoch: "nope", Offset: 7},
		"past retention":  {Epoch: epoch, Offset: 3},
		"from the future": {Epoch: epoch, Offset: 99},
	} {
		c, err := servertest.Dial(ctx, env.URL, env.Token("alice", time.Hour), &r)
		require.NoError(t, err, name)
		assert.False(t, c.Welcome.Resumed, name)
		assert.EqualValues(t, 7, c.Welcome.Offset, name)
		assert.Equal(t, epoch, c.Welcome.Epoch, name)
		c.Close()
	}
	c, err := servertest.Dial(ctx, env.URL, env.Token("alice", time.Hour), &wire.Resume{Epoch: epoch, Offset: 4})
	require.NoError(t, err)
	defer c.Close()
	assert.True(t, c.Welcome.Resumed, "offsets 5..7 are all retained")
	evs, err := c.Events(ctx, 3)
	require.NoError(t, err)
	assert.EqualValues(t, 5, evs[0].Offset)
}

func TestRestartKeepsData(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t)
	alice := env.Connect(ctx, "alice")
	conv := room(t, ctx, alice)
	require.NoError(t, alice.Call(ctx, wire.OpMessageSend, wire.SendMessageArgs{ConversationSid: conv.Sid, Body: str("persisted")}, nil))
	_, err := alice.Events(ctx, 3)
	require.NoError(t, err)
	epoch, url := alice.Welcome.Epoch, env.URL

	env.Restart()
	_, err = alice.ReadFrame(ctx)
	assert.Equal(t, wire.CodeUnavailable, code(t, err), "clients are told the server is going away")
	assert.Equal(t, url, env.URL, "same address after restart")

	c, err := servertest.Dial(ctx, env.URL, env.Token("alice", time.Hour), &wire.Resume{Epoch: epoch, Offset: 3})
	require.NoError(t, err)
	defer c.Close()
	assert.True(t, c.Welcome.Resumed)
	assert.EqualValues(t, 3, c.Welcome.Offset)
	var got wire.Conversation
	require.NoError(t, c.Call(ctx, wire.OpConversationGet, wire.GetConversationArgs{Sid: conv.Sid}, &got))
	assert.True(t, got.Joined)
	var p wire.MessagePage
	require.NoError(t, c.Call(ctx, wire.OpMessageList, wire.ListMessagesArgs{ConversationSid: conv.Sid}, &p))
	require.Len(t, p.Items, 1)
	assert.Equal(t, "persisted", *p.Items[0].Body)
	var m wire.Message
	require.NoError(t, c.Call(ctx, wire.OpMessageSend, wire.SendMessageArgs{ConversationSid: conv.Sid, Body: str("after")}, &m))
	assert.EqualValues(t, 1, m.Index)
}

func TestConcurrentSendersDenseAndComplete(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t, unlimited)
	const senders, each = 20, 10
	owner := env.Connect(ctx, "owner")
	ids := make([]string, senders)
	for i := range ids {
		ids[i] = fmt.Sprintf("user%02d", i)
	}
	conv := room(t, ctx, owner, ids...)
	_, err := owner.Events(ctx, 2+senders)
	require.NoError(t, err)

	clients := make([]*servertest.Client, senders)
	for i, id := range ids {
		clients[i] = env.Connect(ctx, id)
	}
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range each {
				if err := c.Call(ctx, wire.OpMessageSend, wire.SendMessageArgs{ConversationSid: conv.Sid,
					Body: str(fmt.Sprintf("%d-%d", i, j)), IdempotencyKey: fmt.Sprintf("k%d", j)}, nil); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	evs, err := owner.Events(ctx, senders*each)
	require.NoError(t, err)
	wg.Wait()
	seen := map[int64]bool{}
	for i, f := range evs {
		if i > 0 {
			require.Equal(t, evs[i-1].Offset+1, f.Offset, "dense offsets")
		}
		seen[decode[wire.MessageEvent](t, f).Message.Index] = true
	}
	for i := range int64(senders * each) {
		assert.True(t, seen[i], "index %d delivered", i)
	}
}

func TestSlowConsumerCatchesUpFromStore(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t, servertest.Options{QueueSize: 2, Configure: unlimited.Configure})
	alice := env.Connect(ctx, "alice")
	bob := env.Connect(ctx, "bob")
	conv := room(t, ctx, alice, "bob")
	// Bob reads nothing while alice sends: his queue overflows, alice is never slowed.
	const n = 200
	for i := range n {
		require.NoError(t, alice.Call(ctx, wire.OpMessageSend, wire.SendMessageArgs{ConversationSid: conv.Sid, Body: str(fmt.Sprint(i))}, nil))
	}
	evs, err := bob.Events(ctx, 2+n)
	require.NoError(t, err)
	for i, f := range evs {
		require.EqualValues(t, i+1, f.Offset)
	}
	assert.EqualValues(t, n-1, decode[wire.MessageEvent](t, evs[len(evs)-1]).Message.Index)
}

func TestSeveralConnectionsPerUser(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t)
	a1 := env.Connect(ctx, "alice")
	a2 := env.Connect(ctx, "alice")
	conv := room(t, ctx, a1)
	require.NoError(t, a1.Call(ctx, wire.OpMessageSend, wire.SendMessageArgs{ConversationSid: conv.Sid, Body: str("x")}, nil))
	for _, c := range []*servertest.Client{a1, a2} {
		evs, err := c.Events(ctx, 3)
		require.NoError(t, err)
		assert.EqualValues(t, 3, evs[2].Offset)
	}
}

func TestHTTPRoutes(t *testing.T) {
	ctx := ctxT(t)
	static := fstest.MapFS{
		"index.html":       {Data: []byte("<h1>demo</h1>")},
		"sdk/convo.wasm":   {Data: []byte("\x00asm")},
		"sdk/package.json": {Data: []byte("{}")},
	}
	env := servertest.Start(t, servertest.Options{DevTokens: true, Static: static})
	get := func(path string) (*http.Response, string) {
		req, _ := http.NewRequestWithContext(ctx, "GET", env.HTTPURL+path, nil)
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}
	res, body := get("/healthz")
	assert.Equal(t, 200, res.StatusCode)
	assert.Equal(t, "ok", body)
	res, body = get("/")
	assert.Equal(t, 200, res.StatusCode)
	assert.Contains(t, body, "demo")
	res, _ = get("/sdk/convo.wasm")
	assert.Equal(t, "application/wasm", res.Header.Get("Content-Type"))
	res, _ = get("/missing")
	assert.Equal(t, 404, res.StatusCode)

	post := func(body string) (*http.Response, map[string]any) {
		req, _ := http.NewRequestWithContext(ctx, "POST", env.HTTPURL+"/v1/dev/token", strings.NewReader(body))
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		var v map[string]any
		_ = json.NewDecoder(res.Body).Decode(&v)
		return res, v
	}
	res, v := post(`{"identity":"alice"}`)
	require.Equal(t, 200, res.StatusCode)
	tok, _ := v["token"].(string)
	claims, err := env.Keys.Verify(tok)
	require.NoError(t, err)
	assert.Equal(t, env.URL, claims.URL, "the token carries the WebSocket URL")
	c, err := servertest.Dial(ctx, claims.URL, tok, nil)
	require.NoError(t, err)
	c.Close()
	res, _ = post(`{"identity":""}`)
	assert.Equal(t, 400, res.StatusCode)
	res, _ = post(`nope`)
	assert.Equal(t, 400, res.StatusCode)

	off := servertest.Start(t)
	req, _ := http.NewRequestWithContext(ctx, "POST", off.HTTPURL+"/v1/dev/token", strings.NewReader(`{"identity":"alice"}`))
	r2, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	r2.Body.Close()
	assert.Equal(t, 404, r2.StatusCode)
}

// A unique name can be guessed, so asking for someone else's conversation by name must not
// reveal its sid (the capability to peek and join) or even that it exists.
func TestGetByUniqueNameRevealsNothingToOutsiders(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t)
	alice := env.Connect(ctx, "alice")
	mallory := env.Connect(ctx, "mallory")
	var conv wire.Conversation
	require.NoError(t, alice.Call(ctx, wire.OpConversationCreate, wire.CreateConversationArgs{UniqueName: "secret-room"}, &conv))

	err := mallory.Call(ctx, wire.OpConversationGet, wire.GetConversationArgs{UniqueName: "secret-room"}, nil)
	assert.Equal(t, wire.CodeNotFound, code(t, err))
	assert.NotContains(t, err.Error(), conv.Sid)
	missing := mallory.Call(ctx, wire.OpConversationGet, wire.GetConversationArgs{UniqueName: "no-such-room"}, nil)
	assert.Equal(t, strings.Replace(missing.Error(), "no-such-room", "secret-room", 1), err.Error(), "indistinguishable from a missing name")

	var got wire.Conversation
	require.NoError(t, alice.Call(ctx, wire.OpConversationGet, wire.GetConversationArgs{UniqueName: "secret-room"}, &got))
	assert.Equal(t, conv.Sid, got.Sid)
}

func TestHealthz(t *testing.T) {
	env := servertest.Start(t)
	healthz := func() (*http.Response, error) {
		req, err := http.NewRequestWithContext(ctxT(t), "GET", env.HTTPURL+"/healthz", nil)
		require.NoError(t, err)
		return http.DefaultClient.Do(req)
	}
	res, err := healthz()
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, 200, res.StatusCode)
	require.NoError(t, env.Store.Close()) // the store goes away under the server
	res, err = healthz()
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
}
