package core

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/convo-sdk/convo/wire"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// decodeMessageAddedJSON is the reference: encoding/json and the frame checks.
func decodeMessageAddedJSON(raw []byte) (uint64, wire.Message, bool) {
	var mf messageAddedFrame
	if json.Unmarshal(raw, &mf) != nil || mf.Type != wire.TypeEvent || mf.Event != wire.EventMessageAdded || mf.Offset == 0 {
		return 0, wire.Message{}, false
	}
	return mf.Offset, mf.Data.Message, true
}

// serverFrame encodes m as the server does (wire.Encode: compact, no HTML escaping).
func serverFrame(t testing.TB, offset uint64, m wire.Message) []byte {
	data, err := json.Marshal(wire.MessageEvent{Message: m})
	require.NoError(t, err)
	f, err := wire.Encode(&wire.Frame{Type: wire.TypeEvent, Event: wire.EventMessageAdded, Offset: offset, Data: data})
	require.NoError(t, err)
	return f
}

func fastFrames(t testing.TB) map[string][]byte {
	at := time.Date(2026, 11, 24, 13, 55, 19, 123456789, time.UTC)
	body, quoted, empty := "a typical chat message", "line one\nline \"two\" \\ é ✓ \u2028 <b>&</b>", ""
	subject := "re: lunch"
	base := wire.Message{Sid: "IM0123", ConversationSid: "CH0123", Index: 41, Author: "alice",
		ParticipantSid: "MB0123", Body: &body, DateCreated: at, DateUpdated: at.Add(time.Second)}
	with := func(f func(m *wire.Message)) wire.Message { m := base; f(&m); return m }
	return map[string][]byte{
		"plain":      serverFrame(t, 42, base),
		"escapes":    serverFrame(t, 1, with(func(m *wire.Message) { m.Body = &quoted; m.Author = "bob \"the\" builder" })),
		"no body":    serverFrame(t, 7, with(func(m *wire.Message) { m.Body = nil })),
		"empty body": serverFrame(t, 7, with(func(m *wire.Message) { m.Body = &empty })),
		"attributes": serverFrame(t, 9, with(func(m *wire.Message) {
			m.Attributes = json.RawMessage(`{"a":[1,2,{"b":"}]\""}],"n":null,"t":true,"x":-1.5e3}`)
			m.Subject, m.ContentSid, m.LastUpdatedBy = &subject, "HX01", "carol"
		})),
		"index zero": serverFrame(t, 3, with(func(m *wire.Message) { m.Index = 0; m.ParticipantSid = "" })),
		"zone":       serverFrame(t, 3, with(func(m *wire.Message) { m.DateCreated = at.In(time.FixedZone("", 5*3600+1800)) })),
	}
}

// The frames the server writes take the fast path, and decode as encoding/json decodes them.
func TestServerFramesDecodeFastAsEncodingJSONDoes(t *testing.T) {
	for name, f := range fastFrames(t) {
		off, m, ok := decodeMessageAddedFast(f)
		require.True(t, ok, "%s: %s", name, f)
		wantOff, want, wantOK := decodeMessageAddedJSON(f)
		require.True(t, wantOK, name)
		assert.Equal(t, wantOff, off, name)
		assert.Equal(t, want, m, name)
	}
}

