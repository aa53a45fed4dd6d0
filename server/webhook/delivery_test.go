package webhook_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/server"
	"github.com/convo-sdk/convo/server/servertest"
	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/server/webhook"
	"github.com/convo-sdk/convo/wire"
)

func TestWebhookEventTypes(t *testing.T) {
	ctx := ctxT(t)
	h := servertest.NewHook(t)
	env := servertest.StartWithHook(t, h)
	a := env.Admin(t)

	var conv wire.Conversation
	a.Do("POST", "/conversations", map[string]any{"friendlyName": "Hooks", "uniqueName": "hooks"}, &conv)
	added := webhookData[webhook.ConversationData](t, h.WaitN(webhook.ConversationAdded, 1)[0])
	assert.Equal(t, conv.Sid, added.Conversation.Sid)
	assert.Equal(t, "Hooks", added.Conversation.FriendlyName)

	// Participants: alice and bob chat (bob with a device, carol with a device but muted,
	// dan without a device), one SMS and one email participant.
	cbase := "/conversations/" + conv.Sid
	for _, id := range []string{"alice", "bob", "carol", "dan"} {
		a.Do("POST", cbase+"/participants", map[string]any{"identity": id}, nil)
	}
	var sms, email wire.Participant
	a.Do("POST", cbase+"/participants", map[string]any{"address": "+15550001", "proxyAddress": "+15559999"}, &sms)
	a.Do("POST", cbase+"/participants", map[string]any{"address": "eve@example.com", "proxyAddress": "support@example.com"}, &email)
	var who []string
	for _, b := range h.WaitN(webhook.ParticipantAdded, 6) { // deliveries are not ordered
		d := webhookData[webhook.ParticipantData](t, b)
		assert.Equal(t, conv.Sid, d.ConversationSid)
		who = append(who, d.Participant.Type+":"+d.Participant.Identity+d.Participant.Address)
	}
	assert.ElementsMatch(t, []string{"chat:alice", "chat:bob", "chat:carol", "chat:dan", "sms:+15550001", "email:eve@example.com"}, who)

	bob := env.Connect(ctx, "bob")
	require.NoError(t, bob.Call(ctx, wire.OpPushRegister, wire.PushRegistrationArgs{ChannelType: wire.PushFCM, RegistrationID: "bob-phone"}, nil))
	require.NoError(t, bob.Call(ctx, wire.OpPushRegister, wire.PushRegistrationArgs{ChannelType: wire.PushAPN, RegistrationID: "bob-tablet"}, nil))
	carol := env.Connect(ctx, "carol")
	require.NoError(t, carol.Call(ctx, wire.OpPushRegister, wire.PushRegistrationArgs{ChannelType: wire.PushFCM, RegistrationID: "carol-phone"}, nil))
	require.NoError(t, carol.Call(ctx, wire.OpConversationNotify, wire.NotificationLevelArgs{ConversationSid: conv.Sid, Level: wire.NotificationMuted}, nil))
	alice := env.Connect(ctx, "alice")
	require.NoError(t, alice.Call(ctx, wire.OpPushRegister, wire.PushRegistrationArgs{ChannelType: wire.PushFCM, RegistrationID: "alice-phone"}, nil))

	// alice writes over the WebSocket: one message.added, an outbound per non-chat
	// participant, a push for bob only (alice is the author, carol muted, dan has no device).
	var m wire.Message
	require.NoError(t, alice.Call(ctx, wire.OpMessageSend, wire.SendMessageArgs{ConversationSid: conv.Sid, Body: str("hello all")}, &m))
	madded := webhookData[webhook.MessageData](t, h.WaitN(webhook.MessageAdded, 1)[0])
	assert.Equal(t, m.Sid, madded.Message.Sid)
	assert.Equal(t, "hello all", *madded.Message.Body)
	outs := h.WaitN(webhook.MessageOutbound, 2)
	var to []string
	for _, o := range outs {
		d := webhookData[webhook.OutboundData](t, o)
		assert.Equal(t, m.Sid, d.Message.Sid)
		to = append(to, d.Participant.Type+" "+d.Participant.Address+" via "+d.Participant.ProxyAddress)
	}
	assert.ElementsMatch(t, []string{"sms +15550001 via +15559999", "email eve@example.com via support@example.com"}, to)
	pushes := h.WaitN(webhook.PushNotification, 1)
	require.Len(t, pushes, 1)
	p := webhookData[webhook.PushData](t, pushes[0])
	assert.Equal(t, "bob", p.Identity)
	assert.Equal(t, wire.PushNewMessage, p.Payload.Type)
	assert.Equal(t, conv.Sid, p.Payload.Data.ConversationSid)
	assert.Equal(t, m.Sid, p.Payload.Data.MessageSid)
	assert.Equal(t, "alice", p.Payload.Data.Author)
	assert.Equal(t, "Hooks", p.Payload.Title)
	assert.Contains(t, p.Payload.Body, "hello all")
	require.NotNil(t, p.Payload.Data.MessageIndex)
	assert.ElementsMatch(t, []webhook.PushDevice{{ChannelType: "fcm", RegistrationID: "bob-phone"}, {ChannelType: "apn", RegistrationID: "bob-tablet"}}, p.Registrations)

	// An inbound SMS: no outbound back to its sender, only to the email participant.
	a.Do("POST", cbase+"/messages", map[string]any{"author": "+15550001", "body": "from sms"}, nil)
	outs = h.WaitN(webhook.MessageOutbound, 3)
	var in []string
	for _, o := range outs {
		if d := webhookData[webhook.OutboundData](t, o); *d.Message.Body == "from sms" {
			in = append(in, d.Participant.Sid)
		}
	}
	assert.Equal(t, []string{email.Sid}, in)
	pushes = h.WaitN(webhook.PushNotification, 3) // alice and bob this time
	var idents []string
	for _, b := range pushes {
		idents = append(idents, webhookData[webhook.PushData](t, b).Identity)
	}
	assert.ElementsMatch(t, []string{"bob", "alice", "bob"}, idents)

	// Updates, removals.
	a.Do("PATCH", cbase+"/messages/"+m.Sid, map[string]any{"body": "edited"}, nil)
	mu := webhookData[webhook.MessageData](t, h.WaitN(webhook.MessageUpdated, 1)[0])
	assert.Equal(t, "edited", *mu.Message.Body)
	a.Do("DELETE", cbase+"/messages/"+m.Sid, nil, nil)
	assert.Equal(t, m.Sid, webhookData[webhook.MessageData](t, h.WaitN(webhook.MessageRemoved, 1)[0]).Message.Sid)
	a.Do("DELETE", cbase+"/participants/dan", nil, nil)
	pr := webhookData[webhook.ParticipantData](t, h.WaitN(webhook.ParticipantRemoved, 1)[0])
	assert.Equal(t, "dan", pr.Participant.Identity)
	a.Do("PATCH", cbase, map[string]any{"friendlyName": "Hooks 2"}, nil)
	cu := webhookData[webhook.ConversationData](t, h.WaitN(webhook.ConversationUpdated, 1)[0])
	assert.Equal(t, "Hooks 2", cu.Conversation.FriendlyName)
	assert.False(t, cu.Conversation.Joined, "no per-user fields")
	a.Do("DELETE", cbase, nil, nil)
	assert.Equal(t, conv.Sid, webhookData[webhook.ConversationRefData](t, h.WaitN(webhook.ConversationRemoved, 1)[0]).ConversationSid)

	// Per-user changes are not reported; every delivery went out once.
	require.NoError(t, bob.Call(ctx, wire.OpConversationCreate, wire.CreateConversationArgs{}, nil))
	h.WaitN(webhook.ConversationAdded, 2)
	h.Mu.Lock()
	defer h.Mu.Unlock()
	for id, n := range h.Attempts {
		assert.Equal(t, 1, n, id)
	}
	ids := slices.Clone(h.OKIDs)
	slices.Sort(ids)
	assert.Equal(t, len(ids), len(slices.Compact(ids)), "no delivery twice")
}

