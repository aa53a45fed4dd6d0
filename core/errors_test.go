//go:build !js

package core_test

import (
	"strings"
	"testing"

	"github.com/convo-sdk/convo/core"
	"github.com/convo-sdk/convo/server/servertest"
	"github.com/convo-sdk/convo/wire"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestErrorsCarryWireCodes(t *testing.T) {
	env := servertest.Start(t)
	ctx := testCtx(t)
	alice, bob := newClient(t, env, "alice", nil), newClient(t, env, "bob", nil)
	conv, err := alice.CreateConversation(ctx, core.CreateConversationOptions{FriendlyName: "private"})
	require.NoError(t, err)
	require.NoError(t, conv.Join(ctx))

	// A conversation bob is not in is peeked, as the vendor's getConversationBySid falls back
	// to; he cannot write to it.
	peeked, err := bob.GetConversationBySid(ctx, conv.Sid())
	require.NoError(t, err)
	assert.Equal(t, core.StatusNotParticipating, peeked.Status())
	_, err = peeked.SendMessage(ctx, "not a member", nil)
	assert.Equal(t, wire.CodeForbidden, wire.CodeOf(err), err)
	_, err = alice.GetConversationBySid(ctx, "CH00000000000000000000000000000000")
	assert.Equal(t, wire.CodeNotFound, wire.CodeOf(err), err)
	_, err = conv.SendMessage(ctx, strings.Repeat("x", wire.MaxMessageBodyBytes+1), nil)
	assert.Equal(t, wire.CodeTooLarge, wire.CodeOf(err), err)
	_, err = conv.GetMessages(ctx, 1000, nil, "")
	assert.Equal(t, core.CodeClientArgument, wire.CodeOf(err), err)
}