// What the fast path does not handle, it leaves to encoding/json (and decodeMessageAdded
// still decodes it); what is not a messageAdded frame, neither decodes.
func TestFastPathGivesWayToEncodingJSON(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	media := serverFrame(t, 5, wire.Message{Sid: "IM1", Index: 1, DateCreated: at, DateUpdated: at,
		Media: []wire.Media{{Sid: "ME1", Filename: "a.png"}}})
	for name, f := range map[string]string{
		"media":       string(media),
		"unknown key": `{"type":"event","event":"messageAdded","offset":5,"data":{"message":{"sid":"IM1","future":1}}}`,
		"key case":    `{"type":"event","event":"messageAdded","offset":5,"data":{"message":{"SID":"IM1"}}}`,
		"escaped key": `{"type":"event","event":"messageAdded","offset":5,"data":{"message":{"s\u0069d":"IM1"}}}`,
		"spaces":      `{ "type" : "event" , "event":"messageAdded" ,"offset": 5 ,"data":{"message":{"sid":"IM1"}}}`,
		"null string": `{"type":"event","event":"messageAdded","offset":5,"data":{"message":{"sid":null}}}`,
		"null attrs":  `{"type":"event","event":"messageAdded","offset":5,"data":{"message":{"attributes":null}}}`,
	} {
		_, _, fast := decodeMessageAddedFast([]byte(f))
		if name == "spaces" {
			assert.True(t, fast, "whitespace is JSON too")
		} else {
			assert.False(t, fast, name)
		}
		wantOff, want, wantOK := decodeMessageAddedJSON([]byte(f))
		off, m, ok := decodeMessageAdded([]byte(f))
		if name != "spaces" { // no "event":"messageAdded" mark: takes the general path
			assert.Equal(t, wantOK, ok, name)
			assert.Equal(t, wantOff, off, name)
			assert.Equal(t, want, m, name)
		}
	}
	for _, f := range []string{
		`{"type":"event","event":"messageAdded","offset":0,"data":{}}`,
		`{"type":"reply","event":"messageAdded","offset":1,"data":{}}`,
		`{"type":"event","event":"messageAdded","offset":1,"data":{}} x`,
		`{"type":"event","event":"messageAdded","offset":01,"data":{}}`,
		`{"type":"event","event":"messageAdded","offset":1.0,"data":{}}`,
		`{"type":"event","event":"messageAdded","offset":-1,"data":{}}`,
		`{"type":"event","event":"messageAdded","offset":1,"data":{"message":{"body":"a` + "\x01" + `"}}}`,
		`{"type":"event","event":"messageAdded","offset":1,"data":{"message":{"attributes":{"a":}}}}`,
		`{"type":"event","event":"messageAdded","offset":1,"data":{"message":{"dateCreated":"yesterday"}}}`,
		`{"type":"event","event":"messageAdded","offset":1,"data":{"message":{"sid":"IM1",}}}`,
	} {
		_, _, ok := decodeMessageAddedFast([]byte(f))
		assert.False(t, ok, f)
	}
}

// Wherever the fast path decodes a frame, encoding/json decodes it to the same result.
func FuzzDecodeMessageAddedFast(f *testing.F) {
	for _, fr := range fastFrames(f) {
		f.Add(fr)
	}
	f.Add([]byte(`{"type":"event","event":"messageAdded","offset":5,"data":{"message":{"sid":"IM1","sid":"IM2","body":"x","body":null}}}`))
	f.Add([]byte(`{"type":"event","event":"messageAdded","offset":5,"data":{"message":{"attributes":"s"}},"data":{"message":{"index":-0}}}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		off, m, ok := decodeMessageAddedFast(raw)
		if !ok {
			return
		}
		wantOff, want, wantOK := decodeMessageAddedJSON(raw)
		if !wantOK {
			t.Fatalf("fast path decoded what encoding/json refuses: %q", raw)
		}
		if off != wantOff {
			t.Fatalf("offset %d, encoding/json %d: %q", off, wantOff, raw)
		}
		assert.Equal(t, want, m, "%q", raw)
	})
}

// benchMessageAddedFrame is a messageAdded event frame carrying a typical chat message.
func benchMessageAddedFrame() []byte {
	body := "a typical chat message of a few dozen characters"
	data, _ := json.Marshal(wire.MessageEvent{Message: wire.Message{
		Sid: "IM0123456789abcdef0123456789abcdef", ConversationSid: "CH0123456789abcdef0123456789abcdef",
		Index: 41, Author: "alice", Body: &body, DateCreated: time.Now(), DateUpdated: time.Now(),
	}})
	frame, _ := wire.Encode(&wire.Frame{Type: wire.TypeEvent, Event: wire.EventMessageAdded, Offset: 42, Data: data})
	return frame
}

func BenchmarkFrameDecodeMessageEvent(b *testing.B) {
	frame := benchMessageAddedFrame()
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		f, err := wire.Decode(frame)
		if err != nil {
			b.Fatal(err)
		}
		var ev wire.MessageEvent
		if err := json.Unmarshal(f.Data, &ev); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFrameDecodeMessageAddedOnePass is BenchmarkFrameDecodeMessageEvent's work as
// readLoop does it for messageAdded (decodeMessageAdded).
func BenchmarkFrameDecodeMessageAddedOnePass(b *testing.B) {
	frame := benchMessageAddedFrame()
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, ok := decodeMessageAdded(frame); !ok {
			b.Fatal("not decoded")
		}
	}
}

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
