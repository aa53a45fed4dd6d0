package server_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/server/servertest"
	"github.com/convo-sdk/convo/wire"
)

func TestMessageSendFeatures(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t)
	alice := env.Connect(ctx, "alice")
	bob := env.Connect(ctx, "bob")
	conv := room(t, ctx, alice, "bob")
	settle(t, alice, 3)
	settle(t, bob, 2)

	m1, err := env.Upload(ctx, "alice", "a.png", "", "image/png", []byte("png"))
	require.NoError(t, err)
	m2, err := env.Upload(ctx, "alice", "b.txt", wire.MediaCategoryBody, "text/plain", []byte("body"))
	require.NoError(t, err)
	bobs, err := env.Upload(ctx, "bob", "c.png", "", "image/png", []byte("c"))
	require.NoError(t, err)

	send := func(c *servertest.Client, a wire.SendMessageArgs) (wire.Message, error) {
		a.ConversationSid = conv.Sid
		var m wire.Message
		err := c.Call(ctx, wire.OpMessageSend, a, &m)
		return m, err
	}
	_, err = send(alice, wire.SendMessageArgs{MediaSids: []string{bobs.Sid}})
	assert.Equal(t, wire.CodeBadRequest, code(t, err), "media of another user")
	_, err = send(alice, wire.SendMessageArgs{MediaSids: []string{"ME00000000000000000000000000000000"}})
	assert.Equal(t, wire.CodeBadRequest, code(t, err), "unknown media")
	many := make([]string, 11)
	for i := range many {
		many[i] = fmt.Sprintf("ME%032d", i)
	}
	_, err = send(alice, wire.SendMessageArgs{MediaSids: many})
	assert.Equal(t, wire.CodeTooLarge, code(t, err))
	_, err = send(alice, wire.SendMessageArgs{Body: str("x"), Subject: str(string(repeat('s', 257)))})
	assert.Equal(t, wire.CodeTooLarge, code(t, err))
	_, err = send(alice, wire.SendMessageArgs{ContentSid: "HX00000000000000000000000000000000"})
	assert.Equal(t, wire.CodeNotFound, code(t, err), "unknown content template")

	m, err := send(alice, wire.SendMessageArgs{Body: str("see"), Subject: str("Hello"), MediaSids: []string{m2.Sid, m1.Sid}})
	require.NoError(t, err)
	assert.Equal(t, "Hello", *m.Subject)
	require.Len(t, m.Media, 2)
	assert.Equal(t, m2, m.Media[0], "media in the order given")
	assert.Equal(t, m1, m.Media[1])
	assert.Nil(t, m.Receipts)
	f, err := bob.NextEvent(ctx)
	require.NoError(t, err)
	assert.Equal(t, m, decode[wire.MessageEvent](t, f).Message)
	settle(t, alice, 1)
	_, err = send(alice, wire.SendMessageArgs{MediaSids: []string{m1.Sid}})
	assert.Equal(t, wire.CodeBadRequest, code(t, err), "media already attached")

	var page wire.MessagePage
	require.NoError(t, bob.Call(ctx, wire.OpMessageList, wire.ListMessagesArgs{ConversationSid: conv.Sid}, &page))
	require.Len(t, page.Items, 1)
	assert.Equal(t, m, page.Items[0])

	// Receipts and channel metadata come from the admin API; write them as it would.
	d := env.DB(t)
	var none wire.RawJSON
	require.NoError(t, bob.Call(ctx, wire.OpMessageChannelMeta, wire.MessageRef{ConversationSid: conv.Sid, MessageSid: m.Sid}, &none))
	assert.Equal(t, "null", string(none))
	_, err = d.ExecContext(ctx, `UPDATE messages SET channel_metadata = ? WHERE sid = ?`, `{"type":"email","data":{"id":"x"}}`, m.Sid)
	require.NoError(t, err)
	var md wire.ChannelMetadata
	require.NoError(t, bob.Call(ctx, wire.OpMessageChannelMeta, wire.MessageRef{ConversationSid: conv.Sid, MessageSid: m.Sid}, &md))
	assert.Equal(t, "email", md.Type)
	for i, st := range []string{wire.DeliveryRead, wire.DeliveryDelivered, wire.DeliveryFailed} {
		_, err = d.ExecContext(ctx, `INSERT INTO receipts (sid, message_sid, conversation_sid, participant_sid, channel_message_sid, status, error_code, date_created, date_updated)
			VALUES (?, ?, ?, ?, 'SM1', ?, ?, ?, ?)`, fmt.Sprintf("DY%d", i), m.Sid, conv.Sid, fmt.Sprintf("MB%d", i), st, i, 1000+i, 1000+i)
		require.NoError(t, err)
	}
	var rp wire.ReceiptPage
	require.NoError(t, bob.Call(ctx, wire.OpMessageReceipts, wire.MessageRef{ConversationSid: conv.Sid, MessageSid: m.Sid}, &rp))
	require.Len(t, rp.Items, 3)
	assert.Equal(t, wire.DeliveryRead, rp.Items[0].Status)
	assert.Equal(t, "SM1", rp.Items[0].ChannelMessageSid)
	assert.Equal(t, 2, rp.Items[2].ErrorCode)
	page = wire.MessagePage{}
	require.NoError(t, bob.Call(ctx, wire.OpMessageList, wire.ListMessagesArgs{ConversationSid: conv.Sid}, &page))
	assert.Equal(t, &wire.AggregatedReceipt{Total: 3, Sent: wire.AmountSome, Delivered: wire.AmountSome, Read: wire.AmountSome,
		Undelivered: wire.AmountNone, Failed: wire.AmountSome}, page.Items[0].Receipts)

	// Outsiders read none of it.
	carol := env.Connect(ctx, "carol")
	for _, op := range []string{wire.OpMessageReceipts, wire.OpMessageRecipients, wire.OpMessageChannelMeta} {
		assert.Equal(t, wire.CodeForbidden, code(t, carol.Call(ctx, op, wire.MessageRef{ConversationSid: conv.Sid, MessageSid: m.Sid}, nil)), op)
	}
	assert.Equal(t, wire.CodeNotFound, code(t, bob.Call(ctx, wire.OpMessageReceipts, wire.MessageRef{ConversationSid: conv.Sid, MessageSid: "IMnope"}, nil)))
}

