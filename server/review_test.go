package server_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/server"
	"github.com/convo-sdk/convo/server/servertest"
	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/wire"
)

// A participant removed by someone else cannot come back by sid until the creator or the
// admin API adds it; leaving on one's own bans nothing. The ban survives a restart.
func TestRemovedParticipantCannotRejoin(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t)
	adm := newAdmin(t, env)
	alice := env.Connect(ctx, "alice") // creator
	conv := room(t, ctx, alice, "bob", "carol")
	join := func(c *servertest.Client) error {
		return c.Call(ctx, wire.OpConversationJoin, wire.ConversationRef{ConversationSid: conv.Sid}, nil)
	}
	add := func(c *servertest.Client, id string) error {
		return c.Call(ctx, wire.OpParticipantAdd, wire.AddParticipantArgs{ConversationSid: conv.Sid, Identity: id}, nil)
	}
	remove := func(c *servertest.Client, id string) error {
		return c.Call(ctx, wire.OpParticipantRemove, wire.RemoveParticipantArgs{ConversationSid: conv.Sid, Identity: id}, nil)
	}

	require.NoError(t, remove(alice, "bob"))
	env.Restart()
	alice = env.Connect(ctx, "alice")
	bob := env.Connect(ctx, "bob")
	carol := env.Connect(ctx, "carol")
	err := join(bob)
	require.Equal(t, wire.CodeForbidden, code(t, err))
	assert.Contains(t, err.Error(), "you were removed")
	assert.Equal(t, wire.CodeForbidden, code(t, add(carol, "bob")), "another participant cannot bring bob back")
	var ps wire.ParticipantPage
	require.NoError(t, alice.Call(ctx, wire.OpParticipantList, wire.ConversationRef{ConversationSid: conv.Sid}, &ps))
	assert.Len(t, ps.Items, 2, "alice and carol")

	// The creator adds bob back: the ban is lifted.
	require.NoError(t, add(alice, "bob"))
	require.NoError(t, bob.Call(ctx, wire.OpConversationLeave, wire.ConversationRef{ConversationSid: conv.Sid}, nil))
	require.NoError(t, join(bob), "leaving on one's own bans nothing")
	require.NoError(t, remove(bob, "bob"), "removing oneself is leaving")
	require.NoError(t, join(bob))

	// The admin API removes carol: banned; its add lifts the ban.
	adm.do("DELETE", "/conversations/"+conv.Sid+"/participants/carol", nil, nil)
	assert.Equal(t, wire.CodeForbidden, code(t, join(carol)))
	adm.do("POST", "/conversations/"+conv.Sid+"/participants", map[string]any{"identity": "carol"}, nil)
	require.NoError(t, carol.Call(ctx, wire.OpConversationLeave, wire.ConversationRef{ConversationSid: conv.Sid}, nil))
	require.NoError(t, join(carol))

	// Removed by the admin API, the creator cannot bring itself back; the admin API can.
	adm.do("DELETE", "/conversations/"+conv.Sid+"/participants/"+url.PathEscape("alice"), nil, nil)
	assert.Equal(t, wire.CodeForbidden, code(t, join(alice)))
	assert.Equal(t, wire.CodeForbidden, code(t, add(alice, "alice")))
	adm.do("POST", "/conversations/"+conv.Sid+"/participants", map[string]any{"identity": "alice"}, nil)
	require.NoError(t, alice.Call(ctx, wire.OpParticipantList, wire.ConversationRef{ConversationSid: conv.Sid}, &ps))
	assert.Len(t, ps.Items, 3)
}

