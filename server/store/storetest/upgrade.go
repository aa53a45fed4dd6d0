package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/wire"
)

// Upgrade tests: each store builds a database at every earlier schema version from its own
// migrations, writes the upgrade fixture into it with SQL valid at that version, opens it
// with its normal Open (which migrates it to the current version) and hands the store to
// CheckUpgrade. The fixture is the same data in every store, described here; each store's
// SQL writes it into its own tables, keyed by the migration that brought them. A version
// writes only the rows its tables can hold, so the fixture comes in parts (UpgradeRows).
//
// The fixture, in every part (T0 is UpgradeT0, times in Unix milliseconds):
//
//	UpgradeRowsBase
//	  users           alice (friendly name "Alice", attributes {"team":"a"}, T0), bob (T0+1)
//	  conversations   UpgradeConversation: unique name "upgrade-room", friendly name
//	                  "Upgrade room", attributes {"topic":"upgrades"}, created by alice,
//	                  created T0+10, updated T0+20, last message index 1 at T0+40
//	  participants    UpgradeAlice (alice, chat, {"role":"host"}, T0+11),
//	                  UpgradeBob (bob, chat, {}, T0+12)
//	  messages        UpgradeMessage0: index 0 by alice (UpgradeAlice), body
//	                  "hello from an older version", attributes {"n":0}, T0+30, idempotency
//	                  key "key-0"; UpgradeMessage1: index 1 by bob, body "second", T0+40
//	  events          1 participantJoined {"sid":UpgradeBob}, 2 messageAdded {"sid":UpgradeMessage1}
//	  streams         alice: epoch "epochalice00", offsets 1→event 1, 2→event 2;
//	                  bob: epoch "epochbob0000", offset 1→event 2
//	UpgradeRowsFeatures
//	  conversation    state inactive since T0+50, bindings {"email":{"name":"Upgrade"}},
//	                  closed after a day: closed_at UpgradeClosedAt
//	  participants    alice muted, read horizon 0 at T0+45; UpgradeSMS: an sms participant,
//	                  address "+15550100", proxy address "+15550199", T0+13
//	  message 0       subject "Greetings", content UpgradeTemplate with variables
//	                  [{"name":"1","value":"friend"}], last updated by bob, channel metadata
//	                  {"type":"sms","data":{"sid":"SM1"}}
//	  media           UpgradeMedia: alice's photo.png (image/png, 1234 bytes, T0+25) attached
//	                  to message 0 at position 0; UpgradeLooseMedia: bob's, text/plain, 5
//	                  bytes, T0+26, attached to nothing
//	  receipts        UpgradeReceipt: message 0 delivered to UpgradeSMS (channel message
//	                  "SM1", T0+60, updated T0+61)
//	  push            alice fcm "reg-alice" (T0+5)
//	  events          3 conversationCreated {"sid":UpgradeConversation}, webhook-only
//	UpgradeRowsContent
//	  templates       UpgradeTemplate "Greeting", variables [{"name":"1","value":"friend"}],
//	                  variants {"twilio/text":{"body":"Hi {{1}}"}}, T0+70, updated T0+71
//	UpgradeRowsWebhooks
//	  cursor          enabled, after event 2 (the position of event 2, in a store that has
//	                  positions)
//	  outbox          "whd-1", onMessageAdded, {"MessageSid":UpgradeMessage1}, 2 attempts,
//	                  next at T0+80, created T0+75
//	UpgradeRowsBans
//	  bans            carol, removed from UpgradeConversation at T0+90
//	UpgradeRowsWebhookDone
//	  done            "whd-0" left the outbox just now (the fixture's {now})
//	UpgradeRowsPendingLinks
//	  events          4 messageUpdated {"sid":UpgradeMessage0}
//	  streams         bob's offset 2→event 4, pending (not yet moved); bob's next offset 3
//	UpgradeRowsLimits
//	  rate_buckets    "upgrade:bucket" empty as of {now}
//	  leases          "upgrade:lease" held by "h1" of node "node1" until {now} + one hour
const (
	UpgradeT0           int64 = 1700000000000
	UpgradeClosedAt           = UpgradeT0 + 50 + 24*3600*1000
	UpgradeConversation       = "CH0000018bcfe5680000000000000001"
	UpgradeAlice              = "MB0000018bcfe5680000000000000001"
	UpgradeBob                = "MB0000018bcfe5680000000000000002"
	UpgradeSMS                = "MB0000018bcfe5680000000000000003"
	UpgradeMessage0           = "IM0000018bcfe5680000000000000000"
	UpgradeMessage1           = "IM0000018bcfe5680000000000000001"
	UpgradeMedia              = "ME0000018bcfe5680000000000000001"
	UpgradeLooseMedia         = "ME0000018bcfe5680000000000000002"
	UpgradeReceipt            = "DY0000018bcfe5680000000000000001"
	UpgradeTemplate           = "HX0000018bcfe5680000000000000001"
)