func TestMessageRecipients(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t)
	alice := env.Connect(ctx, "alice")
	conv := room(t, ctx, alice)
	require.NoError(t, alice.Call(ctx, wire.OpParticipantAddNonChat, wire.AddNonChatParticipantArgs{ConversationSid: conv.Sid,
		ProxyAddress: "team@example.com", Address: "to@example.com"}, nil))
	require.NoError(t, alice.Call(ctx, wire.OpParticipantAddNonChat, wire.AddNonChatParticipantArgs{ConversationSid: conv.Sid,
		ProxyAddress: "team@example.com", Address: "cc@example.com", Bindings: wire.RawJSON(`{"email":{"level":"cc","name":"Cee"}}`)}, nil))
	require.NoError(t, alice.Call(ctx, wire.OpParticipantAddNonChat, wire.AddNonChatParticipantArgs{ConversationSid: conv.Sid,
		ProxyAddress: "+1555", Address: "+1666"}, nil))
	var m wire.Message
	require.NoError(t, alice.Call(ctx, wire.OpMessageSend, wire.SendMessageArgs{ConversationSid: conv.Sid, Body: str("mail")}, &m))
	var rp wire.RecipientPage
	require.NoError(t, alice.Call(ctx, wire.OpMessageRecipients, wire.MessageRef{ConversationSid: conv.Sid, MessageSid: m.Sid}, &rp))
	assert.Equal(t, []wire.Recipient{
		{Type: "email", MessageSid: m.Sid, Level: "to", Address: "to@example.com"},
		{Type: "email", MessageSid: m.Sid, Level: "cc", Name: "Cee", Address: "cc@example.com"},
	}, rp.Items)
}

