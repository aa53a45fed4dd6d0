// Command soak runs the real convod binary and a set of native core clients chatting over
// loopback at a fixed total message rate for a bounded time. It samples the server's RSS and
// goroutines and the client process's heap and goroutines as it goes, prints them as a
// table, and fails when, after a warm-up, memory or goroutines grew beyond the limits, or
// when a message was lost, stored twice or delivered other than once and in order.
//
//	go run ./tools/soak -duration 3m            # or SOAK_DURATION=3m; default 30m
//	go run ./tools/soak -convod bin/convod      # else it builds convod itself
//
// It is not part of `make test` (see `make soak`).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

type config struct {
	duration, every, warmup time.Duration
	rate                    float64
	clients, conversations  int
	convod, keep            string
	memProfile              string

	// Limits on growth from the warm-up sample to the last one.
	maxRSSGrowth, maxHeapGrowth float64 // fraction of the warm-up figure
	minMemSlack                 float64 // MiB of growth always tolerated (allocator noise)
	serverCacheMiB              float64 // MiB of caches the server fills as its database grows
	maxGoroutineGrowth          int
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func parseConfig(args []string) (config, error) {
	var c config
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	dur, err := time.ParseDuration(envOr("SOAK_DURATION", "30m"))
	if err != nil {
		return c, fmt.Errorf("SOAK_DURATION: %w", err)
	}
	rate, err := strconv.ParseFloat(envOr("SOAK_RATE", "50"), 64)
	if err != nil {
		return c, fmt.Errorf("SOAK_RATE: %w", err)
	}
	fs.DurationVar(&c.duration, "duration", dur, "how long the clients chat (env SOAK_DURATION)")
	fs.Float64Var(&c.rate, "rate", rate, "messages a second, all clients together (env SOAK_RATE)")
	fs.DurationVar(&c.every, "every", 0, "sampling interval (default: a tenth of the duration, between 10 s and 2 min)")
	fs.DurationVar(&c.warmup, "warmup", 0, "time before the reference sample (default: a sixth of the duration, between 30 s and 5 min)")
	fs.IntVar(&c.clients, "clients", 20, "chatting clients (identities)")
	fs.IntVar(&c.conversations, "conversations", 5, "conversations; each client is in one or two")
	fs.StringVar(&c.convod, "convod", "", "convod binary (default: built from ./tools/convod)")
	fs.StringVar(&c.keep, "keep", "", "keep the data directory and server log in this directory (default: a temporary one, removed)")
	fs.StringVar(&c.memProfile, "memprofile", "", "write the client process's heap profile at the end to this file")
	fs.Float64Var(&c.maxRSSGrowth, "max-rss-growth", 0.5, "fail when the server's RSS grows by more than this fraction after the warm-up")
	fs.Float64Var(&c.maxHeapGrowth, "max-heap-growth", 0.5, "fail when the clients' live heap grows by more than this fraction after the warm-up")
	fs.Float64Var(&c.minMemSlack, "mem-slack", 16, "MiB of memory growth always allowed on either side")
	// SQLite's page caches (32 MiB for the writer, 2 MiB for each of 4 readers) fill as the
	// database grows past them; bounded, so growth up to their size is not a leak.
	fs.Float64Var(&c.serverCacheMiB, "server-cache", 40, "MiB of server growth allowed on top for the store's page caches filling")
	fs.IntVar(&c.maxGoroutineGrowth, "max-goroutine-growth", 10, "fail when goroutines grow by more than this after the warm-up, on either side")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if c.every == 0 {
		c.every = min(max(c.duration/10, 10*time.Second), 2*time.Minute)
	}
	if c.warmup == 0 {
		c.warmup = min(max(c.duration/6, 30*time.Second), 5*time.Minute)
	}
	switch {
	case c.duration <= 0 || c.rate <= 0 || c.every <= 0:
		return c, errors.New("-duration, -rate and -every must be positive")
	case c.warmup >= c.duration:
		return c, fmt.Errorf("-warmup (%v) must be shorter than -duration (%v)", c.warmup, c.duration)
	case c.clients < 2 || c.conversations < 1:
		return c, errors.New("-clients must be at least 2 and -conversations at least 1")
	}
	return c, nil
}

func main() {
	cfg, err := parseConfig(os.Args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	ok, err := run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
	if !ok {
		fmt.Println("soak: FAIL")
		os.Exit(1)
	}
	fmt.Println("soak: PASS")
}