func TestWebhookRetriesWithTheSameDeliveryID(t *testing.T) {
	h := servertest.NewHook(t)
	h.Fail(3)
	env := servertest.StartWithHook(t, h)
	a := env.Admin(t)
	var conv wire.Conversation
	a.Do("POST", "/conversations", map[string]any{"friendlyName": "retry"}, &conv)
	got := h.WaitN(webhook.ConversationAdded, 1)
	h.Mu.Lock()
	assert.Equal(t, 4, h.Attempts[got[0].ID], "three failures, then success, all with one delivery id")
	h.Mu.Unlock()
	assert.Equal(t, conv.Sid, webhookData[webhook.ConversationData](t, got[0]).Conversation.Sid)
}

func TestWebhookFailingDeliveryDoesNotBlockOthers(t *testing.T) {
	var (
		mu       sync.Mutex
		attempts = map[string]int{}
		okTypes  []string
	)
	// The receiver refuses conversation.added for the conversation named "poison", always.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		attempts[r.Header.Get(webhook.HeaderDelivery)]++
		if strings.Contains(string(body), "poison") {
			w.WriteHeader(500)
			return
		}
		okTypes = append(okTypes, r.Header.Get(webhook.HeaderEvent))
	}))
	t.Cleanup(srv.Close) // after the server, which cleans up later-registered, stops
	env := servertest.Start(t, servertest.Options{Configure: func(c *server.Config) {
		c.WebhookURL = srv.URL
		c.WebhookPoll, c.WebhookBackoff, c.WebhookMaxBackoff, c.WebhookMaxAge = 20*time.Millisecond, 20*time.Millisecond, 40*time.Millisecond, 300*time.Millisecond
	}})
	a := env.Admin(t)
	a.Do("POST", "/conversations", map[string]any{"friendlyName": "poison"}, nil)
	a.Do("POST", "/conversations", map[string]any{"friendlyName": "fine"}, nil)
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(okTypes) == 1
	}, 15*time.Second, 10*time.Millisecond, "a later event is delivered while an earlier one keeps failing")
	// After the maximum age the failing delivery is given up and leaves the outbox.
	require.Eventually(t, func() bool {
		n, err := env.Store.WebhookPending(ctxT(t))
		return err == nil && n == 0
	}, 15*time.Second, 20*time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	for id, n := range attempts {
		if n > 1 {
			assert.Less(t, n, 30, "backoff spaces the retries of %s", id)
		}
	}
}

