package core

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"

	"github.com/convo-sdk/convo/wire"
)

// A messageAdded frame decoded without reflection.
//
// Most of the stream is messageAdded frames, and encoding/json spends most of its time on
// them validating the whole frame first and then filling the structs by reflection: in the
// browser, about a third of the SDK's time per delivered message. decodeMessageAddedFast
// reads the frames the server writes ({"type":…,"event":…,"offset":…,"data":{"message":
// {…}}}) in one pass. Whatever it does not handle (escaped keys, keys it does not know,
// media, receipts, content variables, numbers it would have to convert) makes it give up,
// and decodeMessageAdded falls back to encoding/json; when it does decode a frame, the
// result is the one encoding/json gives (FuzzDecodeMessageAddedFast checks this).

// fastDecoder reads JSON from b at i.
type fastDecoder struct {
	b []byte
	i int
}

// decodeMessageAddedFast decodes raw if it is a messageAdded event frame of the usual shape;
// ok is false when it is not or when the frame needs encoding/json.
func decodeMessageAddedFast(raw []byte) (offset uint64, m wire.Message, ok bool) {
	d := fastDecoder{b: raw}
	var typ, event string
	ok = d.object(func(key []byte) bool {
		switch string(key) { // compared without a copy
		case "type":
			return d.str(&typ)
		case "event":
			return d.str(&event)
		case "offset":
			return d.uint(&offset)
		case "data":
			return d.object(func(key []byte) bool {
				return string(key) == "message" && d.message(&m)
			})
		}
		return false
	})
	d.ws()
	if !ok || d.i != len(d.b) || typ != wire.TypeEvent || event != wire.EventMessageAdded || offset == 0 {
		return 0, wire.Message{}, false
	}
	return offset, m, true
}

func (d *fastDecoder) message(m *wire.Message) bool {
	// A message may be named twice: encoding/json would fill the one value twice.
	return d.object(func(key []byte) bool {
		switch string(key) {
		case "sid":
			return d.str(&m.Sid)
		case "conversationSid":
			return d.str(&m.ConversationSid)
		case "index":
			return d.int(&m.Index)
		case "author":
			return d.str(&m.Author)
		case "participantSid":
			return d.str(&m.ParticipantSid)
		case "body":
			return d.optStr(&m.Body)
		case "subject":
			return d.optStr(&m.Subject)
		case "attributes":
			return d.raw(&m.Attributes)
		case "contentSid":
			return d.str(&m.ContentSid)
		case "lastUpdatedBy":
			return d.str(&m.LastUpdatedBy)
		case "dateCreated":
			return d.time(&m.DateCreated)
		case "dateUpdated":
			return d.time(&m.DateUpdated)
		}
		return false
	})
}

