package server_test

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/server/servertest"
	"github.com/convo-sdk/convo/wire"
)

func TestParticipantNonChat(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t)
	alice := env.Connect(ctx, "alice")
	carol := env.Connect(ctx, "carol")
	conv := room(t, ctx, alice)
	settle(t, alice, 2)
	cases := []struct{ proxy, addr, typ string }{
		{"whatsapp:+15550001", "whatsapp:+15550002", wire.ParticipantWhatsApp},
		{"+15550001", "+15550003", wire.ParticipantSMS},
		{"support@example.com", "bob@example.com", wire.ParticipantEmail},
	}
	for _, tc := range cases {
		var p wire.Participant
		require.NoError(t, alice.Call(ctx, wire.OpParticipantAddNonChat, wire.AddNonChatParticipantArgs{ConversationSid: conv.Sid,
			ProxyAddress: tc.proxy, Address: tc.addr, Attributes: wire.RawJSON(`{"k":1}`)}, &p))
		assert.Equal(t, tc.typ, p.Type)
		assert.Empty(t, p.Identity)
		assert.Equal(t, tc.addr, p.Address)
		assert.Equal(t, tc.proxy, p.ProxyAddress)
		f, err := alice.NextEvent(ctx)
		require.NoError(t, err)
		assert.Equal(t, wire.EventParticipantJoined, f.Event)
		assert.Equal(t, p, decode[wire.ParticipantEvent](t, f).Participant)
	}
	assert.Equal(t, wire.CodeConflict, code(t, alice.Call(ctx, wire.OpParticipantAddNonChat, wire.AddNonChatParticipantArgs{ConversationSid: conv.Sid, ProxyAddress: "+15550001", Address: "+15550003"}, nil)))
	assert.Equal(t, wire.CodeTooLarge, code(t, alice.Call(ctx, wire.OpParticipantAddNonChat, wire.AddNonChatParticipantArgs{ConversationSid: conv.Sid, ProxyAddress: "+1", Address: string(repeat('1', 257))}, nil)))
	assert.Equal(t, wire.CodeBadRequest, code(t, alice.Call(ctx, wire.OpParticipantAddNonChat, wire.AddNonChatParticipantArgs{ConversationSid: conv.Sid, ProxyAddress: "+1"}, nil)))
	assert.Equal(t, wire.CodeForbidden, code(t, carol.Call(ctx, wire.OpParticipantAddNonChat, wire.AddNonChatParticipantArgs{ConversationSid: conv.Sid, ProxyAddress: "+1", Address: "+2"}, nil)))
	var ps wire.ParticipantPage
	require.NoError(t, alice.Call(ctx, wire.OpParticipantList, wire.ConversationRef{ConversationSid: conv.Sid}, &ps))
	assert.Len(t, ps.Items, 4)
	var counts wire.Counts
	require.NoError(t, alice.Call(ctx, wire.OpConversationCounts, wire.ConversationRef{ConversationSid: conv.Sid}, &counts))
	assert.EqualValues(t, 4, counts.Participants)
}

