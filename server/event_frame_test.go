package server

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/core/wire"
	"github.com/convo-sdk/convo/server/store"
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
		require.Equal(t, string(want), string(eventFrame(d, true)))
	}
	for _, d := range []store.Delivery{
		{Event: `a"b`, Offset: 1, Payload: []byte(`{}`)},
		{Event: "", Offset: 1, Payload: []byte(`{}`)},
		{Event: "e", Offset: 0, Payload: []byte(`{}`)},
		{Event: "e", Offset: 1},
	} {
		require.Nil(t, eventFrame(d, true), "%+v", d)
	}
	require.Nil(t, eventFrame(store.Delivery{Event: "e", Offset: 1, Payload: []byte(`{ }`)}, false))
}