// ws skips JSON whitespace.
func (d *fastDecoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// object reads an object, calling member for each key with the decoder at the value.
func (d *fastDecoder) object(member func(key []byte) bool) bool {
	d.ws()
	if d.i >= len(d.b) || d.b[d.i] != '{' {
		return false
	}
	d.i++
	d.ws()
	if d.i < len(d.b) && d.b[d.i] == '}' {
		d.i++
		return true
	}
	for {
		d.ws()
		key, ok := d.plainBytes()
		if !ok {
			return false
		}
		d.ws()
		if d.i >= len(d.b) || d.b[d.i] != ':' {
			return false
		}
		d.i++
		d.ws()
		if !member(key) {
			return false
		}
		d.ws()
		if d.i >= len(d.b) {
			return false
		}
		switch d.b[d.i] {
		case ',':
			d.i++
		case '}':
			d.i++
			return true
		default:
			return false
		}
	}
}

// plainBytes reads a string without escapes, in valid UTF-8 (as encoding/json would read
// it), returning its bytes within d.b.
func (d *fastDecoder) plainBytes() ([]byte, bool) {
	if d.i >= len(d.b) || d.b[d.i] != '"' {
		return nil, false
	}
	start := d.i + 1
	for j := start; j < len(d.b); j++ {
		switch c := d.b[j]; {
		case c == '"':
			s := d.b[start:j]
			if !utf8.Valid(s) {
				return nil, false
			}
			d.i = j + 1
			return s, true
		case c == '\\' || c < 0x20:
			return nil, false
		}
	}
	return nil, false
}

// str reads a string; one with escapes goes through encoding/json.
func (d *fastDecoder) str(s *string) bool {
	if v, ok := d.plainBytes(); ok {
		*s = string(v)
		return true
	}
	end, ok := d.stringEnd()
	if !ok || json.Unmarshal(d.b[d.i:end], s) != nil {
		return false
	}
	d.i = end
	return true
}

// stringEnd finds the end of the string at d.i, escapes included.
func (d *fastDecoder) stringEnd() (int, bool) {
	if d.i >= len(d.b) || d.b[d.i] != '"' {
		return 0, false
	}
	for j := d.i + 1; j < len(d.b); j++ {
		switch d.b[j] {
		case '\\':
			j++
		case '"':
			return j + 1, true
		}
	}
	return 0, false
}

// optStr reads a string or null.
func (d *fastDecoder) optStr(p **string) bool {
	if d.literal("null") {
		*p = nil
		return true
	}
	var s string
	if !d.str(&s) {
		return false
	}
	*p = &s
	return true
}

func (d *fastDecoder) literal(lit string) bool {
	if len(d.b)-d.i >= len(lit) && string(d.b[d.i:d.i+len(lit)]) == lit {
		d.i += len(lit)
		return true
	}
	return false
}

// integer reads a JSON integer: an optional minus, then 0 or digits not starting with 0, at
// most 18 of them (so no overflow). A fraction, an exponent or a longer number is left for
// encoding/json to judge.
func (d *fastDecoder) integer() (n int64, neg, ok bool) {
	neg = d.i < len(d.b) && d.b[d.i] == '-'
	if neg {
		d.i++
	}
	first := d.i
	for d.i < len(d.b) && '0' <= d.b[d.i] && d.b[d.i] <= '9' {
		n = n*10 + int64(d.b[d.i]-'0')
		d.i++
	}
	digits := d.i - first
	if digits == 0 || digits > 18 || (digits > 1 && d.b[first] == '0') {
		return 0, neg, false
	}
	if d.i < len(d.b) && (d.b[d.i] == '.' || d.b[d.i] == 'e' || d.b[d.i] == 'E') {
		return 0, neg, false
	}
	if neg {
		n = -n
	}
	return n, neg, true
}

func (d *fastDecoder) uint(v *uint64) bool {
	n, neg, ok := d.integer()
	if !ok || neg { // not even "-0" is a uint64 to encoding/json
		return false
	}
	*v = uint64(n)
	return true
}

func (d *fastDecoder) int(v *int64) bool {
	n, _, ok := d.integer()
	*v = n
	return ok
}

// raw reads any JSON value as it is, like json.RawMessage; only objects and arrays of the
// usual kind (attributes) are expected, and anything else goes to encoding/json.
func (d *fastDecoder) raw(v *json.RawMessage) bool {
	start := d.i
	depth := 0
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case '{', '[':
			depth++
		case '}', ']':
			depth--
		case '"':
			end, ok := d.stringEnd()
			if !ok {
				return false
			}
			d.i = end - 1
		}
		d.i++
		if depth <= 0 {
			break
		}
	}
	if depth != 0 || !json.Valid(d.b[start:d.i]) {
		return false
	}
	*v = append(json.RawMessage(nil), d.b[start:d.i]...)
	return true
}

// time reads a time as encoding/json does: its UnmarshalJSON on the quoted string.
func (d *fastDecoder) time(t interface{ UnmarshalJSON([]byte) error }) bool {
	end, ok := d.stringEnd()
	if !ok || t.UnmarshalJSON(d.b[d.i:end]) != nil {
		return false
	}
	d.i = end
	return true
}

// messageAddedFrame is an event frame carrying messageAdded, decoded in one pass.
type messageAddedFrame struct {
	Type   string            `json:"type"`
	Event  string            `json:"event"`
	Offset uint64            `json:"offset"`
	Data   wire.MessageEvent `json:"data"`
}

var messageAddedMark = []byte(`"event":"` + wire.EventMessageAdded + `"`)

// decodeMessageAdded decodes raw if it is a well-formed messageAdded event frame.
func decodeMessageAdded(raw []byte) (offset uint64, m wire.Message, ok bool) {
	if !bytes.Contains(raw, messageAddedMark) {
		return 0, m, false
	}
	if offset, m, ok := decodeMessageAddedFast(raw); ok {
		return offset, m, true
	}
	var mf messageAddedFrame
	if json.Unmarshal(raw, &mf) != nil || mf.Type != wire.TypeEvent || mf.Event != wire.EventMessageAdded || mf.Offset == 0 {
		return 0, m, false
	}
	return mf.Offset, mf.Data.Message, true
}