func TestWebhookDurableAcrossRestart(t *testing.T) {
	ctx := ctxT(t)
	h := servertest.NewHook(t)
	env := servertest.StartWithHook(t, h)
	a := env.Admin(t)
	var conv wire.Conversation
	a.Do("POST", "/conversations", map[string]any{"friendlyName": "durable"}, &conv)
	a.Do("POST", "/conversations/"+conv.Sid+"/participants", map[string]any{"identity": "alice"}, nil)
	a.Do("POST", "/conversations/"+conv.Sid+"/messages", map[string]any{"author": "alice", "body": "one"}, nil)
	h.WaitN(webhook.MessageAdded, 1)

	// The receiver goes down; events keep happening; the server restarts.
	h.Fail(1 << 30)
	a.Do("POST", "/conversations/"+conv.Sid+"/messages", map[string]any{"author": "alice", "body": "two"}, nil)
	attempted := func(n int) func() bool { // the receiver has seen n distinct deliveries
		return func() bool {
			h.Mu.Lock()
			defer h.Mu.Unlock()
			return len(h.Attempts) >= n
		}
	}
	// conversation.added, participant.added, 2 × message.added
	require.Eventually(t, attempted(4), 15*time.Second, 10*time.Millisecond)
	env.Restart()
	alice := env.Connect(ctx, "alice")
	require.NoError(t, alice.Call(ctx, wire.OpMessageSend, wire.SendMessageArgs{ConversationSid: conv.Sid, Body: str("three")}, nil))
	require.Eventually(t, attempted(5), 15*time.Second, 10*time.Millisecond, "message three has failed once")
	env.Restart() // again, with deliveries still pending
	h.Fail(0)

	msgs := h.WaitN(webhook.MessageAdded, 3)
	var bodies []string
	for _, b := range msgs {
		bodies = append(bodies, *webhookData[webhook.MessageData](t, b).Message.Body)
	}
	assert.ElementsMatch(t, []string{"one", "two", "three"}, bodies) // retries reorder
	// Once the outbox is empty nothing more is sent: a delivery leaves it only after its
	// request has finished, and the cursor moves in the transaction that fills it.
	require.Eventually(t, func() bool {
		n, err := env.Store.WebhookPending(ctx)
		return err == nil && n == 0
	}, 15*time.Second, 10*time.Millisecond)
	h.Mu.Lock()
	defer h.Mu.Unlock()
	ids := slices.Clone(h.OKIDs)
	slices.Sort(ids)
	assert.Equal(t, len(ids), len(slices.Compact(ids)), "nothing delivered twice: %v", h.OKIDs)
	assert.Len(t, h.OKIDs, 5) // conversation.added, participant.added, 3 × message.added
	for i, b := range msgs {
		if *webhookData[webhook.MessageData](t, b).Message.Body == "two" {
			assert.Greater(t, h.Attempts[msgs[i].ID], 1, "message two failed before it went through")
		}
	}
}

