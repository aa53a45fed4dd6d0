package storetest

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/wire"
)

var _ = register(
	test{"SendFansOutOncePerRecipient", testSendFansOut},
	test{"IdempotentSend", testIdempotentSend},
	test{"MessagePaging", testMessagePaging},
	test{"UpdateAndRemoveMessage", testUpdateAndRemoveMessage},
	test{"MessageFields", testMessageFields},
	test{"MediaAttachment", testMediaAttachment},
	test{"DeleteUnattachedMedia", testDeleteUnattachedMedia},
	test{"ReceiptsAndChannelMetadata", testReceipts},
)

func testSendFansOut(t *testing.T, h *harness) {
	ctx, s, c := h.room("alice", "bob")
	m, ds := send(t, s, c.Sid, "alice", "hi")
	assert.Regexp(t, `^IM[0-9a-f]{32}$`, m.Sid)
	assert.EqualValues(t, 0, m.Index)
	assert.Equal(t, "hi", *m.Body)
	require.Len(t, ds, 2)
	assert.Equal(t, []string{"alice", "bob"}, recipients(ds))
	assert.Equal(t, string(ds[0].Payload), string(ds[1].Payload))
	var ev wire.MessageEvent
	require.NoError(t, json.Unmarshal(ds[0].Payload, &ev))
	assert.Equal(t, m.Sid, ev.Message.Sid)
	evs, err := s.EventsAfter(ctx, 0, 1000)
	require.NoError(t, err)
	n := 0
	for _, e := range evs {
		if e.Name == wire.EventMessageAdded {
			n++
		}
	}
	assert.Equal(t, 1, n, "payload stored once")

	conv, err := s.Conversation(ctx, c.Sid)
	require.NoError(t, err)
	require.NotNil(t, conv.LastMessage)
	assert.EqualValues(t, 0, conv.LastMessage.Index)
	assert.Equal(t, m.DateCreated, conv.LastMessage.DateCreated)

	// bob: conversationJoined + participantJoined(bob) = 2, then messageAdded = 3.
	// alice also got participantJoined(bob): 1,2,3 then messageAdded = 4.
	for id, want := range map[string]uint64{"alice": 4, "bob": 3} {
		h, err := s.StreamHead(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, want, h.Last, id)
		assert.EqualValues(t, 1, h.Oldest)
		evs, err := s.ReadStream(ctx, id, 0, 100)
		require.NoError(t, err)
		require.Len(t, evs, int(want))
		for i, e := range evs {
			assert.EqualValues(t, i+1, e.Offset)
			assert.Equal(t, id, e.Identity)
		}
		last := evs[len(evs)-1]
		assert.Equal(t, wire.EventMessageAdded, last.Event)
		assert.JSONEq(t, string(ds[0].Payload), string(last.Payload), "the stream holds what was pushed")
		page, err := s.ReadStream(ctx, id, want-1, 100)
		require.NoError(t, err)
		require.Len(t, page, 1)
		page, err = s.ReadStream(ctx, id, 0, 2)
		require.NoError(t, err)
		assert.Len(t, page, 2, "limit")
	}
	_, _, _, err = s.SendMessage(ctx, store.NewMessage{ConversationSid: "CHnope", Author: "alice", Body: ptr("x")})
	assert.ErrorIs(t, err, store.ErrNotFound)
}

func testIdempotentSend(t *testing.T, h *harness) {
	ctx, s, c := h.room("alice", "bob")
	nm := store.NewMessage{ConversationSid: c.Sid, Author: "alice", Body: ptr("once"), IdempotencyKey: "k1"}
	m1, created, ds, err := s.SendMessage(ctx, nm)
	require.NoError(t, err)
	require.True(t, created)
	require.Len(t, ds, 2)
	nm.Body = ptr("retried")
	m2, created, ds, err := s.SendMessage(ctx, nm)
	require.NoError(t, err)
	assert.False(t, created)
	assert.Empty(t, ds)
	assert.Equal(t, m1, m2, "the first message, as it was stored")
	// The same key from another author is another message.
	m3, created, _, err := s.SendMessage(ctx, store.NewMessage{ConversationSid: c.Sid, Author: "bob", Body: ptr("x"), IdempotencyKey: "k1"})
	require.NoError(t, err)
	assert.True(t, created)
	assert.EqualValues(t, 1, m3.Index, "the retry used no index")
	h2, err := s.StreamHead(ctx, "bob")
	require.NoError(t, err)
	assert.EqualValues(t, 4, h2.Last, "the retry put nothing in the streams")
}

