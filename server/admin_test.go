package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/server/servertest"
	"github.com/convo-sdk/convo/wire"
)

// event waits for the next event named name on c and decodes it.
func event[T any](t *testing.T, ctx context.Context, c *servertest.Client, name string) T {
	t.Helper()
	f, err := c.WaitEvent(ctx, name)
	require.NoError(t, err)
	return decode[T](t, f)
}

var adminRoutes = [][2]string{
	{"POST", "/backup"},
	{"POST", "/conversations"}, {"GET", "/conversations"}, {"GET", "/conversations/CHx"},
	{"PATCH", "/conversations/CHx"}, {"POST", "/conversations/CHx"}, {"DELETE", "/conversations/CHx"},
	{"GET", "/conversations/CHx/participants"}, {"POST", "/conversations/CHx/participants"},
	{"GET", "/conversations/CHx/participants/MBx"}, {"PATCH", "/conversations/CHx/participants/MBx"},
	{"DELETE", "/conversations/CHx/participants/MBx"},
	{"GET", "/conversations/CHx/messages"}, {"POST", "/conversations/CHx/messages"},
	{"GET", "/conversations/CHx/messages/IMx"}, {"PATCH", "/conversations/CHx/messages/IMx"},
	{"DELETE", "/conversations/CHx/messages/IMx"}, {"GET", "/conversations/CHx/messages/IMx/receipts"},
	{"PUT", "/conversations/CHx/messages/IMx/receipts/MBx"},
	{"GET", "/users/alice"}, {"PATCH", "/users/alice"}, {"GET", "/users/alice/export"}, {"DELETE", "/users/alice/data"},
	{"POST", "/content"}, {"GET", "/content"}, {"GET", "/content/HXx"}, {"PATCH", "/content/HXx"}, {"DELETE", "/content/HXx"},
}

func TestAdminRejectsBadCredentials(t *testing.T) {
	env := servertest.Start(t)
	for _, creds := range []struct {
		name       string
		id, secret string
		none       bool
	}{
		{name: "no auth", none: true},
		{name: "wrong secret", id: env.Key.ID, secret: env.Key.Secret + "x"},
		{name: "unknown key id", id: "nokey", secret: env.Key.Secret},
		{name: "empty secret", id: env.Key.ID, secret: ""},
		{name: "secret as id", id: env.Key.Secret, secret: env.Key.ID},
	} {
		a := &servertest.Admin{T: t, Base: env.HTTPURL + "/v1/admin", ID: creds.id, Secret: creds.secret, NoAuth: creds.none}
		for _, r := range adminRoutes {
			st, h, b := a.Raw(r[0], r[1], `{}`)
			require.Equal(t, http.StatusUnauthorized, st, "%s: %s %s: %s", creds.name, r[0], r[1], b)
			assert.Equal(t, `Basic realm="convo", charset="UTF-8"`, h.Get("WWW-Authenticate"))
			var e wire.Error
			require.NoError(t, json.Unmarshal(b, &e))
			assert.Equal(t, wire.CodeTokenInvalid, e.Code)
		}
	}
	// A client token is no admin credential either.
	req, _ := http.NewRequestWithContext(ctxT(t), "GET", env.HTTPURL+"/v1/admin/conversations", nil)
	req.Header.Set("Authorization", "Bearer "+env.Token("alice", time.Hour))
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
}

