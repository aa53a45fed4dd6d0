// Frames and their payloads are encoded without HTML escaping: encoding/json's default turns
// each of < > & into a six-byte \u escape, which would let a page of messages made of "<"
// grow six-fold past what a client reads (wire.MaxServerFrameBytes). Frames are not HTML.

package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/wire"
)

// marshalJSON marshals v like json.Marshal, without HTML escaping.
func marshalJSON(v any) (wire.RawJSON, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// encodeFrame encodes a frame for the socket with wire's generated codec, which does not
// escape HTML either.
func encodeFrame(f *wire.Frame) ([]byte, error) { return wire.Encode(f) }

// eventFrame encodes an event frame by hand, byte for byte as encodeFrame would, appended
// to dst: the payload, compact already, is copied rather than compacted again for every
// connection. It returns nil when it cannot (a payload not known to be compact, an event
// name that JSON would escape); encodeFrame does those.
func eventFrame(dst []byte, d store.Delivery, compact bool) []byte {
	if !compact || !plainName(d.Event) || d.Offset == 0 || len(d.Payload) == 0 {
		return nil
	}
	b := dst
	b = append(b, `{"type":"`...)
	b = append(b, wire.TypeEvent...)
	b = append(b, `","event":"`...)
	b = append(b, d.Event...)
	b = append(b, `","offset":`...)
	b = strconv.AppendUint(b, d.Offset, 10)
	b = append(b, `,"data":`...)
	b = append(b, d.Payload...)
	return append(b, '}')
}

// frameBufs recycles the buffers event frames are encoded into: a frame is done with once
// the socket write returns, and a delivery is one frame per member.
var frameBufs = sync.Pool{New: func() any { return new([]byte) }}

// plainName reports whether JSON writes s as it is between quotes.
func plainName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if !('a' <= ch && ch <= 'z' || 'A' <= ch && ch <= 'Z' || '0' <= ch && ch <= '9' || ch == '.' || ch == '_' || ch == '-') {
			return false
		}
	}
	return true
}

// frameOverhead is room for a reply frame's fields around its data
// ({"type":"res","id":18446744073709551615,"data":...}).
const frameOverhead = 64

// encodeResults wraps every op handler so that its result is encoded here, once: a result
// that would not fit in a server frame becomes a CodeTooLarge error instead of a frame the
// client cannot read (and is counted as such by the metrics).
func encodeResults(ops map[string]handler) map[string]handler {
	for op, h := range ops {
		ops[op] = func(c *call) (any, error) {
			res, err := h(c)
			if err != nil || res == nil {
				return res, err
			}
			b, err := marshalJSON(res)
			if err != nil {
				return nil, fmt.Errorf("encoding the result of %s: %w", op, err)
			}
			if len(b)+frameOverhead > wire.MaxServerFrameBytes {
				return nil, wire.Errorf(wire.CodeTooLarge,
					"the reply to %s would be %d bytes; a server frame holds at most %d: ask for a smaller page", op, len(b), wire.MaxServerFrameBytes)
			}
			return b, nil
		}
	}
	return ops
}