// Only the creator (or the admin API) may change or clear a conversation's unique name;
// other participants still change the other fields.
func TestUniqueNameCreatorOnly(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t)
	adm := newAdmin(t, env)
	alice := env.Connect(ctx, "alice") // creator
	bob := env.Connect(ctx, "bob")
	var conv wire.Conversation
	require.NoError(t, alice.Call(ctx, wire.OpConversationCreate, wire.CreateConversationArgs{UniqueName: "support"}, &conv))
	require.NoError(t, alice.Call(ctx, wire.OpParticipantAdd, wire.AddParticipantArgs{ConversationSid: conv.Sid, Identity: "bob"}, nil))
	update := func(c *servertest.Client, args wire.UpdateConversationArgs, out *wire.Conversation) error {
		args.ConversationSid = conv.Sid
		return c.Call(ctx, wire.OpConversationUpdate, args, out)
	}
	assert.Equal(t, wire.CodeForbidden, code(t, update(bob, wire.UpdateConversationArgs{UniqueName: str("mine")}, nil)))
	assert.Equal(t, wire.CodeForbidden, code(t, update(bob, wire.UpdateConversationArgs{UniqueName: str("")}, nil)), "clearing")
	assert.Equal(t, wire.CodeForbidden, code(t, update(bob, wire.UpdateConversationArgs{FriendlyName: str("x"), UniqueName: str("mine")}, nil)), "nothing is applied")
	var got wire.Conversation
	require.NoError(t, update(bob, wire.UpdateConversationArgs{FriendlyName: str("Help")}, &got))
	assert.Equal(t, "Help", got.FriendlyName)
	assert.Equal(t, "support", got.UniqueName)

	require.NoError(t, update(alice, wire.UpdateConversationArgs{UniqueName: str("support-2")}, &got))
	assert.Equal(t, "support-2", got.UniqueName)
	var byAdmin wire.Conversation
	adm.do("PATCH", "/conversations/"+conv.Sid, map[string]any{"uniqueName": "support-3"}, &byAdmin)
	assert.Equal(t, "support-3", byAdmin.UniqueName)
	got = wire.Conversation{}
	require.NoError(t, update(alice, wire.UpdateConversationArgs{UniqueName: str("")}, &got))
	assert.Equal(t, conv.Sid, got.Sid)
	assert.Empty(t, got.UniqueName)
}

// message.update and message.remove need the caller to be the author and the participant
// the message was written as: a chat user who takes the name of an admin API system message
// or of an SMS sender cannot change their messages; the admin API still can.
func TestAuthorChecksUseTheParticipant(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t)
	adm := newAdmin(t, env)
	alice := env.Connect(ctx, "alice")
	conv := room(t, ctx, alice)
	adm.do("POST", "/conversations/"+conv.Sid+"/participants", map[string]any{"address": "+15550001", "proxyAddress": "+15559999"}, nil)
	var sysMsg, smsMsg wire.Message
	adm.do("POST", "/conversations/"+conv.Sid+"/messages", map[string]any{"body": "maintenance tonight"}, &sysMsg)
	require.Equal(t, "system", sysMsg.Author)
	require.Empty(t, sysMsg.ParticipantSid)
	adm.do("POST", "/conversations/"+conv.Sid+"/messages", map[string]any{"author": "+15550001", "body": "inbound"}, &smsMsg)
	require.NotEmpty(t, smsMsg.ParticipantSid)

	for _, tc := range []struct {
		identity string
		msg      wire.Message
	}{{"system", sysMsg}, {"+15550001", smsMsg}} {
		c := env.Connect(ctx, tc.identity)
		require.NoError(t, c.Call(ctx, wire.OpConversationJoin, wire.ConversationRef{ConversationSid: conv.Sid}, nil))
		assert.Equal(t, wire.CodeForbidden, code(t, c.Call(ctx, wire.OpMessageUpdate, wire.UpdateMessageArgs{
			ConversationSid: conv.Sid, MessageSid: tc.msg.Sid, Body: str("forged")}, nil)), tc.identity)
		assert.Equal(t, wire.CodeForbidden, code(t, c.Call(ctx, wire.OpMessageRemove, wire.MessageRef{
			ConversationSid: conv.Sid, MessageSid: tc.msg.Sid}, nil)), tc.identity)
		var got wire.Message
		adm.do("GET", "/conversations/"+conv.Sid+"/messages/"+tc.msg.Sid, nil, &got)
		assert.Equal(t, *tc.msg.Body, *got.Body, "unchanged")
	}
	var edited wire.Message
	adm.do("PATCH", "/conversations/"+conv.Sid+"/messages/"+sysMsg.Sid, map[string]any{"body": "maintenance tomorrow"}, &edited)
	assert.Equal(t, "maintenance tomorrow", *edited.Body)

	// The author's own messages stay theirs.
	var mine wire.Message
	require.NoError(t, alice.Call(ctx, wire.OpMessageSend, wire.SendMessageArgs{ConversationSid: conv.Sid, Body: str("hi")}, &mine))
	require.NoError(t, alice.Call(ctx, wire.OpMessageUpdate, wire.UpdateMessageArgs{ConversationSid: conv.Sid, MessageSid: mine.Sid, Body: str("hello")}, nil))
	require.NoError(t, alice.Call(ctx, wire.OpMessageRemove, wire.MessageRef{ConversationSid: conv.Sid, MessageSid: mine.Sid}, nil))
}

