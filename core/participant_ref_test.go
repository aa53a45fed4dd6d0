//go:build !js

package core_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/server/servertest"
	"github.com/convo-sdk/convo/wire"
)

// RemoveParticipant takes an identity or a participant sid and tells them apart by shape,
// as the server refuses identities of a sid's shape: a sid works even when the client has
// not loaded the participant, and an identity works as it always did.
func TestRemoveParticipantTellsASidFromAnIdentityByShape(t *testing.T) {
	env := servertest.Start(t)
	ctx := testCtx(t)
	var conv wire.Conversation
	admin(t, env, "POST", "/conversations", map[string]any{"friendlyName": "x", "createdBy": "alice"}, &conv)
	var bob, carol wire.Participant
	admin(t, env, "POST", "/conversations/"+conv.Sid+"/participants", map[string]any{"identity": "bob"}, &bob)
	admin(t, env, "POST", "/conversations/"+conv.Sid+"/participants", map[string]any{"identity": "carol"}, &carol)

	alice := newClient(t, env, "alice", nil) // the creator, not a participant: no roster loaded
	c, err := alice.PeekConversationBySid(ctx, conv.Sid)
	require.NoError(t, err)
	require.NoError(t, c.RemoveParticipant(ctx, bob.Sid))
	require.NoError(t, c.RemoveParticipant(ctx, "carol"))
	var left wire.ParticipantPage
	admin(t, env, "GET", "/conversations/"+conv.Sid+"/participants", nil, &left)
	assert.Empty(t, left.Items)

	// A sid-shaped string is sent as a sid only: one that names nobody is not found.
	err = c.RemoveParticipant(ctx, "MB"+strings.Repeat("0", 32))
	assert.Equal(t, wire.CodeNotFound, wire.CodeOf(err))
}
