package server

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/wire"
)

// eventFrame must produce the very bytes encodeFrame does, or give way to it.
func TestEventFrameMatchesEncodeFrame(t *testing.T) {
	for _, d := range []store.Delivery{
		{Event: wire.EventMessageAdded, Offset: 1, Payload: []byte(`{"message":{"body":"<a> & \u003c","index":0}}`)},
		{Event: "conversation.updated", Offset: 18446744073709551615, Payload: []byte(`{}`)},
		{Event: "x", Offset: 7, Payload: []byte(`"text"`)},
	} {
		want, err := encodeFrame(&wire.Frame{Type: wire.TypeEvent, Event: d.Event, Offset: d.Offset, Data: d.Payload})
		require.NoError(t, err)
		require.Equal(t, string(want), string(eventFrame(nil, d, true)))
		require.Equal(t, "kept"+string(want), string(eventFrame([]byte("kept"), d, true)), "appended to dst")
	}
	for _, d := range []store.Delivery{
		{Event: `a"b`, Offset: 1, Payload: []byte(`{}`)},
		{Event: "", Offset: 1, Payload: []byte(`{}`)},
		{Event: "e", Offset: 0, Payload: []byte(`{}`)},
		{Event: "e", Offset: 1},
	} {
		require.Nil(t, eventFrame(nil, d, true), "%+v", d)
	}
	require.Nil(t, eventFrame(nil, store.Delivery{Event: "e", Offset: 1, Payload: []byte(`{ }`)}, false))
}

// The hub compacts a payload shared by several deliveries once, and marks it compact so
// that every connection splices it into its frame.
func TestSharedPayloadsCompactOnce(t *testing.T) {
	var m sharedPayloads
	p := []byte(`{ "a" : [1, 2] }`)
	c1, ok := m.compact(p)
	require.True(t, ok)
	require.Equal(t, `{"a":[1,2]}`, string(c1))
	c2, ok := m.compact(p)
	require.True(t, ok)
	require.Same(t, &c1[0], &c2[0], "the second delivery of one payload reuses the first's compaction")
	require.NotNil(t, eventFrame(nil, store.Delivery{Event: "e", Offset: 1, Payload: c2}, ok))

	bad := []byte(`{"a":`)
	c, ok := m.compact(bad)
	require.False(t, ok)
	require.Equal(t, string(bad), string(c))
	c, ok = m.compact(nil)
	require.True(t, ok)
	require.Empty(t, c)
}
