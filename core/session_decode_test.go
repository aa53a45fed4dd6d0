package core

import (
	"encoding/json"
	"testing"

	"github.com/convo-sdk/convo/wire"
	"github.com/stretchr/testify/require"
)

func TestMessageAddedFastPathDecodesAsTheGeneralPath(t *testing.T) {
	raw := []byte(`{"type":"event","event":"messageAdded","offset":42,"data":{"message":{"sid":"IM1","conversationSid":"CH1","index":3,"author":"bob","body":"hi","attributes":{"k":1},"dateCreated":"2026-01-02T03:04:05Z"}}}`)
	offset, m, ok := decodeMessageAdded(raw)
	require.True(t, ok)
	require.Equal(t, uint64(42), offset)

	f, err := wire.Decode(raw)
	require.NoError(t, err)
	var ev wire.MessageEvent
	require.NoError(t, json.Unmarshal(f.Data, &ev))
	require.Equal(t, ev.Message, m)
}

func TestMessageAddedFastPathLeavesOtherFramesToTheGeneralPath(t *testing.T) {
	for name, raw := range map[string]string{
		"another event whose attributes hold the mark": `{"type":"event","event":"messageUpdated","offset":5,"data":{"message":{"sid":"IM1","attributes":{"event":"messageAdded"}},"updateReasons":["attributes"]}}`,
		"a signal":            `{"type":"signal","event":"messageAdded","data":{"message":{"sid":"IM1"}}}`,
		"no offset":           `{"type":"event","event":"messageAdded","data":{"message":{"sid":"IM1"}}}`,
		"malformed data":      `{"type":"event","event":"messageAdded","offset":5,"data":{"message":{"index":"x"}}}`,
		"not messageAdded":    `{"type":"event","event":"conversationUpdated","offset":5,"data":{}}`,
		"a reply with a body": `{"type":"reply","id":1,"data":{"text":"\"event\":\"messageAdded\""}}`,
	} {
		_, _, ok := decodeMessageAdded([]byte(raw))
		require.False(t, ok, name)
	}
}
