//go:build !js

package core_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/core"
	"github.com/convo-sdk/convo/server/servertest"
	"github.com/convo-sdk/convo/wire"
)

// A message sent, edited and removed while a client was away reaches it on resume as
// redacted events and the removal: it never shows the message's content, nor errs.
func TestResumeAfterARemovalShowsNoRemovedContent(t *testing.T) {
	env := servertest.Start(t)
	ctx := testCtx(t)
	var d dialer
	alice, bob := newClient(t, env, "alice", &d), newClient(t, env, "bob", nil)
	var added, updated, removed events
	alice.OnMessageAdded(func(m *core.Message) {
		if m.Body() == nil {
			added.add("<no body>")
		} else {
			added.add(*m.Body())
		}
	})
	alice.OnMessageUpdated(func(u core.MessageUpdate) { updated.add(u.Message.Sid()) })
	alice.OnMessageRemoved(func(m *core.Message) {
		body := "<no body>"
		if m.Body() != nil {
			body = *m.Body()
		}
		removed.add(m.Sid() + " " + body)
	})
	_, b := chatRoom(t, alice, bob)
	missWhileAway(t, alice, &d, b, 0)

	_, err := b.SendMessage(ctx, "secret", nil)
	require.NoError(t, err)
	page, err := b.GetMessages(ctx, 10, nil, "")
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	secret := page.Items[0]
	require.NoError(t, secret.UpdateBody(ctx, "secret, edited"))
	require.NoError(t, secret.Remove(ctx))

	catchUp(t, alice, &d, b, &added, nil)
	time.Sleep(100 * time.Millisecond) // a late event would show up here
	assert.Empty(t, updated.snapshot(), "a redacted update is skipped")
	assert.Equal(t, []string{secret.Sid() + " <no body>"}, removed.snapshot())
	assert.Equal(t, core.StateConnected, alice.ConnectionState())
}

// Conversations updated and removed while a client was away, one it knew and one created and
// removed meanwhile, reach it on resume as redacted events and the removal: no conversation
// or participant with an emptied name or attributes shows up, and nothing errs.
func TestResumeAfterAConversationRemovalShowsNoRemovedContent(t *testing.T) {
	env := servertest.Start(t)
	ctx := testCtx(t)
	var d dialer
	alice, bob := newClient(t, env, "alice", &d), newClient(t, env, "bob", nil)
	live := messageLog(alice)
	_, room := chatRoom(t, alice, bob)

	// bob's conversation with alice in it, and bob's participant, with content to remove.
	open := func(name string) (*core.Conversation, *core.Participant) {
		c, err := bob.CreateConversation(ctx, core.CreateConversationOptions{FriendlyName: name,
			UniqueName: "u-" + name, Attributes: wire.RawJSON(`{"topic":"` + name + `"}`)})
		require.NoError(t, err)
		require.NoError(t, c.Join(ctx))
		require.NoError(t, c.Add(ctx, "alice", wire.RawJSON(`{"secret":"`+name+`"}`)))
		p, err := c.GetParticipantByIdentity(ctx, "bob")
		require.NoError(t, err)
		return c, p
	}
	known, knownBob := open("known")
	held := func() []string {
		page, err := alice.GetSubscribedConversations(ctx)
		require.NoError(t, err)
		var sids []string
		for _, c := range page.Items {
			sids = append(sids, c.Sid())
		}
		return sids
	}
	waitFor(t, "alice to know the conversation", func() bool { return len(held()) == 2 })

	var seen events
	note := func(what string, sid, detail string) {
		if sid != room.Sid() {
			seen.add(what + " " + sid + " " + detail)
		}
	}
	alice.OnConversationAdded(func(c *core.Conversation) { note("added", c.Sid(), c.FriendlyName()) })
	alice.OnConversationJoined(func(c *core.Conversation) { note("joined", c.Sid(), c.FriendlyName()) })
	alice.OnConversationUpdated(func(u core.ConversationUpdate) {
		note("updated", u.Conversation.Sid(), u.Conversation.FriendlyName())
	})
	alice.OnConversationRemoved(func(c *core.Conversation) { note("removed", c.Sid(), c.FriendlyName()) })
	alice.OnParticipantJoined(func(p *core.Participant) { note("participantJoined", p.Conversation().Sid(), p.Identity()) })
	alice.OnParticipantLeft(func(p *core.Participant) { note("participantLeft", p.Conversation().Sid(), p.Identity()) })
	alice.OnParticipantUpdated(func(u core.ParticipantUpdate) {
		note("participantUpdated", u.Participant.Conversation().Sid(), string(u.Participant.AttributesJSON()))
	})
	missWhileAway(t, alice, &d, room, 0)
	renamed := "known, renamed"
	require.NoError(t, known.Update(ctx, core.UpdateConversationOptions{FriendlyName: &renamed,
		Attributes: wire.RawJSON(`{"topic":"renamed"}`)}))
	require.NoError(t, knownBob.UpdateAttributes(ctx, wire.RawJSON(`{"secret":"updated"}`)))
	require.NoError(t, known.Delete(ctx))
	fresh, freshBob := open("fresh")
	require.NoError(t, freshBob.UpdateAttributes(ctx, wire.RawJSON(`{"secret":"updated"}`)))
	require.NoError(t, fresh.Delete(ctx))

	catchUp(t, alice, &d, room, live, nil)
	time.Sleep(100 * time.Millisecond) // a late event would show up here
	assert.Equal(t, []string{"removed " + known.Sid() + " known"}, seen.snapshot(),
		"the redacted events are skipped; the removal of the conversation alice knew is reported")
	assert.Equal(t, []string{room.Sid()}, held())
	assert.Equal(t, core.StateConnected, alice.ConnectionState())
}