// Uploads are limited per identity: over the budget they get 42900 (HTTP 429); another
// identity is not affected.
func TestMediaUploadRateLimit(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t, servertest.Options{Configure: func(c *server.Config) {
		c.MediaUploadsPerMinute, c.MediaUploadBurst = 1, 3
	}})
	for i := range 3 {
		_, err := env.Upload(ctx, "alice", "f", "", "", []byte("x"))
		require.NoError(t, err, "upload %d", i)
	}
	_, err := env.Upload(ctx, "alice", "f", "", "", []byte("x"))
	assert.Equal(t, wire.CodeRateLimited, code(t, err))
	_, err = env.Upload(ctx, "bob", "f", "", "", []byte("x"))
	require.NoError(t, err)
}

// Format characters such as U+202E (right-to-left override) are dropped from file names.
func TestMediaFilenameDropsFormatCharacters(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t)
	m, err := env.Upload(ctx, "alice", "invoice\u202Efdp.exe", "", "", []byte("x"))
	require.NoError(t, err)
	assert.Equal(t, "invoicefdp.exe", m.Filename)
	m, err = env.Upload(ctx, "alice", "a\u200bb\ufeffc\u2066d.txt", "", "", []byte("x"))
	require.NoError(t, err)
	assert.Equal(t, "abcd.txt", m.Filename)
}

// The sweeper deletes media never attached to a message once UnattachedMediaTTL has passed
// (record and file) and stale temporary upload files; attached media and fresh temporary
// files stay.
func TestMediaSweeper(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t, servertest.Options{Configure: func(c *server.Config) {
		c.UnattachedMediaTTL, c.MediaSweepInterval = 2*time.Second, 50*time.Millisecond
	}})
	alice := env.Connect(ctx, "alice")
	conv := room(t, ctx, alice)
	orphan, err := env.Upload(ctx, "alice", "orphan.txt", "", "text/plain", []byte("nobody wants me"))
	require.NoError(t, err)
	kept, err := env.Upload(ctx, "alice", "kept.txt", "", "text/plain", []byte("attached"))
	require.NoError(t, err)
	require.NoError(t, alice.Call(ctx, wire.OpMessageSend, wire.SendMessageArgs{ConversationSid: conv.Sid, MediaSids: []string{kept.Sid}}, nil))
	stale := filepath.Join(env.MediaDir, ".upload-stale")
	fresh := filepath.Join(env.MediaDir, ".upload-fresh")
	require.NoError(t, os.WriteFile(stale, []byte("half"), 0o600))
	require.NoError(t, os.WriteFile(fresh, []byte("half"), 0o600))
	old := time.Now().Add(-2 * time.Hour)
	require.NoError(t, os.Chtimes(stale, old, old))

	gone := func(path string) bool {
		_, err := os.Stat(path)
		return errors.Is(err, os.ErrNotExist)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, err := env.Store.Media(ctx, orphan.Sid)
		if errors.Is(err, store.ErrNotFound) && gone(filepath.Join(env.MediaDir, orphan.Sid)) && gone(stale) {
			break
		}
		require.True(t, time.Now().Before(deadline), "the orphan media and the stale upload file were not swept")
		time.Sleep(20 * time.Millisecond)
	}
	assert.Equal(t, wire.CodeNotFound, code(t, alice.Call(ctx, wire.OpMediaURLs, wire.MediaURLsArgs{MediaSids: []string{orphan.Sid}}, nil)))
	_, err = env.Store.Media(ctx, kept.Sid)
	require.NoError(t, err, "attached media stays")
	assert.FileExists(t, filepath.Join(env.MediaDir, kept.Sid))
	assert.FileExists(t, fresh, "an upload in progress is left alone")
}

