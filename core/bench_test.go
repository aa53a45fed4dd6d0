package core

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/convo-sdk/convo/wire"
)

func BenchmarkEmitterDispatch(b *testing.B) {
	e := NewEmitter()
	n := 0
	for range 3 {
		e.On("messageAdded", func(...any) { n++ })
	}
	b.ReportAllocs()
	for b.Loop() {
		e.Emit("messageAdded", 1)
	}
}

func BenchmarkFrameDecodeMessageEvent(b *testing.B) {
	body := "a typical chat message of a few dozen characters"
	data, _ := json.Marshal(wire.MessageEvent{Message: wire.Message{
		Sid: "IM0123456789abcdef0123456789abcdef", ConversationSid: "CH0123456789abcdef0123456789abcdef",
		Index: 41, Author: "alice", Body: &body, DateCreated: time.Now(), DateUpdated: time.Now(),
	}})
	frame, _ := wire.Encode(&wire.Frame{Type: wire.TypeEvent, Event: wire.EventMessageAdded, Offset: 42, Data: data})
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
// readLoop now does it for messageAdded (decodeMessageAdded).
func BenchmarkFrameDecodeMessageAddedOnePass(b *testing.B) {
	body := "a typical chat message of a few dozen characters"
	data, _ := json.Marshal(wire.MessageEvent{Message: wire.Message{
		Sid: "IM0123456789abcdef0123456789abcdef", ConversationSid: "CH0123456789abcdef0123456789abcdef",
		Index: 41, Author: "alice", Body: &body, DateCreated: time.Now(), DateUpdated: time.Now(),
	}})
	frame, _ := wire.Encode(&wire.Frame{Type: wire.TypeEvent, Event: wire.EventMessageAdded, Offset: 42, Data: data})
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, ok := decodeMessageAdded(frame); !ok {
			b.Fatal("not decoded")
		}
	}
}