func TestParticipantUpdateAndRemove(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t)
	alice := env.Connect(ctx, "alice") // creator
	bob := env.Connect(ctx, "bob")
	carol := env.Connect(ctx, "carol")
	dave := env.Connect(ctx, "dave") // outsider
	conv := room(t, ctx, alice, "bob", "carol")
	settle(t, alice, 4)
	settle(t, bob, 3)
	settle(t, carol, 2)
	bobP, err := env.Store.Participant(ctx, conv.Sid, "bob")
	require.NoError(t, err)
	carolP, err := env.Store.Participant(ctx, conv.Sid, "carol")
	require.NoError(t, err)

	upd := func(c *servertest.Client, sid, attrs string) error {
		return c.Call(ctx, wire.OpParticipantUpdate, wire.UpdateParticipantArgs{ConversationSid: conv.Sid, ParticipantSid: sid, Attributes: wire.RawJSON(attrs)}, nil)
	}
	assert.Equal(t, wire.CodeForbidden, code(t, upd(carol, bobP.Sid, `{"x":1}`)), "another participant")
	assert.Equal(t, wire.CodeForbidden, code(t, upd(dave, bobP.Sid, `{"x":1}`)), "an outsider")
	assert.Equal(t, wire.CodeTooLarge, code(t, upd(bob, bobP.Sid, `{"x":"`+string(repeat('a', 4096))+`"}`)))
	assert.Equal(t, wire.CodeNotFound, code(t, upd(bob, "MB00000000000000000000000000000000", `{}`)))
	var p wire.Participant
	require.NoError(t, bob.Call(ctx, wire.OpParticipantUpdate, wire.UpdateParticipantArgs{ConversationSid: conv.Sid, ParticipantSid: bobP.Sid, Attributes: wire.RawJSON(`{"mood":"ok"}`)}, &p))
	assert.JSONEq(t, `{"mood":"ok"}`, string(p.Attributes))
	for _, c := range []*servertest.Client{alice, bob, carol} {
		f, err := c.NextEvent(ctx)
		require.NoError(t, err)
		assert.Equal(t, wire.EventParticipantUpdated, f.Event)
		e := decode[wire.ParticipantUpdatedEvent](t, f)
		assert.Equal(t, []string{wire.ReasonAttributes, wire.ReasonDateUpdated}, e.UpdateReasons)
		assert.Equal(t, bobP.Sid, e.Participant.Sid)
		assert.JSONEq(t, `{"mood":"ok"}`, string(e.Participant.Attributes))
	}
	require.NoError(t, upd(alice, carolP.Sid, `{"by":"creator"}`), "the creator may update anyone")
	settle(t, alice, 1)
	settle(t, bob, 1)
	settle(t, carol, 1)

	rm := func(c *servertest.Client, a wire.RemoveParticipantArgs) error {
		a.ConversationSid = conv.Sid
		return c.Call(ctx, wire.OpParticipantRemove, a, nil)
	}
	assert.Equal(t, wire.CodeForbidden, code(t, rm(carol, wire.RemoveParticipantArgs{ParticipantSid: bobP.Sid})))
	assert.Equal(t, wire.CodeForbidden, code(t, rm(dave, wire.RemoveParticipantArgs{Identity: "bob"})))
	assert.Equal(t, wire.CodeBadRequest, code(t, rm(bob, wire.RemoveParticipantArgs{})))
	// The creator removes carol by identity.
	require.NoError(t, rm(alice, wire.RemoveParticipantArgs{Identity: "carol"}))
	evs, err := carol.Events(ctx, 2)
	require.NoError(t, err)
	assert.Equal(t, wire.EventConversationLeft, evs[0].Event)
	assert.Equal(t, wire.EventParticipantLeft, evs[1].Event)
	for _, c := range []*servertest.Client{alice, bob} {
		f, err := c.NextEvent(ctx)
		require.NoError(t, err)
		assert.Equal(t, wire.EventParticipantLeft, f.Event)
		assert.Equal(t, carolP.Sid, decode[wire.ParticipantEvent](t, f).Participant.Sid)
	}
	// Bob removes himself by sid.
	require.NoError(t, rm(bob, wire.RemoveParticipantArgs{ParticipantSid: bobP.Sid}))
	f, err := bob.NextEvent(ctx)
	require.NoError(t, err)
	assert.Equal(t, wire.EventConversationLeft, f.Event)
	assert.Equal(t, wire.CodeNotFound, code(t, rm(alice, wire.RemoveParticipantArgs{Identity: "bob"})))
}

// A participant removed by someone else cannot come back by sid until the creator or the
// admin API adds it; leaving on one's own bans nothing. The ban survives a restart.
func TestRemovedParticipantCannotRejoin(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t)
	adm := env.Admin(t)
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
	adm.Do("DELETE", "/conversations/"+conv.Sid+"/participants/carol", nil, nil)
	assert.Equal(t, wire.CodeForbidden, code(t, join(carol)))
	adm.Do("POST", "/conversations/"+conv.Sid+"/participants", map[string]any{"identity": "carol"}, nil)
	require.NoError(t, carol.Call(ctx, wire.OpConversationLeave, wire.ConversationRef{ConversationSid: conv.Sid}, nil))
	require.NoError(t, join(carol))

	// Removed by the admin API, the creator cannot bring itself back; the admin API can.
	adm.Do("DELETE", "/conversations/"+conv.Sid+"/participants/"+url.PathEscape("alice"), nil, nil)
	assert.Equal(t, wire.CodeForbidden, code(t, join(alice)))
	assert.Equal(t, wire.CodeForbidden, code(t, add(alice, "alice")))
	adm.Do("POST", "/conversations/"+conv.Sid+"/participants", map[string]any{"identity": "alice"}, nil)
	require.NoError(t, alice.Call(ctx, wire.OpParticipantList, wire.ConversationRef{ConversationSid: conv.Sid}, &ps))
	assert.Len(t, ps.Items, 3)
}
