package core

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"runtime"
	"testing"
	"time"

	"github.com/convo-sdk/convo/wire"
)

// A cached message carries no emitter until something listens or emits, and an emit before
// the first listener is still replayed to it.
func TestMessageEmitterIsCreatedOnFirstUse(t *testing.T) {
	c := New("", &Options{DeferStart: true, Logf: t.Logf})
	conv, _ := c.upsertConversation(wire.Conversation{Sid: "CH1", Joined: true})
	msg, _ := conv.upsertMessage(wire.Message{Sid: "IM1", ConversationSid: "CH1"})
	if msg.emitter.Load() != nil {
		t.Fatal("a new message already has an emitter")
	}
	if n := msg.ListenerCount(MessageEventUpdated); n != 0 {
		t.Fatalf("ListenerCount = %d", n)
	}
	if msg.emitter.Load() != nil {
		t.Fatal("ListenerCount created an emitter")
	}
	msg.Emit(MessageEventUpdated, "first")
	var got []any
	msg.OnWithReplay(MessageEventUpdated, func(args ...any) { got = append(got, args...) })
	if len(got) != 1 || got[0] != "first" {
		t.Fatalf("replay got %v", got)
	}
	if e1, e2 := msg.Emitter(), msg.Emitter(); e1 != e2 {
		t.Fatal("Emitter is not one object")
	}
}

// A cached message's compact form gives back exactly what was decoded.
func TestCompactMessageRoundTrips(t *testing.T) {
	body, subject := "hi", "re"
	for _, m := range []wire.Message{
		{Sid: "IM1", ConversationSid: "CH1", Index: 4, Author: "a", ParticipantSid: "MB1", Body: &body},
		{Sid: "IM2", ConversationSid: "", Index: 5},
		{Sid: "IM3", ConversationSid: "CH9", Subject: &subject, ContentSid: "HX1", LastUpdatedBy: "b",
			Media: []wire.Media{{Sid: "ME1"}}, ContentVariables: []wire.ContentVariable{{Name: "k"}},
			Receipts: &wire.AggregatedReceipt{Total: 1}},
	} {
		d := compactMessage(m, "CH1")
		if got := d.wire(m.Sid, "CH1"); !reflect.DeepEqual(got, m) {
			t.Errorf("round trip changed the message:\n got %+v\nwant %+v", got, m)
		}
	}
	if d := compactMessage(wire.Message{Sid: "IM1", ConversationSid: "CH1"}, "CH1"); d.rare != nil {
		t.Error("a plain message keeps a rare-fields record")
	}
}

// byIndex holds exactly the cached messages, oldest first, whatever order they arrive and
// leave in; trimming evicts from its front.
func TestCachedMessagesStayInIndexOrder(t *testing.T) {
	c := New("", &Options{DeferStart: true, Logf: t.Logf})
	conv, _ := c.upsertConversation(wire.Conversation{Sid: "CH1", Joined: true})
	rng := rand.New(rand.NewPCG(1, 2))
	for _, i := range rng.Perm(3 * MessageCacheSize) {
		conv.upsertMessage(wire.Message{Sid: fmt.Sprintf("IM%d", i), ConversationSid: "CH1", Index: int64(i)})
		if i%7 == 0 {
			conv.removeMessage(wire.Message{Sid: fmt.Sprintf("IM%d", i), ConversationSid: "CH1", Index: int64(i)})
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(conv.byIndex) != len(conv.messages) || len(conv.messages) > MessageCacheSize {
		t.Fatalf("%d ordered, %d cached", len(conv.byIndex), len(conv.messages))
	}
	for i, m := range conv.byIndex {
		if conv.messages[m.sid] != m {
			t.Fatalf("%s is ordered but not cached", m.sid)
		}
		if i > 0 && conv.byIndex[i-1].data.Index > m.data.Index {
			t.Fatalf("out of order at %d", i)
		}
	}
}

// An evicted message that nothing references any more is collected and forgotten: the
// cache's order slice keeps no pointer to it.
func TestEvictedMessagesAreCollected(t *testing.T) {
	c := New("", &Options{DeferStart: true, Logf: t.Logf})
	conv, _ := c.upsertConversation(wire.Conversation{Sid: "CH1", Joined: true})
	for i := range MessageCacheSize + 50 {
		conv.upsertMessage(wire.Message{Sid: fmt.Sprintf("IM%d", i), ConversationSid: "CH1", Index: int64(i)})
	}
	evicted := func() int {
		c.mu.Lock()
		defer c.mu.Unlock()
		return len(conv.evicted)
	}
	if n := evicted(); n != 50 {
		t.Fatalf("%d messages evicted, want 50", n)
	}
	deadline := time.Now().Add(10 * time.Second)
	for evicted() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d evicted messages are still reachable", evicted())
		}
		runtime.GC() // cleanups run after the collection that finds their object unreachable
		time.Sleep(10 * time.Millisecond)
	}
}
