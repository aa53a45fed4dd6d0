package server_test

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/server/servertest"
	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/wire"
)

// A {conv} path value is looked up by its shape: a sid-shaped one as a sid only. A unique
// name of a sid's shape stored before the rule (written here straight into the store) can
// therefore never stand for another conversation, deleted or not; it stays reachable by its
// own sid, and by name where a field says it is one (conversation.get's uniqueName).
func TestAdminResolvesAConversationRefByItsShape(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t)
	a := env.Admin(t)
	var convA wire.Conversation
	a.Do("POST", "/conversations", map[string]any{"friendlyName": "A"}, &convA)
	impostor, err := env.Store.CreateConversation(ctx, store.NewConversation{FriendlyName: "impostor", UniqueName: convA.Sid, CreatedBy: "mallory"})
	require.NoError(t, err)

	var got wire.Conversation
	a.Do("GET", "/conversations/"+convA.Sid, nil, &got)
	assert.Equal(t, convA.Sid, got.Sid, "the sid names A, not the conversation holding it as a name")

	a.Do("DELETE", "/conversations/"+convA.Sid, nil, nil)
	a.Fail("GET", "/conversations/"+convA.Sid, nil, 404, wire.CodeNotFound)
	a.Fail("PATCH", "/conversations/"+convA.Sid, map[string]any{"friendlyName": "x"}, 404, wire.CodeNotFound)
	a.Fail("GET", "/conversations/"+convA.Sid+"/participants", nil, 404, wire.CodeNotFound)
	a.Fail("POST", "/conversations/"+convA.Sid+"/participants", map[string]any{"identity": "bob"}, 404, wire.CodeNotFound)
	a.Fail("POST", "/conversations/"+convA.Sid+"/messages", map[string]any{"body": "for A"}, 404, wire.CodeNotFound)
	a.Fail("GET", "/conversations/"+convA.Sid+"/messages", nil, 404, wire.CodeNotFound)
	a.Fail("DELETE", "/conversations/"+convA.Sid, nil, 404, wire.CodeNotFound)

	// Nothing landed in the impostor, which is still there under its own sid.
	var ps wire.ParticipantPage
	a.Do("GET", "/conversations/"+impostor.Sid+"/participants", nil, &ps)
	assert.Empty(t, ps.Items)
	var ms struct{ Items []wire.Message }
	a.Do("GET", "/conversations/"+impostor.Sid+"/messages", nil, &ms)
	assert.Empty(t, ms.Items)
	a.Do("GET", "/conversations/"+impostor.Sid, nil, &got)
	assert.Equal(t, "impostor", got.FriendlyName)

	// Over the protocol its creator still finds it by the name it was given, and may clear it.
	mallory := env.Connect(ctx, "mallory")
	require.NoError(t, mallory.Call(ctx, wire.OpConversationGet, wire.GetConversationArgs{UniqueName: convA.Sid}, &got))
	assert.Equal(t, impostor.Sid, got.Sid)
	var cleared wire.Conversation
	require.NoError(t, mallory.Call(ctx, wire.OpConversationUpdate, wire.UpdateConversationArgs{ConversationSid: impostor.Sid, UniqueName: str("")}, &cleared))
	assert.Equal(t, impostor.Sid, cleared.Sid)
	assert.Empty(t, cleared.UniqueName)
}

// A {p} path value is looked up by its shape: a sid-shaped one as a participant sid only.
// A participant whose identity has a sid's shape, stored before the rule (written here
// straight into the store), never stands for the participant owning that sid.
func TestAdminResolvesAParticipantRefByItsShape(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t)
	a := env.Admin(t)
	var conv wire.Conversation
	a.Do("POST", "/conversations", map[string]any{"uniqueName": "room"}, &conv)
	base := "/conversations/" + conv.Sid + "/participants"
	var alice wire.Participant
	a.Do("POST", base, map[string]any{"identity": "alice"}, &alice)
	// {p} = alice's sid names alice only, and once she is gone, nobody.
	impostor, _, err := env.Store.AddParticipant(ctx, store.NewParticipant{ConversationSid: conv.Sid, Identity: alice.Sid})
	require.NoError(t, err)
	var got wire.Participant
	a.Do("GET", base+"/"+alice.Sid, nil, &got)
	assert.Equal(t, "alice", got.Identity)
	a.Do("DELETE", base+"/"+alice.Sid, nil, nil)
	a.Fail("GET", base+"/"+alice.Sid, nil, 404, wire.CodeNotFound)
	a.Fail("PATCH", base+"/"+alice.Sid, map[string]any{"attributes": map[string]int{"x": 1}}, 404, wire.CodeNotFound)
	a.Fail("DELETE", base+"/"+alice.Sid, nil, 404, wire.CodeNotFound)
	a.Do("GET", base+"/"+impostor.Sid, nil, &got)
	assert.Equal(t, alice.Sid, got.Identity, "the impostor is untouched")
	assert.Equal(t, "{}", string(got.Attributes))
	// By identity, a name that is not sid-shaped, the lookup works as before.
	var bob wire.Participant
	a.Do("POST", base, map[string]any{"identity": "bob smith"}, &bob)
	a.Do("GET", base+"/"+url.PathEscape("bob smith"), nil, &got)
	assert.Equal(t, bob.Sid, got.Sid)
	a.Do("GET", base+"/"+bob.Sid, nil, &got)
	assert.Equal(t, "bob smith", got.Identity)
}