func TestWebhooksDisabledSendNothing(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t)
	a := env.Admin(t)
	var conv wire.Conversation
	a.Do("POST", "/conversations", map[string]any{}, &conv)
	a.Do("POST", "/conversations/"+conv.Sid+"/messages", map[string]any{"body": "x"}, nil)
	n, err := env.Store.WebhookPending(ctx)
	require.NoError(t, err)
	assert.Zero(t, n)
}

// The dispatcher's cursor is in place before the server takes its first request, so the
// first event after a start is delivered however late the dispatcher goroutine runs.
func TestWebhookDeliversTheFirstEventAfterStart(t *testing.T) {
	h := servertest.NewHook(t)
	env := servertest.StartWithHook(t, h)
	// Straight to the store, with no round trip that would give the dispatcher time.
	conv, err := env.Store.CreateConversation(ctxT(t), store.NewConversation{FriendlyName: "first"})
	require.NoError(t, err)
	got := h.WaitN(webhook.ConversationAdded, 1)
	assert.Equal(t, conv.Sid, webhookData[webhook.ConversationData](t, got[0]).Conversation.Sid)
}

// An event the dispatcher cannot convert (a malformed row in the events log) is skipped
// after a few attempts, logged without secrets and counted; the webhooks after it flow.
func TestWebhookSkipsAnEventItCannotConvert(t *testing.T) {
	ctx := ctxT(t)
	h := servertest.NewHook(t)
	var logs servertest.LogBuffer
	env := servertest.StartWithHook(t, h, servertest.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	alice := env.Connect(ctx, "alice")
	var conv wire.Conversation
	require.NoError(t, alice.Call(ctx, wire.OpConversationCreate, wire.CreateConversationArgs{FriendlyName: "before"}, &conv))
	h.WaitN("conversation.added", 1)

	res, err := env.DB(t).ExecContext(ctx, `INSERT INTO events (name, payload, webhook_only) VALUES (?, ?, 1)`,
		wire.EventMessageAdded, `{"message": "not an object"}`)
	require.NoError(t, err)
	bad, err := res.LastInsertId()
	require.NoError(t, err)

	require.NoError(t, alice.Call(ctx, wire.OpConversationJoin, wire.ConversationRef{ConversationSid: conv.Sid}, nil))
	require.NoError(t, alice.Call(ctx, wire.OpMessageSend, wire.SendMessageArgs{ConversationSid: conv.Sid, Body: str("after")}, nil))
	got := h.WaitN("message.added", 1)
	assert.Equal(t, "after", *webhookData[struct{ Message wire.Message }](t, got[0]).Message.Body)
	h.WaitN("participant.added", 1)

	out := logs.String()
	assert.Contains(t, out, "skipping an event the webhooks cannot convert")
	assert.Contains(t, out, fmt.Sprintf("event=%d", bad))
	assert.NotContains(t, out, servertest.WebhookSecret)
	assert.NotContains(t, out, "not an object", "the payload is not logged")
	st, text := servertest.Scrape(t, env.HTTPURL, "", "")
	require.Equal(t, 200, st)
	assert.GreaterOrEqual(t, servertest.MetricValue(t, text, `convo_errors_total{component="webhook"}`), 1.0)
	assert.Equal(t, 1, strings.Count(out, "skipping an event"), "skipped once")
}

func TestWebhookSignature(t *testing.T) {
	body := []byte(`{"id":"x"}`)
	sig := webhook.Sign("s3cret-s3cret", body)
	assert.True(t, strings.HasPrefix(sig, "sha256="))
	assert.Len(t, sig, len("sha256=")+64)
	assert.True(t, webhook.VerifySignature("s3cret-s3cret", body, sig))
	assert.False(t, webhook.VerifySignature("other", body, sig))
	assert.False(t, webhook.VerifySignature("s3cret-s3cret", []byte(`{"id":"y"}`), sig))
}

func webhookData[T any](t *testing.T, b webhook.Body) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal(b.Data, &v), string(b.Data))
	return v
}