func TestAdminConversations(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t)
	a := env.Admin(t)

	var conv wire.Conversation
	st := a.Do("POST", "/conversations", map[string]any{
		"friendlyName": "Support", "uniqueName": "support-1", "attributes": map[string]any{"tier": "gold"},
	}, &conv)
	assert.Equal(t, http.StatusCreated, st)
	assert.True(t, strings.HasPrefix(conv.Sid, "CH"))
	assert.Equal(t, "support-1", conv.UniqueName)
	assert.JSONEq(t, `{"tier":"gold"}`, string(conv.Attributes))
	assert.Equal(t, "", conv.CreatedBy)

	var got wire.Conversation
	a.Do("GET", "/conversations/"+conv.Sid, nil, &got)
	assert.Equal(t, conv.Sid, got.Sid)
	a.Do("GET", "/conversations/support-1", nil, &got)
	assert.Equal(t, conv.Sid, got.Sid, "a unique name works in place of the sid")

	// Bad input.
	a.Fail("POST", "/conversations", map[string]any{"uniqueName": "support-1"}, 409, wire.CodeConflict)
	a.Fail("POST", "/conversations", map[string]any{"friendlyName": strings.Repeat("x", wire.MaxFriendlyNameChars+1)}, 413, wire.CodeTooLarge)
	a.Fail("POST", "/conversations", map[string]any{"attributes": map[string]string{"a": strings.Repeat("x", wire.MaxConversationAttrsBytes)}}, 413, wire.CodeTooLarge)
	a.Fail("POST", "/conversations", `{"attributes": {broken`, 400, wire.CodeBadRequest)
	a.Fail("POST", "/conversations", `[1]`, 400, wire.CodeBadRequest)
	a.Fail("POST", "/conversations", map[string]any{"friendlyName": 7}, 400, wire.CodeBadRequest)
	a.Fail("POST", "/conversations", map[string]any{"state": "sleepy"}, 400, wire.CodeBadRequest)
	a.Fail("POST", "/conversations", map[string]any{"timers": map[string]string{"inactive": "soon"}}, 400, wire.CodeBadRequest)
	a.Fail("POST", "/conversations", map[string]any{"createdBy": "bad\x01id"}, 400, wire.CodeBadIdentifier)
	a.Fail("GET", "/conversations/CHnope", nil, 404, wire.CodeNotFound)
	a.Fail("GET", "/conversations?pageSize=500", nil, 400, wire.CodeBadRequest)
	a.Fail("GET", "/conversations?pageSize=x", nil, 400, wire.CodeBadRequest)
	a.Fail("GET", "/conversations?after=zz", nil, 400, wire.CodeBadRequest)
	a.Fail("POST", "/conversations", strings.Repeat(" ", 2<<20), 413, wire.CodeTooLarge)

	// Listing pages through every conversation.
	for i := range 3 {
		a.Do("POST", "/conversations", map[string]any{"friendlyName": "c" + string(rune('a'+i))}, nil)
	}
	var page wire.ConversationPage
	a.Do("GET", "/conversations?pageSize=3", nil, &page)
	require.Len(t, page.Items, 3)
	require.NotEmpty(t, page.Next)
	assert.Equal(t, conv.Sid, page.Items[0].Sid)
	next := page.Next
	page = wire.ConversationPage{}
	a.Do("GET", "/conversations?pageSize=3&after="+next, nil, &page)
	require.Len(t, page.Items, 1)
	assert.Empty(t, page.Next)

	// A connected participant sees updates and the deletion live.
	a.Do("POST", "/conversations/"+conv.Sid+"/participants", map[string]any{"identity": "alice"}, nil)
	alice := env.Connect(ctx, "alice")
	var upd wire.Conversation
	a.Do("PATCH", "/conversations/"+conv.Sid, map[string]any{"friendlyName": "Support (VIP)", "attributes": map[string]int{"n": 1}}, &upd)
	assert.Equal(t, "Support (VIP)", upd.FriendlyName)
	ev := event[wire.ConversationUpdatedEvent](t, ctx, alice, wire.EventConversationUpdated)
	assert.Equal(t, "Support (VIP)", ev.Conversation.FriendlyName)
	assert.Contains(t, ev.UpdateReasons, wire.ReasonFriendlyName)
	assert.Contains(t, ev.UpdateReasons, wire.ReasonAttributes)

	a.Do("POST", "/conversations/"+conv.Sid, map[string]any{"state": "closed", "timers": map[string]string{"inactive": "PT10M", "closed": "24h"}}, &upd)
	require.NotNil(t, upd.State)
	assert.Equal(t, wire.StateClosed, upd.State.Current)
	ev = event[wire.ConversationUpdatedEvent](t, ctx, alice, wire.EventConversationUpdated)
	assert.Contains(t, ev.UpdateReasons, wire.ReasonState)
	a.Fail("PATCH", "/conversations/"+conv.Sid, map[string]any{"createdBy": "bob"}, 400, wire.CodeBadRequest)
	var other wire.Conversation
	a.Do("POST", "/conversations", map[string]any{"uniqueName": "taken"}, &other)
	a.Fail("PATCH", "/conversations/"+conv.Sid, map[string]any{"uniqueName": "taken"}, 409, wire.CodeConflict)

	st = a.Do("DELETE", "/conversations/"+conv.Sid, nil, nil)
	assert.Equal(t, http.StatusNoContent, st)
	removed := event[wire.ConversationRefEvent](t, ctx, alice, wire.EventConversationRemoved)
	assert.Equal(t, conv.Sid, removed.ConversationSid)
	a.Fail("GET", "/conversations/"+conv.Sid, nil, 404, wire.CodeNotFound)
	a.Fail("DELETE", "/conversations/"+conv.Sid, nil, 404, wire.CodeNotFound)
}