func testMessagePaging(t *testing.T, h *harness) {
	ctx, s, c := h.room("alice")
	for i := range 10 {
		send(t, s, c.Sid, "alice", fmt.Sprint(i))
	}
	indices := func(p wire.MessagePage) []int64 {
		var out []int64
		for _, m := range p.Items {
			out = append(out, m.Index)
		}
		return out
	}
	a := func(v int64) *int64 { return &v }
	cases := []struct {
		name             string
		q                store.MessageQuery
		want             []int64
		hasPrev, hasNext bool
	}{
		{"newest", store.MessageQuery{PageSize: 3}, []int64{7, 8, 9}, true, false},
		{"backwards anchor", store.MessageQuery{PageSize: 3, Anchor: a(5)}, []int64{3, 4, 5}, true, true},
		{"backwards start", store.MessageQuery{PageSize: 3, Anchor: a(2)}, []int64{0, 1, 2}, false, true},
		{"forward oldest", store.MessageQuery{PageSize: 3, Forward: true}, []int64{0, 1, 2}, false, true},
		{"forward anchor", store.MessageQuery{PageSize: 3, Forward: true, Anchor: a(4)}, []int64{4, 5, 6}, true, true},
		{"forward end", store.MessageQuery{PageSize: 5, Forward: true, Anchor: a(7)}, []int64{7, 8, 9}, true, false},
		{"all", store.MessageQuery{PageSize: 30}, []int64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, false, false},
		{"default size", store.MessageQuery{}, []int64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, false, false},
	}
	for _, tc := range cases {
		tc.q.ConversationSid = c.Sid
		p, err := s.Messages(ctx, tc.q)
		require.NoError(t, err, tc.name)
		assert.Equal(t, tc.want, indices(p), tc.name)
		assert.Equal(t, tc.hasPrev, p.HasPrev, tc.name+" hasPrev")
		assert.Equal(t, tc.hasNext, p.HasNext, tc.name+" hasNext")
	}
	p, err := s.Messages(ctx, store.MessageQuery{ConversationSid: "CHnone"})
	require.NoError(t, err)
	assert.NotNil(t, p.Items)
	assert.Empty(t, p.Items)
}

func testUpdateAndRemoveMessage(t *testing.T, h *harness) {
	ctx, s, c := h.room("alice", "bob")
	m, _ := send(t, s, c.Sid, "alice", "first")
	send(t, s, c.Sid, "alice", "second")

	got, ds, err := s.UpdateMessage(ctx, store.MessageUpdate{ConversationSid: c.Sid, Sid: m.Sid, Body: ptr("edited"),
		Attributes: wire.RawJSON(`{"e":1}`), By: "alice"})
	require.NoError(t, err)
	assert.Equal(t, "edited", *got.Body)
	assert.Equal(t, "alice", got.LastUpdatedBy)
	assert.Equal(t, []string{"alice", "bob"}, recipients(ds))
	var ev wire.MessageUpdatedEvent
	require.NoError(t, json.Unmarshal(ds[0].Payload, &ev))
	assert.Equal(t, []string{wire.ReasonBody, wire.ReasonAttributes, wire.ReasonLastUpdatedBy, wire.ReasonDateUpdated}, ev.UpdateReasons)

	_, ds, err = s.UpdateMessage(ctx, store.MessageUpdate{ConversationSid: c.Sid, Sid: m.Sid, Body: ptr("edited"), By: "bob"})
	require.NoError(t, err)
	assert.Empty(t, ds, "nothing changed")
	_, ds, err = s.UpdateMessage(ctx, store.MessageUpdate{ConversationSid: c.Sid, Sid: m.Sid, Body: ptr("again"), By: "alice"})
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(ds[0].Payload, &ev))
	assert.Equal(t, []string{wire.ReasonBody, wire.ReasonDateUpdated}, ev.UpdateReasons, "same editor as before")
	_, _, err = s.UpdateMessage(ctx, store.MessageUpdate{ConversationSid: c.Sid, Sid: "IMnope", Body: ptr("x"), By: "alice"})
	assert.ErrorIs(t, err, store.ErrNotFound)
	stored, err := s.Message(ctx, c.Sid, m.Sid)
	require.NoError(t, err)
	assert.Equal(t, "again", *stored.Body)
	assert.JSONEq(t, `{"e":1}`, string(stored.Attributes))

	gone, ds, err := s.RemoveMessage(ctx, c.Sid, m.Sid)
	require.NoError(t, err)
	assert.Equal(t, "again", *gone.Body, "the message as it was")
	assert.Equal(t, []string{wire.EventMessageRemoved, wire.EventMessageRemoved}, events(ds))
	_, err = s.Message(ctx, c.Sid, m.Sid)
	assert.ErrorIs(t, err, store.ErrNotFound)
	_, _, err = s.RemoveMessage(ctx, c.Sid, m.Sid)
	assert.ErrorIs(t, err, store.ErrNotFound)
	page, err := s.Messages(ctx, store.MessageQuery{ConversationSid: c.Sid})
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	assert.EqualValues(t, 1, page.Items[0].Index, "other indexes stay")
	m3, _ := send(t, s, c.Sid, "bob", "third")
	assert.EqualValues(t, 2, m3.Index, "indexes never repeat")
	_, err = s.Message(ctx, "CHother", m3.Sid)
	assert.ErrorIs(t, err, store.ErrNotFound, "a message is found in its own conversation only")
}

