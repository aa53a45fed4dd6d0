package server_test

import (
	"encoding/json"
	"io"
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
	"github.com/convo-sdk/convo/wire"
)

const webhookSecret = "whsec-0123456789abcdef"

// hook is a webhook receiver on 127.0.0.1 that checks signatures and records deliveries.
type hook struct {
	t        *testing.T
	srv      *httptest.Server
	mu       sync.Mutex
	failNext int            // answer 500 to this many more requests
	attempts map[string]int // delivery id → requests seen
	ok       []server.WebhookBody
	okIDs    []string
}

func newHook(t *testing.T) *hook {
	h := &hook{t: t, attempts: map[string]int{}}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var b server.WebhookBody
		good := r.Method == "POST" && r.Header.Get("Content-Type") == "application/json" &&
			server.VerifySignature(webhookSecret, body, r.Header.Get(server.HeaderSignature)) &&
			json.Unmarshal(body, &b) == nil && b.ID == r.Header.Get(server.HeaderDelivery) &&
			b.Type == r.Header.Get(server.HeaderEvent) && b.Timestamp > 0
		h.mu.Lock()
		defer h.mu.Unlock()
		if !good {
			t.Errorf("bad webhook request: %s %v %s", r.Method, r.Header, body)
			w.WriteHeader(400)
			return
		}
		h.attempts[b.ID]++
		if h.failNext > 0 {
			h.failNext--
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		h.ok = append(h.ok, b)
		h.okIDs = append(h.okIDs, b.ID)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hook) fail(n int) {
	h.mu.Lock()
	h.failNext = n
	h.mu.Unlock()
}

// wait returns the delivered bodies of type typ once match holds for them.
func (h *hook) wait(typ string, match func([]server.WebhookBody) bool) []server.WebhookBody {
	h.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		h.mu.Lock()
		var got []server.WebhookBody
		for _, b := range h.ok {
			if b.Type == typ {
				got = append(got, b)
			}
		}
		h.mu.Unlock()
		if match(got) {
			return got
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("webhook %s: condition not met; got %d", typ, len(got))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (h *hook) waitN(typ string, n int) []server.WebhookBody {
	h.t.Helper()
	return h.wait(typ, func(b []server.WebhookBody) bool { return len(b) >= n })
}

func webhookData[T any](t *testing.T, b server.WebhookBody) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal(b.Data, &v), string(b.Data))
	return v
}

func startWithHook(t *testing.T, h *hook, opts ...servertest.Options) *servertest.Env {
	var o servertest.Options
	if len(opts) > 0 {
		o = opts[0]
	}
	o.Configure = func(c *server.Config) {
		c.WebhookURL, c.WebhookSecret = h.srv.URL+"/hook", webhookSecret
		c.WebhookPoll, c.WebhookBackoff, c.WebhookMaxBackoff = 20*time.Millisecond, 30*time.Millisecond, 200*time.Millisecond
	}
	return servertest.Start(t, o)
}

func TestWebhookSignature(t *testing.T) {
	body := []byte(`{"id":"x"}`)
	sig := server.Sign("s3cret-s3cret", body)
	assert.True(t, strings.HasPrefix(sig, "sha256="))
	assert.Len(t, sig, len("sha256=")+64)
	assert.True(t, server.VerifySignature("s3cret-s3cret", body, sig))
	assert.False(t, server.VerifySignature("other", body, sig))
	assert.False(t, server.VerifySignature("s3cret-s3cret", []byte(`{"id":"y"}`), sig))
}

func TestWebhookEventTypes(t *testing.T) {
	ctx := ctxT(t)
	h := newHook(t)
	env := startWithHook(t, h)
	a := newAdmin(t, env)

	var conv wire.Conversation
	a.do("POST", "/conversations", map[string]any{"friendlyName": "Hooks", "uniqueName": "hooks"}, &conv)
	added := webhookData[server.WebhookConversationData](t, h.waitN(server.WebhookConversationAdded, 1)[0])
	assert.Equal(t, conv.Sid, added.Conversation.Sid)
	assert.Equal(t, "Hooks", added.Conversation.FriendlyName)

	// Participants: alice and bob chat (bob with a device, carol with a device but muted,
	// dan without a device), one SMS and one email participant.
	cbase := "/conversations/" + conv.Sid
	for _, id := range []string{"alice", "bob", "carol", "dan"} {
		a.do("POST", cbase+"/participants", map[string]any{"identity": id}, nil)
	}
	var sms, email wire.Participant
	a.do("POST", cbase+"/participants", map[string]any{"address": "+15550001", "proxyAddress": "+15559999"}, &sms)
	a.do("POST", cbase+"/participants", map[string]any{"address": "eve@example.com", "proxyAddress": "support@example.com"}, &email)
	var who []string
	for _, b := range h.waitN(server.WebhookParticipantAdded, 6) { // deliveries are not ordered
		d := webhookData[server.WebhookParticipantData](t, b)
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
	madded := webhookData[server.WebhookMessageData](t, h.waitN(server.WebhookMessageAdded, 1)[0])
	assert.Equal(t, m.Sid, madded.Message.Sid)
	assert.Equal(t, "hello all", *madded.Message.Body)
	outs := h.waitN(server.WebhookMessageOutbound, 2)
	var to []string
	for _, o := range outs {
		d := webhookData[server.WebhookOutboundData](t, o)
		assert.Equal(t, m.Sid, d.Message.Sid)
		to = append(to, d.Participant.Type+" "+d.Participant.Address+" via "+d.Participant.ProxyAddress)
	}
	assert.ElementsMatch(t, []string{"sms +15550001 via +15559999", "email eve@example.com via support@example.com"}, to)
	pushes := h.waitN(server.WebhookPushNotification, 1)
	require.Len(t, pushes, 1)
	p := webhookData[server.WebhookPushData](t, pushes[0])
	assert.Equal(t, "bob", p.Identity)
	assert.Equal(t, wire.PushNewMessage, p.Payload.Type)
	assert.Equal(t, conv.Sid, p.Payload.Data.ConversationSid)
	assert.Equal(t, m.Sid, p.Payload.Data.MessageSid)
	assert.Equal(t, "alice", p.Payload.Data.Author)
	assert.Equal(t, "Hooks", p.Payload.Title)
	assert.Contains(t, p.Payload.Body, "hello all")
	require.NotNil(t, p.Payload.Data.MessageIndex)
	assert.ElementsMatch(t, []server.WebhookPushDevice{{ChannelType: "fcm", RegistrationID: "bob-phone"}, {ChannelType: "apn", RegistrationID: "bob-tablet"}}, p.Registrations)

	// An inbound SMS: no outbound back to its sender, only to the email participant.
	a.do("POST", cbase+"/messages", map[string]any{"author": "+15550001", "body": "from sms"}, nil)
	outs = h.waitN(server.WebhookMessageOutbound, 3)
	var in []string
	for _, o := range outs {
		if d := webhookData[server.WebhookOutboundData](t, o); *d.Message.Body == "from sms" {
			in = append(in, d.Participant.Sid)
		}
	}
	assert.Equal(t, []string{email.Sid}, in)
	pushes = h.waitN(server.WebhookPushNotification, 3) // alice and bob this time
	var idents []string
	for _, b := range pushes {
		idents = append(idents, webhookData[server.WebhookPushData](t, b).Identity)
	}
	assert.ElementsMatch(t, []string{"bob", "alice", "bob"}, idents)

	// Updates, removals.
	a.do("PATCH", cbase+"/messages/"+m.Sid, map[string]any{"body": "edited"}, nil)
	mu := webhookData[server.WebhookMessageData](t, h.waitN(server.WebhookMessageUpdated, 1)[0])
	assert.Equal(t, "edited", *mu.Message.Body)
	a.do("DELETE", cbase+"/messages/"+m.Sid, nil, nil)
	assert.Equal(t, m.Sid, webhookData[server.WebhookMessageData](t, h.waitN(server.WebhookMessageRemoved, 1)[0]).Message.Sid)
	a.do("DELETE", cbase+"/participants/dan", nil, nil)
	pr := webhookData[server.WebhookParticipantData](t, h.waitN(server.WebhookParticipantRemoved, 1)[0])
	assert.Equal(t, "dan", pr.Participant.Identity)
	a.do("PATCH", cbase, map[string]any{"friendlyName": "Hooks 2"}, nil)
	cu := webhookData[server.WebhookConversationData](t, h.waitN(server.WebhookConversationUpdated, 1)[0])
	assert.Equal(t, "Hooks 2", cu.Conversation.FriendlyName)
	assert.False(t, cu.Conversation.Joined, "no per-user fields")
	a.do("DELETE", cbase, nil, nil)
	assert.Equal(t, conv.Sid, webhookData[server.WebhookConversationRefData](t, h.waitN(server.WebhookConversationRemoved, 1)[0]).ConversationSid)

	// Per-user changes are not reported; every delivery went out once.
	require.NoError(t, bob.Call(ctx, wire.OpConversationCreate, wire.CreateConversationArgs{}, nil))
	h.waitN(server.WebhookConversationAdded, 2)
	h.mu.Lock()
	defer h.mu.Unlock()
	for id, n := range h.attempts {
		assert.Equal(t, 1, n, id)
	}
	ids := slices.Clone(h.okIDs)
	slices.Sort(ids)
	assert.Equal(t, len(ids), len(slices.Compact(ids)), "no delivery twice")
}

func TestWebhookRetriesWithTheSameDeliveryID(t *testing.T) {
	h := newHook(t)
	h.fail(3)
	env := startWithHook(t, h)
	a := newAdmin(t, env)
	var conv wire.Conversation
	a.do("POST", "/conversations", map[string]any{"friendlyName": "retry"}, &conv)
	got := h.waitN(server.WebhookConversationAdded, 1)
	h.mu.Lock()
	assert.Equal(t, 4, h.attempts[got[0].ID], "three failures, then success, all with one delivery id")
	h.mu.Unlock()
	assert.Equal(t, conv.Sid, webhookData[server.WebhookConversationData](t, got[0]).Conversation.Sid)
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
		attempts[r.Header.Get(server.HeaderDelivery)]++
		if strings.Contains(string(body), "poison") {
			w.WriteHeader(500)
			return
		}
		okTypes = append(okTypes, r.Header.Get(server.HeaderEvent))
	}))
	t.Cleanup(srv.Close) // after the server, which cleans up later-registered, stops
	env := servertest.Start(t, servertest.Options{Configure: func(c *server.Config) {
		c.WebhookURL = srv.URL
		c.WebhookPoll, c.WebhookBackoff, c.WebhookMaxBackoff, c.WebhookMaxAge = 20*time.Millisecond, 20*time.Millisecond, 40*time.Millisecond, 300*time.Millisecond
	}})
	a := newAdmin(t, env)
	a.do("POST", "/conversations", map[string]any{"friendlyName": "poison"}, nil)
	a.do("POST", "/conversations", map[string]any{"friendlyName": "fine"}, nil)
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
	h := newHook(t)
	env := startWithHook(t, h)
	a := newAdmin(t, env)
	var conv wire.Conversation
	a.do("POST", "/conversations", map[string]any{"friendlyName": "durable"}, &conv)
	a.do("POST", "/conversations/"+conv.Sid+"/participants", map[string]any{"identity": "alice"}, nil)
	a.do("POST", "/conversations/"+conv.Sid+"/messages", map[string]any{"author": "alice", "body": "one"}, nil)
	h.waitN(server.WebhookMessageAdded, 1)

	// The receiver goes down; events keep happening; the server restarts.
	h.fail(1 << 30)
	a.do("POST", "/conversations/"+conv.Sid+"/messages", map[string]any{"author": "alice", "body": "two"}, nil)
	attempted := func(n int) func() bool { // the receiver has seen n distinct deliveries
		return func() bool {
			h.mu.Lock()
			defer h.mu.Unlock()
			return len(h.attempts) >= n
		}
	}
	// conversation.added, participant.added, 2 × message.added
	require.Eventually(t, attempted(4), 15*time.Second, 10*time.Millisecond)
	env.Restart()
	alice := env.Connect(ctx, "alice")
	require.NoError(t, alice.Call(ctx, wire.OpMessageSend, wire.SendMessageArgs{ConversationSid: conv.Sid, Body: str("three")}, nil))
	require.Eventually(t, attempted(5), 15*time.Second, 10*time.Millisecond, "message three has failed once")
	env.Restart() // again, with deliveries still pending
	h.fail(0)

	msgs := h.waitN(server.WebhookMessageAdded, 3)
	var bodies []string
	for _, b := range msgs {
		bodies = append(bodies, *webhookData[server.WebhookMessageData](t, b).Message.Body)
	}
	assert.ElementsMatch(t, []string{"one", "two", "three"}, bodies) // retries reorder
	// Once the outbox is empty nothing more is sent: a delivery leaves it only after its
	// request has finished, and the cursor moves in the transaction that fills it.
	require.Eventually(t, func() bool {
		n, err := env.Store.WebhookPending(ctx)
		return err == nil && n == 0
	}, 15*time.Second, 10*time.Millisecond)
	h.mu.Lock()
	defer h.mu.Unlock()
	ids := slices.Clone(h.okIDs)
	slices.Sort(ids)
	assert.Equal(t, len(ids), len(slices.Compact(ids)), "nothing delivered twice: %v", h.okIDs)
	assert.Len(t, h.okIDs, 5) // conversation.added, participant.added, 3 × message.added
	for i, b := range msgs {
		if *webhookData[server.WebhookMessageData](t, b).Message.Body == "two" {
			assert.Greater(t, h.attempts[msgs[i].ID], 1, "message two failed before it went through")
		}
	}
}

func TestWebhooksDisabledSendNothing(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t)
	a := newAdmin(t, env)
	var conv wire.Conversation
	a.do("POST", "/conversations", map[string]any{}, &conv)
	a.do("POST", "/conversations/"+conv.Sid+"/messages", map[string]any{"body": "x"}, nil)
	n, err := env.Store.WebhookPending(ctx)
	require.NoError(t, err)
	assert.Zero(t, n)
}

// The dispatcher's cursor is in place before the server takes its first request, so the
// first event after a start is delivered however late the dispatcher goroutine runs.
func TestWebhookDeliversTheFirstEventAfterStart(t *testing.T) {
	h := newHook(t)
	env := startWithHook(t, h)
	// Straight to the store, with no round trip that would give the dispatcher time.
	conv, err := env.Store.CreateConversation(ctxT(t), store.NewConversation{FriendlyName: "first"})
	require.NoError(t, err)
	got := h.waitN(server.WebhookConversationAdded, 1)
	assert.Equal(t, conv.Sid, webhookData[server.WebhookConversationData](t, got[0]).Conversation.Sid)
}