// UpgradeRows says which parts of the upgrade fixture a database holds.
type UpgradeRows uint

// The parts of the upgrade fixture; see the table above.
const (
	UpgradeRowsBase UpgradeRows = 1 << iota
	UpgradeRowsFeatures
	UpgradeRowsContent
	UpgradeRowsWebhooks
	UpgradeRowsBans
	UpgradeRowsWebhookDone
	UpgradeRowsPendingLinks
	UpgradeRowsLimits
)

func (r UpgradeRows) has(part UpgradeRows) bool { return r&part != 0 }

func ms(v int64) time.Time { return time.UnixMilli(v).UTC() }

// CheckUpgrade checks, through the store's interface, that an upgraded store serves every
// row of the fixture parts it was written with as that data, that what the migrations added
// since reads as its default, and that new writes work on top of the old rows.
func CheckUpgrade(t *testing.T, s store.Store, rows UpgradeRows) {
	t.Helper()
	require.True(t, rows.has(UpgradeRowsBase), "every version has the base rows")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	features := rows.has(UpgradeRowsFeatures)

	t.Run("users", func(t *testing.T) {
		u, err := s.User(ctx, "alice")
		require.NoError(t, err)
		assert.Equal(t, "Alice", u.FriendlyName)
		assert.JSONEq(t, `{"team":"a"}`, string(u.Attributes))
		assert.Equal(t, features, u.IsNotifiable, "alice has a push registration")
		u, err = s.User(ctx, "bob")
		require.NoError(t, err)
		assert.Equal(t, "", u.FriendlyName)
		assert.False(t, u.IsNotifiable)
		_, err = s.User(ctx, "nobody")
		assert.ErrorIs(t, err, store.ErrNotFound)
	})

	t.Run("conversations", func(t *testing.T) {
		c, err := s.Conversation(ctx, UpgradeConversation)
		require.NoError(t, err)
		assert.Equal(t, "upgrade-room", c.UniqueName)
		assert.Equal(t, "Upgrade room", c.FriendlyName)
		assert.JSONEq(t, `{"topic":"upgrades"}`, string(c.Attributes))
		assert.Equal(t, "alice", c.CreatedBy)
		assert.Equal(t, ms(UpgradeT0+10), c.DateCreated)
		assert.Equal(t, ms(UpgradeT0+20), c.DateUpdated)
		require.NotNil(t, c.LastMessage)
		assert.Equal(t, wire.LastMessage{Index: 1, DateCreated: ms(UpgradeT0 + 40)}, *c.LastMessage)
		if features {
			assert.Equal(t, &wire.ConversationState{Current: wire.StateInactive, DateUpdated: ms(UpgradeT0 + 50)}, c.State)
			assert.JSONEq(t, `{"email":{"name":"Upgrade"}}`, string(c.Bindings))
		} else {
			assert.Nil(t, c.State, "active since creation")
			assert.Nil(t, c.Bindings)
		}
		byName, err := s.ConversationByUniqueName(ctx, "upgrade-room")
		require.NoError(t, err)
		assert.Equal(t, c, byName)
		all, next, err := s.AllConversations(ctx, "", 10)
		require.NoError(t, err)
		assert.Empty(t, next)
		assert.Equal(t, []wire.Conversation{c}, all)

		mine, _, err := s.ConversationsOf(ctx, "alice", "", 10)
		require.NoError(t, err)
		require.Len(t, mine, 1)
		assert.True(t, mine[0].Joined)
		view, p, err := s.ConversationView(ctx, UpgradeConversation, "alice")
		require.NoError(t, err)
		require.NotNil(t, p)
		assert.Equal(t, UpgradeAlice, p.Sid)
		assert.Equal(t, mine[0], view)
		counts, err := s.Counts(ctx, UpgradeConversation, "alice")
		require.NoError(t, err)
		assert.EqualValues(t, 2, counts.Messages)
		if features {
			assert.Equal(t, wire.NotificationMuted, view.NotificationLevel)
			assert.Equal(t, ptr[int64](0), view.LastReadMessageIndex)
			assert.EqualValues(t, 3, counts.Participants)
			assert.Equal(t, ptr[int64](1), counts.Unread)
		} else {
			assert.Equal(t, wire.NotificationDefault, view.NotificationLevel)
			assert.Nil(t, view.LastReadMessageIndex)
			assert.EqualValues(t, 2, counts.Participants)
			assert.Nil(t, counts.Unread)
		}
	})

	t.Run("participants", func(t *testing.T) {
		ps, err := s.Participants(ctx, UpgradeConversation)
		require.NoError(t, err)
		want := 2
		if features {
			want = 3
		}
		require.Len(t, ps, want)
		a, b := ps[0], ps[1]
		assert.Equal(t, UpgradeAlice, a.Sid)
		assert.Equal(t, "alice", a.Identity)
		assert.Equal(t, wire.ParticipantChat, a.Type)
		assert.JSONEq(t, `{"role":"host"}`, string(a.Attributes))
		assert.Equal(t, ms(UpgradeT0+11), a.DateCreated)
		assert.Equal(t, ms(UpgradeT0+11), a.DateUpdated)
		assert.Equal(t, UpgradeBob, b.Sid)
		assert.Equal(t, "bob", b.Identity)
		assert.Nil(t, b.LastReadMessageIndex)
		assert.Nil(t, b.LastReadTimestamp)
		got, err := s.Participant(ctx, UpgradeConversation, "bob")
		require.NoError(t, err)
		assert.Equal(t, b, got)
		got, err = s.ParticipantBySid(ctx, UpgradeConversation, UpgradeAlice)
		require.NoError(t, err)
		assert.Equal(t, a, got)
		muted, err := s.MutedIdentities(ctx, UpgradeConversation)
		require.NoError(t, err)
		if !features {
			assert.Empty(t, muted)
			assert.Nil(t, a.LastReadMessageIndex)
			return
		}
		assert.Equal(t, []string{"alice"}, muted)
		assert.Equal(t, ptr[int64](0), a.LastReadMessageIndex)
		require.NotNil(t, a.LastReadTimestamp)
		assert.Equal(t, ms(UpgradeT0+45), *a.LastReadTimestamp)
		sms := ps[2]
		assert.Equal(t, UpgradeSMS, sms.Sid)
		assert.Equal(t, "", sms.Identity, "a non-chat participant has no identity")
		assert.Equal(t, wire.ParticipantSMS, sms.Type)
		assert.Equal(t, "+15550100", sms.Address)
		assert.Equal(t, "+15550199", sms.ProxyAddress)
		assert.Equal(t, ms(UpgradeT0+13), sms.DateCreated)
		// The address stays unique in the conversation.
		_, _, err = s.AddParticipant(ctx, store.NewParticipant{ConversationSid: UpgradeConversation,
			Type: wire.ParticipantSMS, Address: "+15550100", ProxyAddress: "+15550199"})
		assert.ErrorIs(t, err, store.ErrConflict)
	})

	t.Run("messages", func(t *testing.T) {
		page, err := s.Messages(ctx, store.MessageQuery{ConversationSid: UpgradeConversation, PageSize: 10, Forward: true})
		require.NoError(t, err)
		require.Len(t, page.Items, 2)
		m0, m1 := page.Items[0], page.Items[1]
		assert.Equal(t, UpgradeMessage0, m0.Sid)
		assert.Equal(t, UpgradeConversation, m0.ConversationSid)
		assert.EqualValues(t, 0, m0.Index)
		assert.Equal(t, "alice", m0.Author)
		assert.Equal(t, UpgradeAlice, m0.ParticipantSid)
		assert.Equal(t, ptr("hello from an older version"), m0.Body)
		assert.JSONEq(t, `{"n":0}`, string(m0.Attributes))
		assert.Equal(t, ms(UpgradeT0+30), m0.DateCreated)
		assert.Equal(t, ms(UpgradeT0+30), m0.DateUpdated)
		assert.Equal(t, UpgradeMessage1, m1.Sid)
		assert.EqualValues(t, 1, m1.Index)
		assert.Equal(t, "bob", m1.Author)
		assert.Equal(t, ptr("second"), m1.Body)
		assert.Nil(t, m1.Media)
		assert.Nil(t, m1.Receipts)
		got, err := s.Message(ctx, UpgradeConversation, UpgradeMessage0)
		require.NoError(t, err)
		assert.Equal(t, m0, got)
		meta, err := s.ChannelMetadata(ctx, UpgradeConversation, UpgradeMessage0)
		require.NoError(t, err)
		if !features {
			assert.Nil(t, m0.Subject)
			assert.Empty(t, m0.ContentSid)
			assert.Empty(t, m0.LastUpdatedBy)
			assert.Nil(t, m0.Media)
			assert.Nil(t, m0.Receipts)
			assert.Nil(t, meta)
			return
		}
		assert.Equal(t, ptr("Greetings"), m0.Subject)
		assert.Equal(t, UpgradeTemplate, m0.ContentSid)
		assert.Equal(t, []wire.ContentVariable{{Name: "1", Value: "friend"}}, m0.ContentVariables)
		assert.Equal(t, "bob", m0.LastUpdatedBy)
		assert.Equal(t, []wire.Media{{Sid: UpgradeMedia, Category: "media", Filename: "photo.png", ContentType: "image/png", Size: 1234}}, m0.Media)
		require.NotNil(t, m0.Receipts)
		assert.Equal(t, 1, m0.Receipts.Total)
		assert.Equal(t, wire.AmountAll, m0.Receipts.Delivered)
		assert.Equal(t, wire.AmountNone, m0.Receipts.Read)
		require.NotNil(t, meta)
		assert.Equal(t, "sms", meta.Type)
		assert.JSONEq(t, `{"sid":"SM1"}`, string(meta.Data))
		rs, err := s.Receipts(ctx, UpgradeConversation, UpgradeMessage0)
		require.NoError(t, err)
		assert.Equal(t, []wire.DetailedReceipt{{Sid: UpgradeReceipt, MessageSid: UpgradeMessage0, ConversationSid: UpgradeConversation,
			ChannelMessageSid: "SM1", ParticipantSid: UpgradeSMS, Status: wire.DeliveryDelivered,
			DateCreated: ms(UpgradeT0 + 60), DateUpdated: ms(UpgradeT0 + 61)}}, rs)
	})

	t.Run("media", func(t *testing.T) {
		m, err := s.Media(ctx, UpgradeMedia)
		if !features {
			assert.ErrorIs(t, err, store.ErrNotFound)
			return
		}
		require.NoError(t, err)
		assert.Equal(t, store.MediaRecord{Media: wire.Media{Sid: UpgradeMedia, Category: "media", Filename: "photo.png", ContentType: "image/png", Size: 1234},
			Owner: "alice", ConversationSid: UpgradeConversation, MessageSid: UpgradeMessage0, DateCreated: ms(UpgradeT0 + 25)}, m)
		loose, err := s.Media(ctx, UpgradeLooseMedia)
		require.NoError(t, err)
		assert.Equal(t, store.MediaRecord{Media: wire.Media{Sid: UpgradeLooseMedia, Category: "media", ContentType: "text/plain", Size: 5},
			Owner: "bob", DateCreated: ms(UpgradeT0 + 26)}, loose)
		// Only the unattached one is swept.
		swept, err := s.DeleteUnattachedMedia(ctx, ms(UpgradeT0+1000), 10)
		require.NoError(t, err)
		assert.Equal(t, []string{UpgradeLooseMedia}, swept)
	})

	t.Run("push", func(t *testing.T) {
		regs, err := s.PushRegistrations(ctx, []string{"alice", "bob"})
		require.NoError(t, err)
		if !features {
			assert.Empty(t, regs)
			return
		}
		assert.Equal(t, map[string][]store.PushRegistration{"alice": {{Identity: "alice", ChannelType: wire.PushFCM, RegistrationID: "reg-alice"}}}, regs)
		added, err := s.AddPushRegistration(ctx, store.PushRegistration{Identity: "alice", ChannelType: wire.PushFCM, RegistrationID: "reg-alice"})
		require.NoError(t, err)
		assert.False(t, added, "the registration was there")
	})

	t.Run("content", func(t *testing.T) {
		ts, _, err := s.ContentTemplates(ctx, "", 10)
		require.NoError(t, err)
		if !rows.has(UpgradeRowsContent) {
			assert.Empty(t, ts)
			return
		}
		want := wire.ContentTemplate{Sid: UpgradeTemplate, FriendlyName: "Greeting",
			Variables:   []wire.ContentVariable{{Name: "1", Value: "friend"}},
			DateCreated: ms(UpgradeT0 + 70), DateUpdated: ms(UpgradeT0 + 71)}
		require.Len(t, ts, 1)
		assert.JSONEq(t, `{"twilio/text":{"body":"Hi {{1}}"}}`, string(ts[0].Variants))
		ts[0].Variants = nil
		assert.Equal(t, want, ts[0])
		_, err = s.ContentTemplate(ctx, UpgradeTemplate)
		require.NoError(t, err)
		added, err := s.CreateContentTemplate(ctx, store.NewContentTemplate{FriendlyName: "After"})
		require.NoError(t, err)
		ts, _, err = s.ContentTemplates(ctx, "", 10)
		require.NoError(t, err)
		require.Len(t, ts, 2)
		assert.Equal(t, added.Sid, ts[1].Sid, "a new template lists after the old ones")
	})

	// Events: the log the webhook dispatcher reads, and the streams.
	wantEvents := []store.StoredEvent{
		{Name: "participantJoined", Payload: wire.RawJSON(`{"sid":"` + UpgradeBob + `"}`)},
		{Name: "messageAdded", Payload: wire.RawJSON(`{"sid":"` + UpgradeMessage1 + `"}`)},
	}
	if features {
		wantEvents = append(wantEvents, store.StoredEvent{Name: store.EventConversationCreated, Payload: wire.RawJSON(`{"sid":"` + UpgradeConversation + `"}`)})
	}
	if rows.has(UpgradeRowsPendingLinks) {
		wantEvents = append(wantEvents, store.StoredEvent{Name: "messageUpdated", Payload: wire.RawJSON(`{"sid":"` + UpgradeMessage0 + `"}`)})
	}
	bobEvents := []string{"messageAdded"}
	if rows.has(UpgradeRowsPendingLinks) {
		bobEvents = append(bobEvents, "messageUpdated")
	}
	heads := map[string]store.StreamHead{}

	t.Run("streams", func(t *testing.T) {
		for _, tc := range []struct {
			identity, epoch string
			events          []string
		}{
			{"alice", "epochalice00", []string{"participantJoined", "messageAdded"}},
			{"bob", "epochbob0000", bobEvents},
		} {
			h, err := s.StreamHead(ctx, tc.identity)
			require.NoError(t, err)
			last := uint64(len(tc.events))
			assert.Equal(t, store.StreamHead{Epoch: tc.epoch, Last: last, Oldest: 1}, h, tc.identity)
			heads[tc.identity] = h
			ds, err := s.ReadStream(ctx, tc.identity, 0, 100)
			require.NoError(t, err)
			var names []string
			for i, d := range ds {
				assert.EqualValues(t, i+1, d.Offset, tc.identity)
				names = append(names, d.Event)
			}
			assert.Equal(t, tc.events, names, tc.identity)
		}
		ds, err := s.ReadStream(ctx, "alice", 1, 100)
		require.NoError(t, err)
		require.Len(t, ds, 1)
		assert.JSONEq(t, `{"sid":"`+UpgradeMessage1+`"}`, string(ds[0].Payload))
	})

	t.Run("webhooks", func(t *testing.T) {
		evs, err := s.EventsAfter(ctx, 0, 100)
		require.NoError(t, err)
		require.Len(t, evs, len(wantEvents))
		for i, e := range evs {
			assert.Equal(t, wantEvents[i].Name, e.Name)
			assert.JSONEq(t, string(wantEvents[i].Payload), string(e.Payload))
			assert.False(t, e.Variant)
			if i > 0 {
				assert.Greater(t, e.ID, evs[i-1].ID)
			}
		}
		cursor, err := s.WebhookStart(ctx, true)
		require.NoError(t, err)
		after, err := s.EventsAfter(ctx, cursor, 100)
		require.NoError(t, err)
		if rows.has(UpgradeRowsWebhooks) {
			// The dispatcher was enabled: it goes on after event 2.
			assert.Equal(t, evs[1].ID, cursor)
			assert.Len(t, after, len(evs)-2)
		} else {
			// It was not: it starts from the newest event.
			assert.Equal(t, evs[len(evs)-1].ID, cursor)
			assert.Empty(t, after)
		}

		pending, err := s.WebhookPending(ctx)
		require.NoError(t, err)
		outbox := 0
		if rows.has(UpgradeRowsWebhooks) {
			outbox = 1
		}
		assert.Equal(t, outbox, pending)
		now := time.Now()
		due, err := s.WebhookDue(ctx, now, 10)
		require.NoError(t, err)
		require.Len(t, due, outbox)
		if outbox == 1 {
			d := due[0]
			assert.Equal(t, "whd-1", d.ID)
			assert.Equal(t, "onMessageAdded", d.Type)
			assert.JSONEq(t, `{"MessageSid":"`+UpgradeMessage1+`"}`, string(d.Body))
			assert.Equal(t, 2, d.Attempts)
			assert.Equal(t, ms(UpgradeT0+75), d.Created.UTC())
			require.NoError(t, s.WebhookRetry(ctx, d.ID, 3, now))
		}
		// A delivery that left the outbox lately is not queued again.
		require.NoError(t, s.WebhookEnqueue(ctx, cursor, []store.WebhookDelivery{
			{ID: "whd-0", Type: "onMessageAdded", Body: wire.RawJSON(`{}`), NextAttempt: now, Created: now},
			{ID: "whd-2", Type: "onMessageAdded", Body: wire.RawJSON(`{}`), NextAttempt: now, Created: now},
		}))
		added := 2
		if rows.has(UpgradeRowsWebhookDone) {
			added = 1
		}
		pending, err = s.WebhookPending(ctx)
		require.NoError(t, err)
		assert.Equal(t, outbox+added, pending)
		due, err = s.WebhookDue(ctx, now, 10)
		require.NoError(t, err)
		var ids []string
		for _, d := range due {
			ids = append(ids, d.ID)
			require.NoError(t, s.WebhookDone(ctx, d.ID))
		}
		assert.Len(t, ids, outbox+added, "due: %v", ids)
		pending, err = s.WebhookPending(ctx)
		require.NoError(t, err)
		assert.Zero(t, pending)
	})

	t.Run("limits", func(t *testing.T) {
		ok, err := s.TakeToken(ctx, "upgrade:bucket", 0.001, 5)
		require.NoError(t, err)
		expires := time.Now().Add(time.Hour)
		other, err := s.AcquireLease(ctx, "upgrade:lease", "h2", "node2", 1, expires)
		require.NoError(t, err)
		if rows.has(UpgradeRowsLimits) {
			assert.False(t, ok, "the bucket was empty")
			assert.False(t, other, "h1 holds the one lease")
		} else {
			assert.True(t, ok)
			assert.True(t, other)
		}
		require.NoError(t, s.ReleaseLease(ctx, "upgrade:lease", "h1"))
		require.NoError(t, s.ReleaseLease(ctx, "upgrade:lease", "h2"))
	})

	t.Run("lifecycle", func(t *testing.T) {
		if !features {
			ds, err := s.AdvanceConversationStates(ctx, time.Now().Add(365*24*time.Hour))
			require.NoError(t, err)
			assert.Empty(t, ds, "no timers")
			return
		}
		ds, err := s.AdvanceConversationStates(ctx, ms(UpgradeClosedAt-1))
		require.NoError(t, err)
		assert.Empty(t, ds, "not due yet")
		ds, err = s.AdvanceConversationStates(ctx, ms(UpgradeClosedAt))
		require.NoError(t, err)
		assert.NotEmpty(t, ds, "the closing timer fired")
		c, err := s.Conversation(ctx, UpgradeConversation)
		require.NoError(t, err)
		require.NotNil(t, c.State)
		assert.Equal(t, wire.StateClosed, c.State.Current)
		_, _, _, err = s.SendMessage(ctx, store.NewMessage{ConversationSid: UpgradeConversation, Author: "alice", Body: ptr("too late")})
		assert.ErrorIs(t, err, store.ErrClosed)
		_, _, err = s.SetConversationState(ctx, UpgradeConversation, wire.StateActive)
		require.NoError(t, err)
	})

	t.Run("writes", func(t *testing.T) {
		// The idempotency key of the old message still holds.
		again, created, ds, err := s.SendMessage(ctx, store.NewMessage{ConversationSid: UpgradeConversation,
			Author: "alice", ParticipantSid: UpgradeAlice, Body: ptr("hello from an older version"), IdempotencyKey: "key-0"})
		require.NoError(t, err)
		assert.False(t, created)
		assert.Empty(t, ds)
		assert.Equal(t, UpgradeMessage0, again.Sid)

		m, created, ds, err := s.SendMessage(ctx, store.NewMessage{ConversationSid: UpgradeConversation,
			Author: "alice", ParticipantSid: UpgradeAlice, Body: ptr("after the upgrade"), IdempotencyKey: "key-2"})
		require.NoError(t, err)
		assert.True(t, created)
		assert.EqualValues(t, 2, m.Index, "the next index after the old messages")
		for _, id := range []string{"alice", "bob"} {
			h, err := s.StreamHead(ctx, id)
			require.NoError(t, err)
			assert.Equal(t, heads[id].Epoch, h.Epoch, "%s's stream keeps its epoch", id)
			// Everything since the old head is new, offsets dense after it, ending with
			// this message.
			since, err := s.ReadStream(ctx, id, heads[id].Last, 100)
			require.NoError(t, err)
			require.NotEmpty(t, since, id)
			for i, d := range since {
				assert.Equal(t, heads[id].Last+uint64(i)+1, d.Offset, id)
			}
			lastD := since[len(since)-1]
			assert.Equal(t, h.Last, lastD.Offset, id)
			assert.Equal(t, "messageAdded", lastD.Event, id)
			assert.Contains(t, string(lastD.Payload), m.Sid, id)
		}
		var mine []store.Delivery
		for _, d := range ds {
			if d.Identity == "alice" && d.Event == "messageAdded" {
				mine = append(mine, d)
			}
		}
		assert.Len(t, mine, 1)

		edited, _, err := s.UpdateMessage(ctx, store.MessageUpdate{ConversationSid: UpgradeConversation, Sid: UpgradeMessage1,
			Body: ptr("second, edited"), By: "bob"})
		require.NoError(t, err)
		assert.Equal(t, ptr("second, edited"), edited.Body)
		_, _, err = s.SetReadHorizon(ctx, UpgradeConversation, "bob", wire.ReadAdvance, ptr[int64](2))
		require.NoError(t, err)
		counts, err := s.Counts(ctx, UpgradeConversation, "bob")
		require.NoError(t, err)
		assert.Equal(t, ptr[int64](0), counts.Unread)

		_, err = s.CreateConversation(ctx, store.NewConversation{UniqueName: "upgrade-room", CreatedBy: "bob"})
		assert.ErrorIs(t, err, store.ErrConflict, "the unique name stays taken")
		_, err = s.EnsureUser(ctx, "carol")
		require.NoError(t, err)
		_, _, err = s.AddParticipant(ctx, store.NewParticipant{ConversationSid: UpgradeConversation, Identity: "carol"})
		if rows.has(UpgradeRowsBans) {
			assert.ErrorIs(t, err, store.ErrRemoved, "carol was removed")
			_, _, err = s.AddParticipant(ctx, store.NewParticipant{ConversationSid: UpgradeConversation, Identity: "carol", LiftBan: true})
		}
		require.NoError(t, err)

		media, ds, err := s.DeleteConversation(ctx, UpgradeConversation)
		require.NoError(t, err)
		assert.NotEmpty(t, ds)
		if features {
			assert.Equal(t, []string{UpgradeMedia}, media)
		} else {
			assert.Empty(t, media)
		}
		_, err = s.Conversation(ctx, UpgradeConversation)
		assert.True(t, errors.Is(err, store.ErrNotFound), "deleted: %v", err)
	})
}