func TestMessageUpdateAndRemove(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t)
	alice := env.Connect(ctx, "alice")
	bob := env.Connect(ctx, "bob")
	carol := env.Connect(ctx, "carol")
	conv := room(t, ctx, alice, "bob")
	var msgs [3]wire.Message
	for i := range msgs {
		require.NoError(t, alice.Call(ctx, wire.OpMessageSend, wire.SendMessageArgs{ConversationSid: conv.Sid, Body: str(fmt.Sprint(i))}, &msgs[i]))
	}
	settle(t, alice, 3+3)
	settle(t, bob, 2+3)
	ref := func(m wire.Message) wire.MessageRef {
		return wire.MessageRef{ConversationSid: conv.Sid, MessageSid: m.Sid}
	}
	updArgs := wire.UpdateMessageArgs{ConversationSid: conv.Sid, MessageSid: msgs[1].Sid, Body: str("edited")}

	assert.Equal(t, wire.CodeForbidden, code(t, bob.Call(ctx, wire.OpMessageUpdate, updArgs, nil)), "not the author")
	assert.Equal(t, wire.CodeForbidden, code(t, carol.Call(ctx, wire.OpMessageUpdate, updArgs, nil)), "not a participant")
	assert.Equal(t, wire.CodeBadRequest, code(t, alice.Call(ctx, wire.OpMessageUpdate, wire.UpdateMessageArgs{ConversationSid: conv.Sid, MessageSid: msgs[1].Sid}, nil)))
	assert.Equal(t, wire.CodeTooLarge, code(t, alice.Call(ctx, wire.OpMessageUpdate, wire.UpdateMessageArgs{ConversationSid: conv.Sid, MessageSid: msgs[1].Sid,
		Attributes: wire.RawJSON(`{"x":"` + string(repeat('a', 4096)) + `"}`)}, nil)))
	var m wire.Message
	require.NoError(t, alice.Call(ctx, wire.OpMessageUpdate, updArgs, &m))
	assert.Equal(t, "edited", *m.Body)
	assert.Equal(t, "alice", m.LastUpdatedBy)
	assert.Equal(t, msgs[1].Index, m.Index)
	for _, c := range []*servertest.Client{alice, bob} {
		f, err := c.NextEvent(ctx)
		require.NoError(t, err)
		assert.Equal(t, wire.EventMessageUpdated, f.Event)
		e := decode[wire.MessageUpdatedEvent](t, f)
		assert.Equal(t, []string{wire.ReasonBody, wire.ReasonLastUpdatedBy, wire.ReasonDateUpdated}, e.UpdateReasons)
		assert.Equal(t, m, e.Message)
	}
	require.NoError(t, alice.Call(ctx, wire.OpMessageUpdate, wire.UpdateMessageArgs{ConversationSid: conv.Sid, MessageSid: msgs[1].Sid, Attributes: wire.RawJSON(`{"r":1}`)}, nil))
	f, err := bob.NextEvent(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{wire.ReasonAttributes, wire.ReasonDateUpdated}, decode[wire.MessageUpdatedEvent](t, f).UpdateReasons)
	settle(t, alice, 1)

	assert.Equal(t, wire.CodeForbidden, code(t, bob.Call(ctx, wire.OpMessageRemove, ref(msgs[1]), nil)))
	assert.Equal(t, wire.CodeForbidden, code(t, carol.Call(ctx, wire.OpMessageRemove, ref(msgs[1]), nil)))
	require.NoError(t, alice.Call(ctx, wire.OpMessageRemove, ref(msgs[1]), nil))
	for _, c := range []*servertest.Client{alice, bob} {
		f, err := c.NextEvent(ctx)
		require.NoError(t, err)
		assert.Equal(t, wire.EventMessageRemoved, f.Event)
		e := decode[wire.MessageEvent](t, f)
		assert.Equal(t, msgs[1].Sid, e.Message.Sid)
		assert.Equal(t, msgs[1].Index, e.Message.Index)
		assert.Nil(t, e.Message.Body, "a removal carries no content")
		assert.Empty(t, e.Message.Attributes)
	}
	var page wire.MessagePage
	require.NoError(t, bob.Call(ctx, wire.OpMessageList, wire.ListMessagesArgs{ConversationSid: conv.Sid}, &page))
	require.Len(t, page.Items, 2)
	assert.Equal(t, []int64{0, 2}, []int64{page.Items[0].Index, page.Items[1].Index}, "other indexes unchanged")
	assert.Equal(t, wire.CodeNotFound, code(t, alice.Call(ctx, wire.OpMessageRemove, ref(msgs[1]), nil)))
	assert.Equal(t, wire.CodeNotFound, code(t, alice.Call(ctx, wire.OpMessageUpdate, updArgs, nil)))
	var next wire.Message
	require.NoError(t, alice.Call(ctx, wire.OpMessageSend, wire.SendMessageArgs{ConversationSid: conv.Sid, Body: str("n")}, &next))
	assert.EqualValues(t, 3, next.Index, "indexes never repeat")
}

