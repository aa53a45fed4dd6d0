package sqlite_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/server/store/sqlite"
	"github.com/convo-sdk/convo/wire"
)

// The store's hot paths on a real file (WAL, synchronous=FULL): a send commits durably, so
// its figure includes the disk's fsync.

// benchConversation opens a store in a temporary folder with one conversation of members
// participants.
func benchConversation(b *testing.B, members int) (*sqlite.Store, wire.Conversation) {
	b.Helper()
	ctx := context.Background()
	s := benchStore(b)
	conv, err := s.CreateConversation(ctx, store.NewConversation{FriendlyName: "bench", CreatedBy: "m0"})
	if err != nil {
		b.Fatal(err)
	}
	for i := range members {
		if _, _, err := s.AddParticipant(ctx, store.NewParticipant{ConversationSid: conv.Sid, Identity: fmt.Sprintf("m%d", i)}); err != nil {
			b.Fatal(err)
		}
	}
	return s, conv
}

// benchStore opens a store in a temporary folder, closed when the benchmark ends.
func benchStore(b *testing.B) *sqlite.Store {
	b.Helper()
	s, err := sqlite.Open(filepath.Join(b.TempDir(), "bench.db"), sqlite.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

func benchBody() *string {
	s := "a typical chat message of a few dozen characters"
	return &s
}

// BenchmarkSendMessage10 appends a message to a conversation of 10 participants: the message,
// its messageAdded in 10 streams, one durable commit.
func BenchmarkSendMessage10(b *testing.B) {
	s, conv := benchConversation(b, 10)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_, _, ds, err := s.SendMessage(ctx, store.NewMessage{ConversationSid: conv.Sid, Author: "m0", Body: benchBody()})
		if err != nil {
			b.Fatal(err)
		}
		if len(ds) != 10 {
			b.Fatalf("%d deliveries", len(ds))
		}
	}
}

// BenchmarkMessagesPage reads the newest page of 30 of a conversation holding 1000 messages,
// and a page in the middle (anchored), as scrolling back does.
func BenchmarkMessagesPage(b *testing.B) {
	s, conv := benchConversation(b, 10)
	ctx := context.Background()
	for range 1000 {
		if _, _, _, err := s.SendMessage(ctx, store.NewMessage{ConversationSid: conv.Sid, Author: "m0", Body: benchBody()}); err != nil {
			b.Fatal(err)
		}
	}
	for _, bc := range []struct {
		name   string
		anchor *int64
	}{{"newest", nil}, {"anchored", new(int64(500))}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				page, err := s.Messages(ctx, store.MessageQuery{ConversationSid: conv.Sid, PageSize: wire.DefaultMessagePageSize, Anchor: bc.anchor})
				if err != nil {
					b.Fatal(err)
				}
				if len(page.Items) != wire.DefaultMessagePageSize {
					b.Fatalf("%d messages", len(page.Items))
				}
			}
		})
	}
}

// BenchmarkSendMessageFanout is the server fan-out load at the store: 200 conversations of 10
// members (2,000 users), 64 senders at once, so group commit batches them. Every message
// lands in 10 different users' streams, the b-tree pages the writer must rewrite.
func BenchmarkSendMessageFanout(b *testing.B) {
	const convs, members = 200, 10
	ctx := context.Background()
	s := benchStore(b)
	sids := make([]string, convs)
	for k := range convs {
		conv, err := s.CreateConversation(ctx, store.NewConversation{FriendlyName: "bench", CreatedBy: fmt.Sprintf("u%d-0", k)})
		if err != nil {
			b.Fatal(err)
		}
		sids[k] = conv.Sid
		for m := range members {
			if _, _, err := s.AddParticipant(ctx, store.NewParticipant{ConversationSid: conv.Sid, Identity: fmt.Sprintf("u%d-%d", k, m)}); err != nil {
				b.Fatal(err)
			}
		}
	}
	var next atomic.Int64
	b.SetParallelism(32) // × GOMAXPROCS senders
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := next.Add(1)
			k := int(n % convs)
			_, _, _, err := s.SendMessage(ctx, store.NewMessage{ConversationSid: sids[k], Author: fmt.Sprintf("u%d-%d", k, (n/convs)%members), Body: benchBody()})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
}