func TestAdminParticipants(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t, servertest.Options{MaxParticipants: 4})
	a := env.Admin(t)
	var conv wire.Conversation
	a.Do("POST", "/conversations", map[string]any{"friendlyName": "p"}, &conv)
	base := "/conversations/" + conv.Sid + "/participants"

	var pa wire.Participant
	assert.Equal(t, http.StatusCreated, a.Do("POST", base, map[string]any{"identity": "alice", "attributes": map[string]int{"x": 1}}, &pa))
	assert.Equal(t, "alice", pa.Identity)
	assert.Equal(t, wire.ParticipantChat, pa.Type)
	alice := env.Connect(ctx, "alice")

	var pb wire.Participant
	a.Do("POST", base, map[string]any{"identity": "bob"}, &pb)
	joined := event[wire.ParticipantEvent](t, ctx, alice, wire.EventParticipantJoined)
	assert.Equal(t, "bob", joined.Participant.Identity)

	var sms wire.Participant
	a.Do("POST", base, map[string]any{"address": "+15550001", "proxyAddress": "+15559999"}, &sms)
	assert.Equal(t, wire.ParticipantSMS, sms.Type)
	assert.Equal(t, "+15550001", sms.Address)
	assert.Equal(t, "+15559999", sms.ProxyAddress)
	assert.Empty(t, sms.Identity)
	joined = event[wire.ParticipantEvent](t, ctx, alice, wire.EventParticipantJoined)
	assert.Equal(t, sms.Sid, joined.Participant.Sid)
	var wa wire.Participant
	a.Do("POST", base, map[string]any{"address": "whatsapp:+15550002", "proxyAddress": "whatsapp:+15559999"}, &wa)
	assert.Equal(t, wire.ParticipantWhatsApp, wa.Type)

	// Bad input.
	a.Fail("POST", base, map[string]any{"identity": "carol"}, 413, wire.CodeTooManyMembers)
	a.Fail("POST", base, map[string]any{"identity": "bob"}, 409, wire.CodeConflict)
	a.Fail("POST", base, map[string]any{}, 400, wire.CodeBadRequest)
	a.Fail("POST", base, map[string]any{"identity": "x\ny"}, 400, wire.CodeBadIdentifier)
	a.Fail("POST", base, map[string]any{"identity": strings.Repeat("i", wire.MaxIdentityChars+1)}, 413, wire.CodeTooLarge)
	a.Fail("POST", base, map[string]any{"identity": "dan", "address": "+1555"}, 400, wire.CodeBadRequest)
	a.Fail("POST", base, map[string]any{"address": "+1555"}, 400, wire.CodeBadRequest) // sms needs a proxy address
	a.Fail("POST", base, map[string]any{"address": "+1555", "proxyAddress": "+1666", "type": "fax"}, 400, wire.CodeBadRequest)
	a.Fail("POST", base, map[string]any{"identity": "dan", "attributes": map[string]string{"a": strings.Repeat("x", wire.MaxParticipantAttrsBytes)}}, 413, wire.CodeTooLarge)
	a.Fail("POST", "/conversations/CHnope/participants", map[string]any{"identity": "dan"}, 404, wire.CodeNotFound)

	var page wire.ParticipantPage
	a.Do("GET", base, nil, &page)
	require.Len(t, page.Items, 4)
	var got wire.Participant
	a.Do("GET", base+"/bob", nil, &got)
	assert.Equal(t, pb.Sid, got.Sid, "by identity")
	a.Do("GET", base+"/"+sms.Sid, nil, &got)
	assert.Equal(t, "+15550001", got.Address, "by sid")
	a.Fail("GET", base+"/nobody", nil, 404, wire.CodeNotFound)

	a.Do("PATCH", base+"/bob", map[string]any{"attributes": map[string]string{"role": "agent"}}, &got)
	assert.JSONEq(t, `{"role":"agent"}`, string(got.Attributes))
	upd := event[wire.ParticipantUpdatedEvent](t, ctx, alice, wire.EventParticipantUpdated)
	assert.Equal(t, pb.Sid, upd.Participant.Sid)

	assert.Equal(t, http.StatusNoContent, a.Do("DELETE", base+"/bob", nil, nil))
	left := event[wire.ParticipantEvent](t, ctx, alice, wire.EventParticipantLeft)
	assert.Equal(t, pb.Sid, left.Participant.Sid)
	a.Do("DELETE", base+"/"+sms.Sid, nil, nil)
	a.Fail("DELETE", base+"/bob", nil, 404, wire.CodeNotFound)
	a.Do("GET", base, nil, &page)
	assert.Len(t, page.Items, 2)
}

