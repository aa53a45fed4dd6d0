package core

import (
	"bytes"

	"github.com/convo-sdk/convo/internal/jsonc"
	"github.com/convo-sdk/convo/wire"
)

// messageAddedFrame is an event frame carrying messageAdded, decoded in one pass. Most of the
// stream is messageAdded frames; the general path reads a frame, copies its data out and
// reads that again. The result is the general path's: a member named twice is read as
// wire.Decode and the message's own decoder read it (FuzzDecodeMessageAdded checks this).
type messageAddedFrame struct {
	typ, event, op string
	id, offset     uint64
	message        wire.Message
	redacted       bool
	err            wire.Error
}

func (f *messageAddedFrame) DecodeJSON(d *jsonc.Decoder) {
	for n := 0; d.Member(n); n++ {
		switch string(d.Key) {
		case "type":
			d.Str(&f.typ)
		case "event":
			d.Str(&f.event)
		case "offset":
			d.Uint64(&f.offset)
		case "id":
			d.Uint64(&f.id)
		case "op":
			d.Str(&f.op)
		case "error":
			f.err.DecodeJSON(d)
		case "data":
			// A frame's data is a raw value: the last one named wins.
			f.message, f.redacted = wire.Message{}, false
			for m := 0; d.Member(m); m++ {
				switch string(d.Key) {
				case "message":
					f.message.DecodeJSON(d)
				case "redacted":
					d.Bool(&f.redacted)
				default:
					d.Skip()
				}
			}
		default:
			d.Skip()
		}
	}
}

var messageAddedMark = []byte(`"event":"` + wire.EventMessageAdded + `"`)

// decodeMessageAdded decodes raw if it is a well-formed messageAdded event frame; anything
// else (a body that merely contains the mark, a redacted event) is left to the general path.
func decodeMessageAdded(raw []byte) (offset uint64, m wire.Message, ok bool) {
	if !bytes.Contains(raw, messageAddedMark) {
		return 0, m, false
	}
	var mf messageAddedFrame
	if wire.Unmarshal(raw, &mf) != nil || mf.typ != wire.TypeEvent || mf.event != wire.EventMessageAdded || mf.offset == 0 || mf.redacted {
		return 0, m, false
	}
	return mf.offset, mf.message, true
}
