package postgres

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/convo-sdk/convo/internal/pgtest"
	"github.com/convo-sdk/convo/server/store"
)

// BenchmarkSend measures stored messages per second from 200 concurrent senders against a
// server that syncs every commit to disk, for two shapes of traffic.
func BenchmarkSend(b *testing.B) {
	srv, err := pgtest.StartServer("", true)
	if err != nil {
		b.Skip(err)
	}
	defer srv.Stop()
	for _, shape := range []struct {
		name          string
		rooms, member int
	}{
		{"200 pairs", 200, 2},
		{"10 rooms of 20", 10, 20},
	} {
		b.Run(shape.name, func(b *testing.B) {
			ctx := context.Background()
			dsn, err := srv.CreateDatabase(ctx, fmt.Sprintf("bench%d", time.Now().UnixNano()))
			if err != nil {
				b.Fatal(err)
			}
			s, err := Open(ctx, dsn, Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			const senders = 200
			rooms := make([]string, shape.rooms)
			authors := make([]string, senders)
			for i := range senders {
				r := i % shape.rooms
				if rooms[r] == "" {
					c, err := s.CreateConversation(ctx, store.NewConversation{CreatedBy: "bench"})
					if err != nil {
						b.Fatal(err)
					}
					rooms[r] = c.Sid
				}
				authors[i] = fmt.Sprintf("u%d", i)
				if _, _, err := s.AddParticipant(ctx, store.NewParticipant{ConversationSid: rooms[r], Identity: authors[i]}); err != nil {
					b.Fatal(err)
				}
			}
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for i := range senders {
				wg.Go(func() {
					body := "hello"
					for next.Add(1) <= int64(b.N) {
						if _, _, _, err := s.SendMessage(ctx, store.NewMessage{ConversationSid: rooms[i%shape.rooms], Author: authors[i], Body: &body}); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
		})
	}
}