func TestAdminMessages(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t)
	a := env.Admin(t)
	var conv wire.Conversation
	a.Do("POST", "/conversations", map[string]any{"friendlyName": "m"}, &conv)
	base := "/conversations/" + conv.Sid + "/messages"
	var pb wire.Participant
	a.Do("POST", "/conversations/"+conv.Sid+"/participants", map[string]any{"identity": "alice"}, nil)
	a.Do("POST", "/conversations/"+conv.Sid+"/participants", map[string]any{"identity": "bob"}, &pb)
	alice := env.Connect(ctx, "alice")

	var m wire.Message
	assert.Equal(t, http.StatusCreated, a.Do("POST", base, map[string]any{"author": "bob", "body": "hi from bob", "attributes": map[string]int{"k": 1}, "subject": "Hello"}, &m))
	assert.Equal(t, "bob", m.Author)
	assert.Equal(t, pb.Sid, m.ParticipantSid, "an author who is a participant writes as that participant")
	assert.EqualValues(t, 0, m.Index)
	require.NotNil(t, m.Subject)
	assert.Equal(t, "Hello", *m.Subject)
	added := event[wire.MessageEvent](t, ctx, alice, wire.EventMessageAdded)
	assert.Equal(t, m.Sid, added.Message.Sid)
	assert.Equal(t, "hi from bob", *added.Message.Body)

	var sys wire.Message
	a.Do("POST", base, map[string]any{"body": "system notice", "idempotencyKey": "k1"}, &sys)
	assert.Equal(t, "system", sys.Author)
	assert.Empty(t, sys.ParticipantSid)
	var again wire.Message
	assert.Equal(t, http.StatusOK, a.Do("POST", base, map[string]any{"body": "system notice", "idempotencyKey": "k1"}, &again))
	assert.Equal(t, sys.Sid, again.Sid, "the idempotency key makes a retried post safe")

	for i := range 5 {
		a.Do("POST", base, map[string]any{"author": "alice", "body": "n" + string(rune('0'+i))}, nil)
	}
	var page wire.MessagePage
	a.Do("GET", base+"?pageSize=3", nil, &page)
	require.Len(t, page.Items, 3)
	assert.EqualValues(t, 4, page.Items[0].Index)
	assert.True(t, page.HasPrev)
	assert.False(t, page.HasNext)
	a.Do("GET", base+"?pageSize=2&anchor=1&direction=forward", nil, &page)
	require.Len(t, page.Items, 2)
	assert.EqualValues(t, 1, page.Items[0].Index)
	assert.True(t, page.HasPrev)
	assert.True(t, page.HasNext)

	// Bad input.
	a.Fail("GET", base+"?direction=sideways", nil, 400, wire.CodeBadRequest)
	a.Fail("GET", base+"?anchor=-1", nil, 400, wire.CodeBadRequest)
	a.Fail("GET", base+"?pageSize=101", nil, 400, wire.CodeBadRequest)
	a.Fail("POST", base, map[string]any{"author": "bob"}, 400, wire.CodeBadRequest)
	a.Fail("POST", base, map[string]any{"body": strings.Repeat("b", wire.MaxMessageBodyBytes+1)}, 413, wire.CodeTooLarge)
	a.Fail("POST", base, map[string]any{"body": "x", "attributes": map[string]string{"a": strings.Repeat("x", wire.MaxMessageAttrsBytes)}}, 413, wire.CodeTooLarge)
	a.Fail("POST", base, map[string]any{"body": "x", "author": "a\x00b"}, 400, wire.CodeBadIdentifier)
	a.Fail("POST", base, map[string]any{"body": "x", "subject": strings.Repeat("s", wire.MaxSubjectChars+1)}, 413, wire.CodeTooLarge)
	a.Fail("POST", base, map[string]any{"body": "x", "contentSid": "HXnope"}, 404, wire.CodeNotFound)
	a.Fail("POST", base, map[string]any{"body": "x", "participantSid": "MBnope"}, 404, wire.CodeNotFound)
	a.Fail("POST", base, map[string]any{"body": "x", "mediaSids": []string{"MEnope"}}, 400, wire.CodeBadRequest)
	a.Fail("POST", "/conversations/CHnope/messages", map[string]any{"body": "x"}, 404, wire.CodeNotFound)
	a.Fail("GET", base+"/IMnope", nil, 404, wire.CodeNotFound)

	var got wire.Message
	a.Do("GET", base+"/"+m.Sid, nil, &got)
	assert.Equal(t, "hi from bob", *got.Body)
	a.Do("PATCH", base+"/"+m.Sid, map[string]any{"body": "edited"}, &got)
	assert.Equal(t, "edited", *got.Body)
	assert.Equal(t, "system", got.LastUpdatedBy)
	upd := event[wire.MessageUpdatedEvent](t, ctx, alice, wire.EventMessageUpdated)
	assert.Equal(t, "edited", *upd.Message.Body)
	assert.Contains(t, upd.UpdateReasons, wire.ReasonBody)
	a.Fail("PATCH", base+"/"+m.Sid, map[string]any{}, 400, wire.CodeBadRequest)

	assert.Equal(t, http.StatusNoContent, a.Do("DELETE", base+"/"+m.Sid, nil, nil))
	rm := event[wire.MessageEvent](t, ctx, alice, wire.EventMessageRemoved)
	assert.Equal(t, m.Sid, rm.Message.Sid)
	a.Fail("GET", base+"/"+m.Sid, nil, 404, wire.CodeNotFound)
	a.Fail("DELETE", base+"/"+m.Sid, nil, 404, wire.CodeNotFound)

	// What the admin posted, the client reads like any message.
	var cp wire.MessagePage
	require.NoError(t, alice.Call(ctx, wire.OpMessageList, wire.ListMessagesArgs{ConversationSid: conv.Sid, PageSize: 100}, &cp))
	assert.Len(t, cp.Items, 6)
}

