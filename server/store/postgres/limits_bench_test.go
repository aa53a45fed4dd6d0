package postgres

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/convo-sdk/convo/internal/pgtest"
)

// BenchmarkClusterLimits measures what the cluster-wide limits add, against a server that
// syncs every commit to disk: a conversation write's token (per write), and a connection's
// lease taken and given back (per connection).
func BenchmarkClusterLimits(b *testing.B) {
	srv, err := pgtest.StartServer("", true)
	if err != nil {
		b.Skip(err)
	}
	defer srv.Stop()
	ctx := context.Background()
	dsn, err := srv.CreateDatabase(ctx, fmt.Sprintf("benchlimits%d", time.Now().UnixNano()))
	if err != nil {
		b.Fatal(err)
	}
	s, err := Open(ctx, dsn, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.Run("TakeToken one conversation", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.TakeToken(ctx, "conv:one", 1e9, 1e9); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("TakeToken 1000 conversations, parallel", func(b *testing.B) {
		b.SetParallelism(16)
		b.RunParallel(func(pb *testing.PB) {
			for i := 0; pb.Next(); i++ {
				if _, err := s.TakeToken(ctx, fmt.Sprintf("conv:%d", i%1000), 1e9, 1e9); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("AcquireLease+ReleaseLease", func(b *testing.B) {
		later := time.Now().Add(time.Minute)
		for i := 0; b.Loop(); i++ {
			holder := fmt.Sprintf("n/%d", i)
			if _, err := s.AcquireLease(ctx, "conn:alice", holder, "n", 20, later); err != nil {
				b.Fatal(err)
			}
			if err := s.ReleaseLease(ctx, "conn:alice", holder); err != nil {
				b.Fatal(err)
			}
		}
	})
}
