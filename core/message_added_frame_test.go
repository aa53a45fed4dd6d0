package core

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/convo-sdk/convo/wire"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// decodeMessageAddedGeneral is the reference: the general path, a frame and then its data.
func decodeMessageAddedGeneral(raw []byte) (uint64, wire.Message, bool) {
	f, err := wire.Decode(raw)
	if err != nil || f.Type != wire.TypeEvent || f.Event != wire.EventMessageAdded {
		return 0, wire.Message{}, false
	}
	var ev wire.MessageEvent
	if err := wire.Unmarshal(f.Data, &ev); err != nil {
		return 0, wire.Message{}, false
	}
	return f.Offset, ev.Message, true
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
			m.Attributes = wire.RawJSON(`{"a":[1,2,{"b":"}]\""}],"n":null,"t":true,"x":-1.5e3}`)
			m.Subject, m.ContentSid, m.LastUpdatedBy = &subject, "HX01", "carol"
		})),
		"index zero": serverFrame(t, 3, with(func(m *wire.Message) { m.Index = 0; m.ParticipantSid = "" })),
		"zone":       serverFrame(t, 3, with(func(m *wire.Message) { m.DateCreated = at.In(time.FixedZone("", 5*3600+1800)) })),
	}
}

// The frames the server writes decode in one pass as the general path decodes them.
func TestServerFramesDecodeInOnePass(t *testing.T) {
	for name, f := range fastFrames(t) {
		off, m, ok := decodeMessageAdded(f)
		require.True(t, ok, "%s: %s", name, f)
		wantOff, want, wantOK := decodeMessageAddedGeneral(f)
		require.True(t, wantOK, name)
		assert.Equal(t, wantOff, off, name)
		assert.Equal(t, want, m, name)
	}
}

// Unusual frames decode as the general path decodes them, or are refused by both.
func TestOnePassAgreesWithTheGeneralPath(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	media := serverFrame(t, 5, wire.Message{Sid: "IM1", Index: 1, DateCreated: at, DateUpdated: at,
		Media: []wire.Media{{Sid: "ME1", Filename: "a.png"}}})
	for _, f := range []string{
		string(media),
		`{"type":"event","event":"messageAdded","offset":5,"data":{"message":{"sid":"IM1","future":1}}}`,
		`{"type":"event","event":"messageAdded","offset":5,"data":{"message":{"s\u0069d":"IM1"}}}`,
		`{"type":"event","event":"messageAdded" ,"offset": 5 ,"data":{"message":{"sid":"IM1"}}}`,
		`{"type":"event","event":"messageAdded","offset":5,"data":{"message":{"sid":null}}}`,
		`{"type":"event","event":"messageAdded","offset":5,"data":{"message":{"attributes":null}}}`,
		`{"type":"event","event":"messageAdded","offset":5,"data":null}`,
		`{"type":"event","event":"messageAdded","offset":5,"id":"x","data":{}}`,
		`{"type":"event","event":"messageAdded","offset":5,"error":{"code":"x"},"data":{}}`,
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
		requireSameDecode(t, []byte(f))
	}
}

func requireSameDecode(t *testing.T, raw []byte) {
	t.Helper()
	off, m, ok := decodeMessageAdded(raw)
	wantOff, want, wantOK := decodeMessageAddedGeneral(raw)
	if !bytes.Contains(raw, messageAddedMark) {
		require.False(t, ok, "%q", raw)
		return
	}
	require.Equal(t, wantOK, ok, "%q", raw)
	require.Equal(t, wantOff, off, "%q", raw)
	require.Equal(t, want, m, "%q", raw)
}

// Any input decodes in one pass as the general path decodes it.
func FuzzDecodeMessageAdded(f *testing.F) {
	for _, fr := range fastFrames(f) {
		f.Add(fr)
	}
	f.Add([]byte(`{"type":"event","event":"messageAdded","offset":5,"data":{"message":{"sid":"IM1","sid":"IM2","body":"x","body":null}}}`))
	f.Add([]byte(`{"type":"event","event":"messageAdded","offset":5,"data":{"message":{"attributes":"s"}},"data":{"message":{"index":-0}}}`))
	f.Fuzz(requireSameDecode)
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
		if err := wire.Unmarshal(f.Data, &ev); err != nil {
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
	require.NoError(t, wire.Unmarshal(f.Data, &ev))
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