func TestAdminInboundAndReceipts(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t)
	a := env.Admin(t)
	var conv wire.Conversation
	a.Do("POST", "/conversations", map[string]any{"friendlyName": "r"}, &conv)
	cbase := "/conversations/" + conv.Sid
	var chat, sms, email wire.Participant
	a.Do("POST", cbase+"/participants", map[string]any{"identity": "alice"}, &chat)
	a.Do("POST", cbase+"/participants", map[string]any{"address": "+15550001", "proxyAddress": "+15559999"}, &sms)
	a.Do("POST", cbase+"/participants", map[string]any{"address": "eve@example.com"}, &email)
	assert.Equal(t, wire.ParticipantEmail, email.Type)
	alice := env.Connect(ctx, "alice")

	// An inbound SMS: the author is the address, with channel metadata.
	var in wire.Message
	a.Do("POST", cbase+"/messages", map[string]any{"author": "+15550001", "body": "inbound",
		"channelMetadata": map[string]any{"type": "sms", "data": map[string]string{"messageSid": "SM1"}}}, &in)
	assert.Equal(t, sms.Sid, in.ParticipantSid)
	var md *wire.ChannelMetadata
	require.NoError(t, alice.Call(ctx, wire.OpMessageChannelMeta, wire.MessageRef{ConversationSid: conv.Sid, MessageSid: in.Sid}, &md))
	require.NotNil(t, md)
	assert.Equal(t, "sms", md.Type)
	a.Fail("POST", cbase+"/messages", map[string]any{"body": "x", "channelMetadata": map[string]any{"data": 1}}, 400, wire.CodeBadRequest)

	// An outbound message and its delivery receipts.
	var out wire.Message
	a.Do("POST", cbase+"/messages", map[string]any{"author": "alice", "body": "outbound"}, &out)
	_, err := alice.WaitEvent(ctx, wire.EventMessageAdded)
	require.NoError(t, err)
	_, err = alice.WaitEvent(ctx, wire.EventMessageAdded)
	require.NoError(t, err)
	rbase := cbase + "/messages/" + out.Sid + "/receipts/"
	var rc wire.DetailedReceipt
	a.Do("PUT", rbase+sms.Sid, map[string]any{"status": "sent", "channelMessageSid": "SM42"}, &rc)
	assert.True(t, strings.HasPrefix(rc.Sid, "DY"))
	assert.Equal(t, "sent", rc.Status)
	assert.Equal(t, "SM42", rc.ChannelMessageSid)
	upd := event[wire.MessageUpdatedEvent](t, ctx, alice, wire.EventMessageUpdated)
	assert.Equal(t, []string{wire.ReasonDeliveryReceipt}, upd.UpdateReasons)
	require.NotNil(t, upd.Message.Receipts)
	assert.Equal(t, 1, upd.Message.Receipts.Total)
	assert.Equal(t, wire.AmountAll, upd.Message.Receipts.Sent)
	assert.Equal(t, wire.AmountNone, upd.Message.Receipts.Delivered)

	a.Do("PUT", rbase+email.Sid, map[string]any{"status": "failed", "errorCode": 30008}, nil)
	upd = event[wire.MessageUpdatedEvent](t, ctx, alice, wire.EventMessageUpdated)
	assert.Equal(t, 2, upd.Message.Receipts.Total)
	assert.Equal(t, wire.AmountSome, upd.Message.Receipts.Failed)
	a.Do("PUT", rbase+sms.Sid, map[string]any{"status": "delivered"}, &rc)
	assert.Equal(t, "SM42", rc.ChannelMessageSid, "an update without channelMessageSid keeps it")
	upd = event[wire.MessageUpdatedEvent](t, ctx, alice, wire.EventMessageUpdated)
	assert.Equal(t, wire.AmountSome, upd.Message.Receipts.Delivered)

	var rp wire.ReceiptPage
	a.Do("GET", cbase+"/messages/"+out.Sid+"/receipts", nil, &rp)
	require.Len(t, rp.Items, 2)
	var got wire.Message
	a.Do("GET", cbase+"/messages/"+out.Sid, nil, &got)
	require.NotNil(t, got.Receipts)
	assert.Equal(t, 2, got.Receipts.Total)

	a.Fail("PUT", rbase+chat.Sid, map[string]any{"status": "sent"}, 400, wire.CodeBadRequest)
	a.Fail("PUT", rbase+sms.Sid, map[string]any{"status": "lost"}, 400, wire.CodeBadRequest)
	a.Fail("PUT", rbase+"MBnope", map[string]any{"status": "sent"}, 404, wire.CodeNotFound)
	a.Fail("PUT", cbase+"/messages/IMnope/receipts/"+sms.Sid, map[string]any{"status": "sent"}, 404, wire.CodeNotFound)
}

