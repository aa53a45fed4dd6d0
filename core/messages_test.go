//go:build !js

package core_test

import (
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/convo-sdk/convo/core"
	"github.com/convo-sdk/convo/server/servertest"
	"github.com/convo-sdk/convo/wire"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTwoClientsChatAndPageHistory(t *testing.T) {
	env := servertest.Start(t)
	ctx := testCtx(t)
	alice, bob := newClient(t, env, "alice", nil), newClient(t, env, "bob", nil)
	aliceSaw, bobSaw := messageLog(alice), messageLog(bob)
	a, b := chatRoom(t, alice, bob)
	var convSaw events
	b.OnMessageAdded(func(m *core.Message) { convSaw.add(*m.Body()) })

	for i := range 5 {
		sender := a
		if i%2 == 1 {
			sender = b
		}
		index, err := sender.SendMessage(ctx, fmt.Sprintf("m%d", i), nil)
		require.NoError(t, err)
		assert.EqualValues(t, i, index)
	}
	want := []string{"m0", "m1", "m2", "m3", "m4"}
	waitFor(t, "both clients to see 5 messages", func() bool {
		return len(aliceSaw.snapshot()) == 5 && len(bobSaw.snapshot()) == 5 && len(convSaw.snapshot()) == 5
	})
	assert.Equal(t, want, aliceSaw.snapshot())
	assert.Equal(t, want, bobSaw.snapshot())
	assert.Equal(t, want, convSaw.snapshot())

	// Pages are ascending; prevPage goes to older messages; objects are shared.
	page, err := b.GetMessages(ctx, 2, nil, "")
	require.NoError(t, err)
	assert.Equal(t, []string{"m3", "m4"}, bodies(page.Items))
	assert.True(t, page.HasPrevPage)
	assert.False(t, page.HasNextPage)
	older, err := page.PrevPage(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"m1", "m2"}, bodies(older.Items))
	oldest, err := older.PrevPage(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"m0"}, bodies(oldest.Items))
	assert.False(t, oldest.HasPrevPage)
	newer, err := oldest.NextPage(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"m1", "m2"}, bodies(newer.Items))
	assert.Same(t, older.Items[0], newer.Items[0], "one sid, one object")
	assert.Equal(t, "alice", older.Items[1].Author())
	assert.Same(t, b, older.Items[0].Conversation())

	again, err := bob.GetConversationBySid(ctx, a.Sid())
	require.NoError(t, err)
	assert.Same(t, b, again)
	subscribed, err := bob.GetSubscribedConversations(ctx)
	require.NoError(t, err)
	require.Len(t, subscribed.Items, 1)
	assert.Same(t, b, subscribed.Items[0])
	assert.EqualValues(t, 4, b.LastMessage().Index)

	parts, err := a.GetParticipants(ctx)
	require.NoError(t, err)
	ids := []string{parts[0].Identity(), parts[1].Identity()}
	assert.ElementsMatch(t, []string{"alice", "bob"}, ids)
}

func TestMessagesAreEditedAndRemovedForEveryone(t *testing.T) {
	env := servertest.Start(t)
	ctx := testCtx(t)
	alice, bob := newClient(t, env, "alice", nil), newClient(t, env, "bob", nil)
	a, b := chatRoom(t, alice, bob)
	var onBob recorder
	onBob.watch(bob, core.EventMessageAdded, core.EventMessageUpdated, core.EventMessageRemoved)
	for _, body := range []string{"one", "two", "three"} {
		_, err := a.SendMessage(ctx, body, nil)
		require.NoError(t, err)
	}
	added := onBob.waitFor(t, core.EventMessageAdded, 3)
	second := added[1].args[0].(*core.Message)

	page, err := a.GetMessages(ctx, 10, nil, "")
	require.NoError(t, err)
	mine := page.Items[1]
	require.NoError(t, mine.UpdateBody(ctx, "two, edited"))
	upd := onBob.waitFor(t, core.EventMessageUpdated, 1)[0].args[0].(core.MessageUpdate)
	assert.Same(t, second, upd.Message, "the update lands on the object bob already holds")
	assert.Contains(t, upd.UpdateReasons, wire.ReasonBody)
	assert.Equal(t, "two, edited", *second.Body())
	assert.Equal(t, "alice", second.LastUpdatedBy())

	// Only the author edits or removes.
	assert.Equal(t, wire.CodeForbidden, wire.CodeOf(second.UpdateBody(ctx, "bob was here")))
	assert.Equal(t, wire.CodeForbidden, wire.CodeOf(second.Remove(ctx)))

	require.NoError(t, mine.Remove(ctx))
	removed := onBob.waitFor(t, core.EventMessageRemoved, 1)[0].args[0].(*core.Message)
	assert.Same(t, second, removed)
	left, err := b.GetMessages(ctx, 10, nil, "")
	require.NoError(t, err)
	assert.Equal(t, []string{"one", "three"}, bodies(left.Items))
	assert.EqualValues(t, []int64{0, 2}, []int64{left.Items[0].Index(), left.Items[1].Index()}, "indexes never move")
}

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