func testMessageFields(t *testing.T, h *harness) {
	ctx, s, c := h.room("alice")
	alice, err := s.Participant(ctx, c.Sid, "alice")
	require.NoError(t, err)
	vars := []wire.ContentVariable{{Name: "1", Value: "x"}}
	m, created, _, err := s.SendMessage(ctx, store.NewMessage{ConversationSid: c.Sid, Author: "alice", ParticipantSid: alice.Sid,
		Subject: ptr("subj"), Attributes: wire.RawJSON(`{"a":[1,2]}`), ContentSid: "HX1", ContentVariables: vars})
	require.NoError(t, err)
	require.True(t, created)
	assert.Nil(t, m.Body)
	assert.Equal(t, "subj", *m.Subject)
	assert.Equal(t, alice.Sid, m.ParticipantSid)
	assert.Equal(t, "HX1", m.ContentSid)
	assert.Equal(t, vars, m.ContentVariables)
	assert.JSONEq(t, `{"a":[1,2]}`, string(m.Attributes))
	assert.Equal(t, m.DateCreated, m.DateUpdated)
	assert.WithinDuration(t, time.Now(), m.DateCreated, time.Minute)
	got, err := s.Message(ctx, c.Sid, m.Sid)
	require.NoError(t, err)
	assert.Equal(t, m, got, "what SendMessage returns is what is stored")
	page, err := s.Messages(ctx, store.MessageQuery{ConversationSid: c.Sid})
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	assert.Equal(t, m, page.Items[0])
	plain, _ := send(t, s, c.Sid, "alice", "plain")
	assert.JSONEq(t, `{}`, string(plain.Attributes))
	assert.Nil(t, plain.Subject)
	assert.Nil(t, plain.ContentVariables)
	assert.Nil(t, plain.Media)
	assert.Nil(t, plain.Receipts)
}