func TestAdminUsers(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t)
	a := env.Admin(t)
	a.Fail("GET", "/users/ghost", nil, 404, wire.CodeNotFound)
	alice := env.Connect(ctx, "alice")
	_ = alice
	var u wire.User
	a.Do("GET", "/users/alice", nil, &u)
	assert.Equal(t, "alice", u.Identity)
	a.Do("PATCH", "/users/alice", map[string]any{"friendlyName": "Alice A.", "attributes": map[string]string{"team": "blue"}}, &u)
	assert.Equal(t, "Alice A.", u.FriendlyName)
	assert.JSONEq(t, `{"team":"blue"}`, string(u.Attributes))
	a.Do("GET", "/users/alice", nil, &u)
	assert.Equal(t, "Alice A.", u.FriendlyName)
	// A user prepared before their first login.
	a.Do("PATCH", "/users/newbie", map[string]any{"friendlyName": "New"}, &u)
	assert.Equal(t, "New", u.FriendlyName)

	a.Fail("PATCH", "/users/alice", map[string]any{"friendlyName": strings.Repeat("f", wire.MaxFriendlyNameChars+1)}, 413, wire.CodeTooLarge)
	a.Fail("PATCH", "/users/alice", `{"attributes": {`, 400, wire.CodeBadRequest)
	a.Fail("GET", "/users/"+strings.Repeat("u", wire.MaxIdentityChars+1), nil, 413, wire.CodeTooLarge)
}

