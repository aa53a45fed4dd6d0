//go:build !js

package core_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/convo-sdk/convo/core"
	"github.com/convo-sdk/convo/server/servertest"
	"github.com/convo-sdk/convo/wire"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMediaMessagesUploadAndServeTheirContent(t *testing.T) {
	env := servertest.Start(t)
	ctx := testCtx(t)
	alice, bob := newClient(t, env, "alice", nil), newClient(t, env, "bob", nil)
	a, b := chatRoom(t, alice, bob)
	var onBob recorder
	onBob.watch(bob, core.EventMessageAdded)

	var progress []int64
	picture := []byte("\x89PNG pretend image bytes")
	index, err := a.PrepareMessage().SetBody("look").
		AddMedia(core.MediaUpload{ContentType: "image/png", Filename: "../../etc/cat.png", Data: picture}).
		BuildAndSend(ctx, func(sent, total int64) { progress = append(progress, sent) })
	require.NoError(t, err)
	assert.EqualValues(t, 0, index)
	assert.NotEmpty(t, progress)
	assert.EqualValues(t, len(picture), progress[len(progress)-1])

	m := onBob.waitFor(t, core.EventMessageAdded, 1)[0].args[0].(*core.Message)
	media := m.AttachedMedia()
	require.Len(t, media, 1)
	assert.Equal(t, "image/png", media[0].ContentType())
	assert.Equal(t, "cat.png", media[0].Filename(), "path components are stripped")
	assert.EqualValues(t, len(picture), media[0].Size())
	assert.Equal(t, wire.MediaCategoryMedia, media[0].Category())

	url, err := media[0].GetContentTemporaryURL(ctx)
	require.NoError(t, err)
	res, err := http.Get(url)
	require.NoError(t, err)
	got, _ := io.ReadAll(res.Body)
	res.Body.Close()
	assert.Equal(t, 200, res.StatusCode)
	assert.Equal(t, picture, got)
	_ = b
}