// Client-supplied strings (the hello's client name, a token's kid) reach logs and errors at
// most 128 characters long.
func TestClientStringsClippedInLogs(t *testing.T) {
	ctx := ctxT(t)
	var logs syncBuffer
	env := servertest.Start(t, servertest.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	b64 := base64.RawURLEncoding.EncodeToString
	kid := strings.Repeat("k", 5000)
	token := b64([]byte(`{"alg":"HS256","typ":"JWT","kid":"`+kid+`"}`)) + "." + b64([]byte(`{"identity":"a","exp":9999999999}`)) + ".c2ln"
	ws, err := servertest.DialRaw(ctx, env.URL)
	require.NoError(t, err)
	defer ws.CloseNow()
	c := &servertest.Client{WS: ws}
	hello, err := json.Marshal(wire.HelloData{Token: token, Client: strings.Repeat("c", 5000)})
	require.NoError(t, err)
	require.NoError(t, c.Send(ctx, &wire.Frame{Type: wire.TypeHello, Data: hello}))
	_, err = c.ReadFrame(ctx)
	require.Equal(t, wire.CodeTokenInvalid, code(t, err))
	assert.Contains(t, err.Error(), strings.Repeat("k", 128)+"…")
	assert.NotContains(t, err.Error(), strings.Repeat("k", 129))

	require.Eventually(t, func() bool { return strings.Contains(logs.String(), "hello refused") }, 10*time.Second, 10*time.Millisecond)
	out := logs.String()
	assert.Contains(t, out, strings.Repeat("c", 128)+"…")
	assert.NotContains(t, out, strings.Repeat("c", 129))
	assert.Contains(t, out, strings.Repeat("k", 128)+"…")
	assert.NotContains(t, out, strings.Repeat("k", 129))
}

// An identity keeps at most 20 push registrations: the least recently registered go first.
func TestPushRegistrationsCapped(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t, unlimited)
	alice := env.Connect(ctx, "alice")
	register := func(id string) {
		t.Helper()
		require.NoError(t, alice.Call(ctx, wire.OpPushRegister, wire.PushRegistrationArgs{ChannelType: wire.PushFCM, RegistrationID: id}, nil))
	}
	for i := range 20 {
		register(fmt.Sprintf("dev-%02d", i))
	}
	register("dev-00") // registering again makes it the newest
	for i := 20; i < 25; i++ {
		register(fmt.Sprintf("dev-%02d", i))
	}
	regs, err := env.Store.PushRegistrations(ctx, []string{"alice"})
	require.NoError(t, err)
	var ids []string
	for _, r := range regs["alice"] {
		ids = append(ids, r.RegistrationID)
	}
	assert.Len(t, ids, 20)
	assert.Contains(t, ids, "dev-00")
	assert.Contains(t, ids, "dev-24")
	for i := 1; i <= 5; i++ {
		assert.NotContains(t, ids, fmt.Sprintf("dev-%02d", i), "the oldest are dropped")
	}
	assert.Contains(t, ids, "dev-06")
}