func TestAdminContentTemplates(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t)
	a := env.Admin(t)
	var ct wire.ContentTemplate
	assert.Equal(t, http.StatusCreated, a.Do("POST", "/content", map[string]any{
		"friendlyName": "greeting",
		"variables":    []map[string]string{{"name": "1", "value": "friend"}},
		"variants":     map[string]any{"twilio/text": map[string]string{"body": "Hi {{1}}"}},
	}, &ct))
	assert.True(t, strings.HasPrefix(ct.Sid, "HX"))
	assert.Equal(t, []wire.ContentVariable{{Name: "1", Value: "friend"}}, ct.Variables)
	assert.JSONEq(t, `{"twilio/text":{"body":"Hi {{1}}"}}`, string(ct.Variants))
	var ct2 wire.ContentTemplate
	a.Do("POST", "/content", map[string]any{"friendlyName": "bye"}, &ct2)
	assert.Equal(t, []wire.ContentVariable{}, ct2.Variables)

	var got wire.ContentTemplate
	a.Do("GET", "/content/"+ct.Sid, nil, &got)
	assert.Equal(t, "greeting", got.FriendlyName)
	a.Do("PATCH", "/content/"+ct.Sid, map[string]any{"friendlyName": "hello"}, &got)
	assert.Equal(t, "hello", got.FriendlyName)
	assert.Len(t, got.Variables, 1, "unchanged fields stay")

	var page wire.ContentTemplatePage
	a.Do("GET", "/content?pageSize=1", nil, &page)
	require.Len(t, page.Items, 1)
	require.NotEmpty(t, page.Next)

	// Any user lists them over the WebSocket (content.list).
	alice := env.Connect(ctx, "alice")
	require.NoError(t, alice.Call(ctx, wire.OpContentList, wire.ListArgs{PageSize: 1}, &page))
	require.Len(t, page.Items, 1)
	assert.Equal(t, ct.Sid, page.Items[0].Sid)
	next := page.Next
	page = wire.ContentTemplatePage{}
	require.NoError(t, alice.Call(ctx, wire.OpContentList, wire.ListArgs{After: next}, &page))
	require.Len(t, page.Items, 1)
	assert.Equal(t, ct2.Sid, page.Items[0].Sid)
	assert.Empty(t, page.Next)
	assert.Equal(t, wire.CodeBadRequest, code(t, alice.Call(ctx, wire.OpContentList, wire.ListArgs{After: "x"}, nil)))

	// A message sent with a template.
	var conv wire.Conversation
	a.Do("POST", "/conversations", map[string]any{}, &conv)
	var m wire.Message
	a.Do("POST", "/conversations/"+conv.Sid+"/messages", map[string]any{"contentSid": ct.Sid,
		"contentVariables": []map[string]string{{"name": "1", "value": "Ann"}}}, &m)
	assert.Equal(t, ct.Sid, m.ContentSid)

	a.Fail("POST", "/content", map[string]any{"variants": []int{1}}, 400, wire.CodeBadRequest)
	a.Fail("POST", "/content", map[string]any{"variables": []map[string]string{{"value": "x"}}}, 400, wire.CodeBadRequest)
	a.Fail("POST", "/content", map[string]any{"variables": []map[string]string{{"name": "a"}, {"name": "a"}}}, 400, wire.CodeBadRequest)
	a.Fail("POST", "/content", map[string]any{"friendlyName": strings.Repeat("n", 257)}, 413, wire.CodeTooLarge)
	a.Fail("GET", "/content/HXnope", nil, 404, wire.CodeNotFound)
	a.Fail("PATCH", "/content/HXnope", map[string]any{"friendlyName": "x"}, 404, wire.CodeNotFound)
	a.Fail("GET", "/content?after=-4", nil, 400, wire.CodeBadRequest)
	assert.Equal(t, http.StatusNoContent, a.Do("DELETE", "/content/"+ct2.Sid, nil, nil))
	a.Fail("DELETE", "/content/"+ct2.Sid, nil, 404, wire.CodeNotFound)
}