func testMediaAttachment(t *testing.T, h *harness) {
	ctx, s, c := h.room("alice", "bob")
	for _, sid := range []string{"ME1", "ME2", "ME3"} {
		require.NoError(t, s.CreateMedia(ctx, store.MediaRecord{Media: wire.Media{Sid: sid, Category: wire.MediaCategoryMedia,
			Filename: sid + ".png", ContentType: "image/png", Size: 10}, Owner: "alice"}))
	}
	require.NoError(t, s.CreateMedia(ctx, store.MediaRecord{Media: wire.Media{Sid: "MEbob", Category: wire.MediaCategoryMedia, ContentType: "text/plain", Size: 1}, Owner: "bob"}))
	rec, err := s.Media(ctx, "ME1")
	require.NoError(t, err)
	assert.Equal(t, "alice", rec.Owner)
	assert.Empty(t, rec.MessageSid)
	assert.Equal(t, "ME1.png", rec.Filename)
	assert.WithinDuration(t, time.Now(), rec.DateCreated, time.Minute)
	_, err = s.Media(ctx, "MEnope")
	assert.ErrorIs(t, err, store.ErrNotFound)

	m, _, ds, err := s.SendMessage(ctx, store.NewMessage{ConversationSid: c.Sid, Author: "alice", MediaSids: []string{"ME2", "ME1"}})
	require.NoError(t, err)
	require.Len(t, m.Media, 2)
	assert.Equal(t, []string{"ME2", "ME1"}, []string{m.Media[0].Sid, m.Media[1].Sid}, "in the order given")
	assert.Equal(t, wire.Media{Sid: "ME2", Category: wire.MediaCategoryMedia, Filename: "ME2.png", ContentType: "image/png", Size: 10}, m.Media[0])
	var ev wire.MessageEvent
	require.NoError(t, json.Unmarshal(ds[0].Payload, &ev))
	assert.Len(t, ev.Message.Media, 2)
	rec, err = s.Media(ctx, "ME1")
	require.NoError(t, err)
	assert.Equal(t, m.Sid, rec.MessageSid)
	assert.Equal(t, c.Sid, rec.ConversationSid)
	got, err := s.Message(ctx, c.Sid, m.Sid)
	require.NoError(t, err)
	assert.Equal(t, m.Media, got.Media)

	for name, sids := range map[string][]string{
		"attached already": {"ME1"},
		"someone else's":   {"MEbob"},
		"unknown":          {"MEnope"},
		"twice":            {"ME3", "ME3"},
	} {
		_, _, _, err := s.SendMessage(ctx, store.NewMessage{ConversationSid: c.Sid, Author: "alice", MediaSids: sids})
		assert.ErrorIs(t, err, store.ErrMediaUnusable, name)
	}
	rec, err = s.Media(ctx, "ME3")
	require.NoError(t, err)
	assert.Empty(t, rec.MessageSid, "a failed send attaches nothing")
	page, err := s.Messages(ctx, store.MessageQuery{ConversationSid: c.Sid})
	require.NoError(t, err)
	assert.Len(t, page.Items, 1, "and stores nothing")

	// Removing the message removes its media records; DeleteMedia removes any.
	_, _, err = s.RemoveMessage(ctx, c.Sid, m.Sid)
	require.NoError(t, err)
	_, err = s.Media(ctx, "ME1")
	assert.ErrorIs(t, err, store.ErrNotFound)
	require.NoError(t, s.DeleteMedia(ctx, []string{"ME3", "MEbob", "MEnope"}))
	require.NoError(t, s.DeleteMedia(ctx, nil))
	_, err = s.Media(ctx, "MEbob")
	assert.ErrorIs(t, err, store.ErrNotFound)
}

func testDeleteUnattachedMedia(t *testing.T, h *harness) {
	ctx, s, c := h.room("alice")
	for _, sid := range []string{"MEa", "MEb", "MEc"} {
		require.NoError(t, s.CreateMedia(ctx, store.MediaRecord{Media: wire.Media{Sid: sid, Category: wire.MediaCategoryMedia, ContentType: "image/png", Size: 1}, Owner: "alice"}))
	}
	_, _, _, err := s.SendMessage(ctx, store.NewMessage{ConversationSid: c.Sid, Author: "alice", MediaSids: []string{"MEb"}})
	require.NoError(t, err)
	none, err := s.DeleteUnattachedMedia(ctx, time.Now().Add(-time.Hour), 10)
	require.NoError(t, err)
	assert.Empty(t, none, "not old enough")
	one, err := s.DeleteUnattachedMedia(ctx, time.Now().Add(time.Hour), 1)
	require.NoError(t, err)
	assert.Len(t, one, 1, "limit")
	rest, err := s.DeleteUnattachedMedia(ctx, time.Now().Add(time.Hour), 10)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"MEa", "MEc"}, append(one, rest...))
	_, err = s.Media(ctx, "MEb")
	assert.NoError(t, err, "attached media stay")
}

