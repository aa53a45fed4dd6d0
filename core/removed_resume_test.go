//go:build !js

package core_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/core"
	"github.com/convo-sdk/convo/server/servertest"
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