// ctxT bounds a test's protocol calls; generous, since CI runs every package at once.
func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func str(s string) *string { return &s }

// redactionRoom starts a server with a webhook and a conversation alice created and joined,
// with its webhooks delivered so far.
func redactionRoom(t *testing.T) (context.Context, *servertest.Hook, *servertest.Env, *servertest.Client, wire.Conversation) {
	t.Helper()
	ctx := ctxT(t)
	h := servertest.NewHook(t)
	env := servertest.StartWithHook(t, h)
	alice := env.Connect(ctx, "alice")
	var conv wire.Conversation
	require.NoError(t, alice.Call(ctx, wire.OpConversationCreate, wire.CreateConversationArgs{FriendlyName: "r"}, &conv))
	require.NoError(t, alice.Call(ctx, wire.OpConversationJoin, wire.ConversationRef{ConversationSid: conv.Sid}, nil))
	h.WaitN("participant.added", 1)
	return ctx, h, env, alice, conv
}

// insertWebhookEvent writes an event for the webhook dispatcher only, as the store would.
func insertWebhookEvent(t *testing.T, env *servertest.Env, name, payload string) {
	t.Helper()
	_, err := env.DB(t).ExecContext(context.Background(), `INSERT INTO events (name, payload, webhook_only) VALUES (?, ?, 1)`, name, payload)
	require.NoError(t, err)
}

// A message removed before the dispatcher read its events leaves redacted events: they are
// reported by nobody (the removal is).
func TestWebhookSkipsRedactedMessageEvents(t *testing.T) {
	ctx, h, env, alice, conv := redactionRoom(t)

	for _, name := range []string{wire.EventMessageAdded, wire.EventMessageUpdated} {
		insertWebhookEvent(t, env, name, `{"message":{"sid":"IMgone","conversationSid":"`+conv.Sid+`","index":0,"author":"alice","body":null},"redacted":true}`)
	}
	require.NoError(t, alice.Call(ctx, wire.OpMessageSend, wire.SendMessageArgs{ConversationSid: conv.Sid, Body: str("after")}, nil))
	// The events before "after" were converted before it (the dispatcher reads in order).
	h.WaitN("message.added", 1)
	h.Mu.Lock()
	defer h.Mu.Unlock()
	var types []string
	for _, b := range h.OK {
		if strings.HasPrefix(b.Type, "message.") {
			types = append(types, b.Type)
			assert.NotContains(t, string(b.Data), "IMgone")
		}
	}
	assert.Equal(t, []string{"message.added"}, types, "the redacted events are not reported")
}

// A conversation removed before the dispatcher read its events leaves its conversation and
// participant events redacted: they are reported by nobody either.
func TestWebhookSkipsRedactedConversationEvents(t *testing.T) {
	ctx, h, env, alice, conv := redactionRoom(t)

	// The conversation is still there, so only the redaction keeps these from being reported.
	for name, payload := range map[string]string{
		store.EventConversationCreated: `{"conversation":{"sid":"` + conv.Sid + `"},"redacted":true}`,
		wire.EventParticipantJoined:    `{"participant":{"sid":"MBgone","conversationSid":"` + conv.Sid + `","identity":"bob","type":"chat"},"redacted":true}`,
		wire.EventParticipantLeft:      `{"participant":{"sid":"MBgone","conversationSid":"` + conv.Sid + `","identity":"bob","type":"chat"},"redacted":true}`,
	} {
		insertWebhookEvent(t, env, name, payload)
	}
	require.NoError(t, alice.Call(ctx, wire.OpMessageSend, wire.SendMessageArgs{ConversationSid: conv.Sid, Body: str("after")}, nil))
	h.WaitN("message.added", 1)
	h.Mu.Lock()
	defer h.Mu.Unlock()
	var types []string
	for _, b := range h.OK {
		if strings.HasPrefix(b.Type, "conversation.added") || strings.HasPrefix(b.Type, "participant.") {
			types = append(types, b.Type)
			assert.NotContains(t, string(b.Data), "MBgone")
		}
	}
	assert.ElementsMatch(t, []string{"conversation.added", "participant.added"}, types, "the redacted events are not reported")
}
