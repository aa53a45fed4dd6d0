package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/convo-sdk/convo/server"
	"github.com/convo-sdk/convo/server/servertest"
	"github.com/convo-sdk/convo/wire"
)

// Fan-out through the real server on 127.0.0.1: one message.send into a conversation of 10
// participants, committed (SQLite, synchronous=FULL), then messageAdded written to every
// connected member and read by it. In BenchmarkSendFanOut10 all 10 are connected; in
// BenchmarkSendFanOut1 only the sender, so the store does the same work in both and the
// difference is the cost of fanning one message out to 9 more connections (server writes
// and client reads both run in this process).
func BenchmarkSendFanOut1(b *testing.B)  { benchSendFanOut(b, 1) }
func BenchmarkSendFanOut10(b *testing.B) { benchSendFanOut(b, 10) }

func benchSendFanOut(b *testing.B, connected int) {
	const members = 10
	env := servertest.Start(b, servertest.Options{Configure: func(c *server.Config) {
		c.RequestRate, c.ConversationWriteRate = -1, -1 // the loop sends as fast as it can
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	clients := make([]*servertest.Client, connected)
	for i := range clients {
		clients[i] = env.Connect(ctx, fmt.Sprintf("m%d", i))
	}
	var conv wire.Conversation
	if err := clients[0].Call(ctx, wire.OpConversationCreate, wire.CreateConversationArgs{FriendlyName: "bench"}, &conv); err != nil {
		b.Fatal(err)
	}
	for _, c := range clients {
		if err := c.Call(ctx, wire.OpConversationJoin, wire.ConversationRef{ConversationSid: conv.Sid}, nil); err != nil {
			b.Fatal(err)
		}
	}
	for i := connected; i < members; i++ {
		add := wire.AddParticipantArgs{ConversationSid: conv.Sid, Identity: fmt.Sprintf("m%d", i)}
		if err := clients[0].Call(ctx, wire.OpParticipantAdd, add, nil); err != nil {
			b.Fatal(err)
		}
	}
	// Each connected member reads until it has seen the last participant join.
	last := fmt.Sprintf("m%d", members-1)
	for _, c := range clients {
		for {
			f, err := c.WaitEvent(ctx, wire.EventParticipantJoined)
			if err != nil {
				b.Fatal(err)
			}
			var ev wire.ParticipantEvent
			if err := json.Unmarshal(f.Data, &ev); err != nil {
				b.Fatal(err)
			}
			if ev.Participant.Identity == last {
				break
			}
		}
	}
	// Members other than the sender read on their own goroutines and report each message.
	got := make(chan error, connected*16)
	for _, c := range clients[1:] {
		go func() {
			for {
				_, err := c.WaitEvent(ctx, wire.EventMessageAdded)
				got <- err
				if err != nil {
					return
				}
			}
		}()
	}
	body := "a typical chat message of a few dozen characters"
	args := wire.SendMessageArgs{ConversationSid: conv.Sid, Body: &body}
	b.ReportAllocs()
	for b.Loop() {
		// The sender's own copy arrives before or after the reply; Call keeps it for
		// WaitEvent.
		if err := clients[0].Call(ctx, wire.OpMessageSend, args, nil); err != nil {
			b.Fatal(err)
		}
		if _, err := clients[0].WaitEvent(ctx, wire.EventMessageAdded); err != nil {
			b.Fatal(err)
		}
		for range connected - 1 {
			if err := <-got; err != nil {
				b.Fatal(err)
			}
		}
	}
}