// message.send authorizes with one read of the sender's participant record; the errors
// still tell a missing conversation from one the caller is not in, and the message is
// written as the sender's participant.
func TestMessageSendAuthorization(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t)
	alice := env.Connect(ctx, "alice")
	dave := env.Connect(ctx, "dave")
	conv := room(t, ctx, alice)

	err := alice.Call(ctx, wire.OpMessageSend, wire.SendMessageArgs{ConversationSid: "CHnope", Body: str("x")}, nil)
	assert.Equal(t, wire.CodeNotFound, code(t, err))
	assert.Contains(t, err.Error(), `"CHnope"`)
	err = alice.Call(ctx, wire.OpMessageSend, wire.SendMessageArgs{Body: str("x")}, nil)
	assert.Equal(t, wire.CodeBadRequest, code(t, err))
	err = dave.Call(ctx, wire.OpMessageSend, wire.SendMessageArgs{ConversationSid: conv.Sid, Body: str("x")}, nil)
	assert.Equal(t, wire.CodeForbidden, code(t, err))
	assert.Contains(t, err.Error(), "not a participant")

	me, err := env.Store.Participant(ctx, conv.Sid, "alice")
	require.NoError(t, err)
	var m wire.Message
	require.NoError(t, alice.Call(ctx, wire.OpMessageSend, wire.SendMessageArgs{ConversationSid: conv.Sid, Body: str("hi")}, &m))
	assert.Equal(t, me.Sid, m.ParticipantSid)
	assert.Equal(t, "alice", m.Author)
}

// message.update and message.remove need the caller to be the author and the participant
// the message was written as: a chat user who takes the name of an admin API system message
// or of an SMS sender cannot change their messages; the admin API still can.
func TestAuthorChecksUseTheParticipant(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t)
	adm := env.Admin(t)
	alice := env.Connect(ctx, "alice")
	conv := room(t, ctx, alice)
	adm.Do("POST", "/conversations/"+conv.Sid+"/participants", map[string]any{"address": "+15550001", "proxyAddress": "+15559999"}, nil)
	var sysMsg, smsMsg wire.Message
	adm.Do("POST", "/conversations/"+conv.Sid+"/messages", map[string]any{"body": "maintenance tonight"}, &sysMsg)
	require.Equal(t, "system", sysMsg.Author)
	require.Empty(t, sysMsg.ParticipantSid)
	adm.Do("POST", "/conversations/"+conv.Sid+"/messages", map[string]any{"author": "+15550001", "body": "inbound"}, &smsMsg)
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
		adm.Do("GET", "/conversations/"+conv.Sid+"/messages/"+tc.msg.Sid, nil, &got)
		assert.Equal(t, *tc.msg.Body, *got.Body, "unchanged")
	}
	var edited wire.Message
	adm.Do("PATCH", "/conversations/"+conv.Sid+"/messages/"+sysMsg.Sid, map[string]any{"body": "maintenance tomorrow"}, &edited)
	assert.Equal(t, "maintenance tomorrow", *edited.Body)

	// The author's own messages stay theirs.
	var mine wire.Message
	require.NoError(t, alice.Call(ctx, wire.OpMessageSend, wire.SendMessageArgs{ConversationSid: conv.Sid, Body: str("hi")}, &mine))
	require.NoError(t, alice.Call(ctx, wire.OpMessageUpdate, wire.UpdateMessageArgs{ConversationSid: conv.Sid, MessageSid: mine.Sid, Body: str("hello")}, nil))
	require.NoError(t, alice.Call(ctx, wire.OpMessageRemove, wire.MessageRef{ConversationSid: conv.Sid, MessageSid: mine.Sid}, nil))
}

func TestContentList(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t)
	alice := env.Connect(ctx, "alice")
	var page wire.ContentTemplatePage
	require.NoError(t, alice.Call(ctx, wire.OpContentList, wire.ListArgs{}, &page))
	assert.NotNil(t, page.Items)
}