func testReceipts(t *testing.T, h *harness) {
	ctx, s, c := h.room("alice")
	m, _ := send(t, s, c.Sid, "alice", "hello")
	sms1, _, err := s.AddParticipant(ctx, store.NewParticipant{ConversationSid: c.Sid, Type: wire.ParticipantSMS, Address: "+1", ProxyAddress: "+9"})
	require.NoError(t, err)
	sms2, _, err := s.AddParticipant(ctx, store.NewParticipant{ConversationSid: c.Sid, Type: wire.ParticipantSMS, Address: "+2", ProxyAddress: "+9"})
	require.NoError(t, err)

	rc, ds, err := s.UpsertReceipt(ctx, store.ReceiptUpsert{ConversationSid: c.Sid, MessageSid: m.Sid, ParticipantSid: sms1.Sid,
		Status: wire.DeliverySent, ChannelMessageSid: "SM1"})
	require.NoError(t, err)
	assert.Regexp(t, `^DY[0-9a-f]{32}$`, rc.Sid)
	assert.Equal(t, wire.DeliverySent, rc.Status)
	assert.Equal(t, "SM1", rc.ChannelMessageSid)
	require.Len(t, ds, 1)
	var ev wire.MessageUpdatedEvent
	require.NoError(t, json.Unmarshal(ds[0].Payload, &ev))
	assert.Equal(t, []string{wire.ReasonDeliveryReceipt}, ev.UpdateReasons)
	assert.Equal(t, &wire.AggregatedReceipt{Total: 1, Sent: wire.AmountAll, Delivered: wire.AmountNone, Read: wire.AmountNone,
		Undelivered: wire.AmountNone, Failed: wire.AmountNone}, ev.Message.Receipts)

	// The same participant again updates its receipt and keeps the channel sid when none is given.
	rc2, ds, err := s.UpsertReceipt(ctx, store.ReceiptUpsert{ConversationSid: c.Sid, MessageSid: m.Sid, ParticipantSid: sms1.Sid, Status: wire.DeliveryRead})
	require.NoError(t, err)
	assert.Equal(t, rc.Sid, rc2.Sid)
	assert.Equal(t, "SM1", rc2.ChannelMessageSid)
	assert.Equal(t, wire.DeliveryRead, rc2.Status)
	assert.Len(t, ds, 1)
	_, ds, err = s.UpsertReceipt(ctx, store.ReceiptUpsert{ConversationSid: c.Sid, MessageSid: m.Sid, ParticipantSid: sms1.Sid, Status: wire.DeliveryRead})
	require.NoError(t, err)
	assert.Empty(t, ds, "the aggregate did not move")
	time.Sleep(2 * time.Millisecond) // receipts are listed by creation time, to the millisecond
	_, _, err = s.UpsertReceipt(ctx, store.ReceiptUpsert{ConversationSid: c.Sid, MessageSid: m.Sid, ParticipantSid: sms2.Sid,
		Status: wire.DeliveryFailed, ErrorCode: 30003})
	require.NoError(t, err)

	got, err := s.Message(ctx, c.Sid, m.Sid)
	require.NoError(t, err)
	assert.Equal(t, &wire.AggregatedReceipt{Total: 2, Sent: wire.AmountSome, Delivered: wire.AmountSome, Read: wire.AmountSome,
		Undelivered: wire.AmountNone, Failed: wire.AmountSome}, got.Receipts)
	list, err := s.Receipts(ctx, c.Sid, m.Sid)
	require.NoError(t, err)
	require.Len(t, list, 2)
	assert.Equal(t, sms1.Sid, list[0].ParticipantSid, "oldest first")
	assert.Equal(t, 30003, list[1].ErrorCode)
	empty, err := s.Receipts(ctx, c.Sid, "IMnone")
	require.NoError(t, err)
	assert.NotNil(t, empty)
	assert.Empty(t, empty)

	_, _, err = s.UpsertReceipt(ctx, store.ReceiptUpsert{ConversationSid: c.Sid, MessageSid: "IMnope", ParticipantSid: sms1.Sid, Status: wire.DeliverySent})
	assert.ErrorIs(t, err, store.ErrNotFound)
	_, _, err = s.UpsertReceipt(ctx, store.ReceiptUpsert{ConversationSid: c.Sid, MessageSid: m.Sid, ParticipantSid: "MBnope", Status: wire.DeliverySent})
	assert.ErrorIs(t, err, store.ErrNotFound)

	meta, err := s.ChannelMetadata(ctx, c.Sid, m.Sid)
	require.NoError(t, err)
	assert.Nil(t, meta)
	require.NoError(t, s.SetChannelMetadata(ctx, c.Sid, m.Sid, wire.ChannelMetadata{Type: "email", Data: wire.RawJSON(`{"cc":["x"]}`)}))
	meta, err = s.ChannelMetadata(ctx, c.Sid, m.Sid)
	require.NoError(t, err)
	require.NotNil(t, meta)
	assert.Equal(t, "email", meta.Type)
	assert.JSONEq(t, `{"cc":["x"]}`, string(meta.Data))
	assert.ErrorIs(t, s.SetChannelMetadata(ctx, c.Sid, "IMnope", wire.ChannelMetadata{Type: "email"}), store.ErrNotFound)
	_, err = s.ChannelMetadata(ctx, c.Sid, "IMnope")
	assert.ErrorIs(t, err, store.ErrNotFound)
}
