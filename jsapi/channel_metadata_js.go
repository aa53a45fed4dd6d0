//go:build js && wasm

package jsapi

import (
	"syscall/js"

	"github.com/convo-sdk/convo/core"
)

func newChannelMetadataClass() *class {
	return newRecordClass("ChannelMetadata", "type", "data")
}

// channelMetadataValue is a message's ChannelMetadata, or null.
func channelMetadataValue(m *core.ChannelMetadata) any {
	if m == nil {
		return js.Null()
	}
	return record(classes.channelMetadata, map[string]any{"type": m.Type, "data": jsonValue(m.Data)})
}
