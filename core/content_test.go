//go:build !js

package core_test

import (
	"testing"

	"github.com/convo-sdk/convo/core"
	"github.com/convo-sdk/convo/server/servertest"
	"github.com/convo-sdk/convo/wire"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestContentTemplatesFillMessageContentData(t *testing.T) {
	env := servertest.Start(t)
	ctx := testCtx(t)
	var tmpl wire.ContentTemplate
	admin(t, env, "POST", "/content", map[string]any{
		"friendlyName": "greeting",
		"variables":    []map[string]string{{"name": "1", "value": "there"}},
		"variants":     map[string]any{"twilio/text": map[string]any{"body": "Hello {{1}}!"}},
	}, &tmpl)
	alice := newClient(t, env, "alice", nil)
	templates, err := alice.GetContentTemplates(ctx)
	require.NoError(t, err)
	require.Len(t, templates, 1)
	assert.Equal(t, "greeting", templates[0].FriendlyName)

	conv, err := alice.CreateConversation(ctx, core.CreateConversationOptions{})
	require.NoError(t, err)
	require.NoError(t, conv.Join(ctx))
	_, err = conv.PrepareMessage().SetContentTemplate(tmpl.Sid, []core.ContentVariable{{Name: "1", Value: "Ann"}}).BuildAndSend(ctx, nil)
	require.NoError(t, err)
	page, err := conv.GetMessages(ctx, 1, nil, "")
	require.NoError(t, err)
	data, err := page.Items[0].GetContentData(ctx)
	require.NoError(t, err)
	assert.JSONEq(t, `{"twilio/text":{"body":"Hello Ann!"}}`, string(data))
}
