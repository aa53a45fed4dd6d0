package storetest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/wire"
)

var _ = register(
	test{"ContentTemplates", testContentTemplates},
)

func testContentTemplates(t *testing.T, h *harness) {
	ctx, s := h.begin()
	vars := []wire.ContentVariable{{Name: "1", Value: "name"}}
	ct, err := s.CreateContentTemplate(ctx, store.NewContentTemplate{FriendlyName: "greeting", Variables: vars,
		Variants: wire.RawJSON(`{"twilio/text":{"body":"Hi {{1}}"}}`)})
	require.NoError(t, err)
	assert.Regexp(t, `^HX[0-9a-f]{32}$`, ct.Sid)
	assert.Equal(t, vars, ct.Variables)
	assert.JSONEq(t, `{"twilio/text":{"body":"Hi {{1}}"}}`, string(ct.Variants))
	bare, err := s.CreateContentTemplate(ctx, store.NewContentTemplate{FriendlyName: "bare"})
	require.NoError(t, err)
	assert.NotNil(t, bare.Variables)
	assert.Empty(t, bare.Variables)
	assert.JSONEq(t, `{}`, string(bare.Variants))
	got, err := s.ContentTemplate(ctx, ct.Sid)
	require.NoError(t, err)
	assert.Equal(t, ct, got)

	upd, err := s.UpdateContentTemplate(ctx, ct.Sid, store.ContentTemplateUpdate{FriendlyName: ptr("hello"), Variables: &[]wire.ContentVariable{}})
	require.NoError(t, err)
	assert.Equal(t, "hello", upd.FriendlyName)
	assert.Empty(t, upd.Variables)
	assert.JSONEq(t, string(ct.Variants), string(upd.Variants), "unset fields stay")
	_, err = s.UpdateContentTemplate(ctx, "HXnope", store.ContentTemplateUpdate{FriendlyName: ptr("x")})
	assert.ErrorIs(t, err, store.ErrNotFound)

	third, err := s.CreateContentTemplate(ctx, store.NewContentTemplate{FriendlyName: "third"})
	require.NoError(t, err)
	items, next, err := s.ContentTemplates(ctx, "", 2)
	require.NoError(t, err)
	require.Len(t, items, 2)
	assert.Equal(t, []string{ct.Sid, bare.Sid}, []string{items[0].Sid, items[1].Sid}, "oldest first")
	require.NotEmpty(t, next)
	items, next, err = s.ContentTemplates(ctx, next, 2)
	require.NoError(t, err)
	require.Len(t, items, 1)
	assert.Equal(t, third.Sid, items[0].Sid)
	assert.Empty(t, next)
	_, _, err = s.ContentTemplates(ctx, "x", 2)
	assert.ErrorIs(t, err, store.ErrBadCursor)

	require.NoError(t, s.DeleteContentTemplate(ctx, bare.Sid))
	assert.ErrorIs(t, s.DeleteContentTemplate(ctx, bare.Sid), store.ErrNotFound)
	_, err = s.ContentTemplate(ctx, bare.Sid)
	assert.ErrorIs(t, err, store.ErrNotFound)
}
