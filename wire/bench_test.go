package wire_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/convo-sdk/convo/wire"
)

// benchMessage is a typical chat message as events and pages carry it.
func benchMessage(index int64) wire.Message {
	body := "a typical chat message of a few dozen characters"
	at := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
	return wire.Message{
		Sid: "IM0123456789abcdef0123456789abcdef", ConversationSid: "CH0123456789abcdef0123456789abcdef",
		Index: index, Author: "alice", ParticipantSid: "MB0123456789abcdef0123456789abcdef",
		Body: &body, DateCreated: at, DateUpdated: at,
	}
}

// The server encodes one event frame per recipient connection: the payload is already JSON.
func BenchmarkFrameEncodeMessageEvent(b *testing.B) {
	data, err := json.Marshal(wire.MessageEvent{Message: benchMessage(41)})
	if err != nil {
		b.Fatal(err)
	}
	f := &wire.Frame{Type: wire.TypeEvent, Event: wire.EventMessageAdded, Offset: 42, Data: data}
	out, _ := wire.Encode(f)
	b.SetBytes(int64(len(out)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := wire.Encode(f); err != nil {
			b.Fatal(err)
		}
	}
}

// The client builds a request frame per call: arguments marshalled, then the frame.
func BenchmarkFrameEncodeSendRequest(b *testing.B) {
	body := "a typical chat message of a few dozen characters"
	args := wire.SendMessageArgs{ConversationSid: "CH0123456789abcdef0123456789abcdef", Body: &body,
		IdempotencyKey: "0123456789abcdef0123456789abcdef"}
	b.ReportAllocs()
	id := uint64(0)
	for b.Loop() {
		id++
		f, err := wire.Request(id, wire.OpMessageSend, &args)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := wire.Encode(f); err != nil {
			b.Fatal(err)
		}
	}
}

// A reply carrying a page of 30 messages (message.list), encoded from the page.
func BenchmarkFrameEncodeMessagePageReply(b *testing.B) {
	page := wire.MessagePage{HasPrev: true}
	for i := range int64(wire.DefaultMessagePageSize) {
		page.Items = append(page.Items, benchMessage(100+i))
	}
	f, _ := wire.Reply(7, &page)
	out, _ := wire.Encode(f)
	b.SetBytes(int64(len(out)))
	b.ReportAllocs()
	for b.Loop() {
		f, err := wire.Reply(7, &page)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := wire.Encode(f); err != nil {
			b.Fatal(err)
		}
	}
}
