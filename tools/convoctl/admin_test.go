package main

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/server"
	"github.com/convo-sdk/convo/server/servertest"
	"github.com/convo-sdk/convo/wire"
)

// ctl runs convoctl and decodes its JSON output into out (may be nil).
func ctl(t *testing.T, out any, args ...string) {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, run(args, &buf), "convoctl %v", args)
	if out != nil {
		require.NoError(t, json.Unmarshal(buf.Bytes(), out), buf.String())
	}
}

func TestAdminCommandsAgainstARealServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	env := servertest.Start(t)
	t.Setenv("CONVO_URL", env.URL) // the ws:// URL works too
	t.Setenv("CONVO_API_KEYS", env.Key.ID+":"+env.Key.Secret)

	var conv wire.Conversation
	ctl(t, &conv, "conversation", "create", "--friendly-name", "Support", "--unique-name", "sup", "--attributes", `{"a":1}`, "--inactive", "10m")
	assert.Equal(t, "Support", conv.FriendlyName)
	var got wire.Conversation
	ctl(t, &got, "conversation", "get", "sup")
	assert.Equal(t, conv.Sid, got.Sid)
	ctl(t, &got, "conversation", "update", conv.Sid, "--friendly-name", "Support 2")
	assert.Equal(t, "Support 2", got.FriendlyName)
	var page wire.ConversationPage
	ctl(t, &page, "conversation", "list", "--page-size", "10")
	require.Len(t, page.Items, 1)

	var p wire.Participant
	ctl(t, &p, "participant", "add", conv.Sid, "--identity", "alice")
	assert.Equal(t, "alice", p.Identity)
	ctl(t, &p, "participant", "add", "--address", "+15550001", "--proxy-address", "+15559999", conv.Sid)
	assert.Equal(t, wire.ParticipantSMS, p.Type)
	alice := env.Connect(ctx, "alice")

	var m wire.Message
	ctl(t, &m, "message", "send", conv.Sid, "--author", "alice", "--body", "hello from the CLI")
	assert.Equal(t, "alice", m.Author)
	f, err := alice.WaitEvent(ctx, wire.EventMessageAdded)
	require.NoError(t, err)
	assert.Contains(t, string(f.Data), "hello from the CLI")
	var mp wire.MessagePage
	ctl(t, &mp, "message", "list", conv.Sid, "--page-size", "5", "--anchor", "0", "--direction", "forward")
	require.Len(t, mp.Items, 1)

	var pp wire.ParticipantPage
	ctl(t, &pp, "participant", "list", conv.Sid)
	assert.Len(t, pp.Items, 2)
	ctl(t, nil, "participant", "remove", conv.Sid, p.Sid)
	ctl(t, &pp, "participant", "list", conv.Sid)
	assert.Len(t, pp.Items, 1)

	var u wire.User
	ctl(t, &u, "user", "update", "alice", "--friendly-name", "Alice", "--attributes", `{"x":true}`)
	assert.Equal(t, "Alice", u.FriendlyName)
	ctl(t, &u, "user", "get", "alice")
	assert.JSONEq(t, `{"x":true}`, string(u.Attributes))
	var ex server.UserExport
	ctl(t, &ex, "user", "export", "alice")
	require.NotNil(t, ex.User)
	assert.Equal(t, "Alice", ex.User.FriendlyName)
	ctl(t, nil, "user", "erase", "alice")
	var erased wire.User
	ctl(t, &erased, "user", "get", "alice")
	assert.Empty(t, erased.FriendlyName, "erased")
	assert.JSONEq(t, `{}`, string(erased.Attributes))

	var ct wire.ContentTemplate
	ctl(t, &ct, "template", "create", "--friendly-name", "hi", "--variants", `{"twilio/text":{"body":"Hi {{1}}"}}`, "--variables", `[{"name":"1","value":"you"}]`)
	assert.Equal(t, "hi", ct.FriendlyName)
	var tp wire.ContentTemplatePage
	ctl(t, &tp, "template", "list")
	require.Len(t, tp.Items, 1)

	ctl(t, nil, "conversation", "delete", conv.Sid)

	// Errors carry the server's message and code.
	err = run([]string{"conversation", "get", conv.Sid}, &bytes.Buffer{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "code 40400")
	err = run([]string{"conversation", "list", "--key-id", env.Key.ID, "--secret", "wrong-wrong-wrong-wrong"}, &bytes.Buffer{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "HTTP 401")
	for _, args := range [][]string{
		{"conversation"}, {"conversation", "nope"}, {"conversation", "get"}, {"conversation", "get", "a", "b"},
		{"participant", "remove", "CH1"}, {"message", "send", "CH1", "--attributes", "{bad"},
		{"user", "get", "a", "--url", "ftp://x"}, {"conversation", "list", "--key-id", "k"},
	} {
		assert.Error(t, run(args, &bytes.Buffer{}), "%v", args)
	}
}
