package server_test

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/server"
	"github.com/convo-sdk/convo/server/servertest"
	"github.com/convo-sdk/convo/wire"
)

// The admin API exports a user's data, and erases it: their messages' content (in a
// conversation they left too), their participants, their push registrations and their
// profile; afterwards the database files hold none of it.
func TestAdminExportsAndErasesAUser(t *testing.T) {
	env := servertest.Start(t)
	ctx := ctxT(t)
	a := env.Admin(t)
	marker := "erase-me-7f3a9c"

	a.Do("PATCH", "/users/alice", map[string]any{"friendlyName": "Alice " + marker, "attributes": map[string]any{"m": marker}}, nil)
	var one, two wire.Conversation
	a.Do("POST", "/conversations", map[string]any{"friendlyName": "one"}, &one)
	a.Do("POST", "/conversations", map[string]any{"friendlyName": "two"}, &two)
	for _, c := range []wire.Conversation{one, two} {
		for _, id := range []string{"alice", "bob"} {
			a.Do("POST", "/conversations/"+c.Sid+"/participants", map[string]any{"identity": id}, nil)
		}
	}
	alice := env.Connect(ctx, "alice")
	require.NoError(t, alice.Call(ctx, wire.OpPushRegister, wire.PushRegistrationArgs{ChannelType: wire.PushFCM, RegistrationID: "alice-phone"}, nil))
	var m1, m2 wire.Message
	require.NoError(t, alice.Call(ctx, wire.OpMessageSend, wire.SendMessageArgs{ConversationSid: one.Sid, Body: str("one " + marker),
		Attributes: wire.RawJSON(`{"m":"` + marker + `"}`)}, &m1))
	require.NoError(t, alice.Call(ctx, wire.OpMessageSend, wire.SendMessageArgs{ConversationSid: two.Sid, Body: str("two " + marker)}, &m2))
	a.Do("POST", "/conversations/"+one.Sid+"/messages", map[string]any{"author": "bob", "body": "bob stays"}, nil)
	// alice leaves two: her message there is still hers.
	a.Do("DELETE", "/conversations/"+two.Sid+"/participants/alice", nil, nil)

	var ex server.UserExport
	a.Do("GET", "/users/alice/export", nil, &ex)
	require.NotNil(t, ex.User)
	assert.Equal(t, "Alice "+marker, ex.User.FriendlyName)
	require.Len(t, ex.Conversations, 1)
	assert.Equal(t, one.Sid, ex.Conversations[0].Conversation.Sid)
	assert.Equal(t, "alice", ex.Conversations[0].Participant.Identity)
	var sids []string
	for _, m := range ex.Messages {
		sids = append(sids, m.Sid)
	}
	assert.ElementsMatch(t, []string{m1.Sid, m2.Sid}, sids)
	assert.Equal(t, []server.ExportedDevice{{ChannelType: wire.PushFCM, RegistrationID: "alice-phone"}}, ex.PushRegistrations)

	bob := env.Connect(ctx, "bob")
	assert.Equal(t, http.StatusNoContent, a.Do("DELETE", "/users/alice/data", nil, nil))
	var removed []string
	for range 2 {
		e := event[wire.MessageEvent](t, ctx, bob, wire.EventMessageRemoved)
		assert.Nil(t, e.Message.Body)
		removed = append(removed, e.Message.Sid)
	}
	assert.ElementsMatch(t, []string{m1.Sid, m2.Sid}, removed)
	left := event[wire.ParticipantEvent](t, ctx, bob, wire.EventParticipantLeft)
	assert.Equal(t, "alice", left.Participant.Identity)

	var page wire.MessagePage
	a.Do("GET", "/conversations/"+one.Sid+"/messages", nil, &page)
	require.Len(t, page.Items, 1)
	assert.Equal(t, "bob stays", *page.Items[0].Body)
	var after server.UserExport
	a.Do("GET", "/users/alice/export", nil, &after)
	require.NotNil(t, after.User)
	assert.Empty(t, after.User.FriendlyName)
	assert.Empty(t, after.Conversations)
	assert.Empty(t, after.Messages)
	assert.Empty(t, after.PushRegistrations)
	assert.Equal(t, http.StatusNoContent, a.Do("DELETE", "/users/alice/data", nil, nil), "erasing again is harmless")

	var busy, frames, copied int
	require.NoError(t, env.DB(t).QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &frames, &copied))
	require.Zero(t, busy, "the checkpoint ran to its end")
	path := filepath.Join(env.Dir, "convo.db")
	for _, f := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(f)
		if os.IsNotExist(err) {
			continue
		}
		require.NoError(t, err)
		assert.False(t, bytes.Contains(b, []byte(marker)), "%s holds the erased user's content", filepath.Base(f))
	}

	a.Fail("GET", "/users/nobody/export", nil, http.StatusNotFound, wire.CodeNotFound)
}
