package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/centrifugal/centrifuge-go"
	"github.com/golang-jwt/jwt/v5"
)

// clock is the load's time base: publications carry nanoseconds since it.
var clock = time.Now()

func since() int64 { return int64(time.Since(clock)) }

// token mints the connection JWT (HS256) Centrifugo checks with client.token.hmac_secret_key.
func token(secret, user string) (string, error) {
	return jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": user,
		"exp": time.Now().Add(2 * time.Hour).Unix(),
	}).SignedString([]byte(secret))
}

// dial connects one client with its own user and waits until Centrifugo has accepted it.
func dial(ctx context.Context, o options, user string) (*centrifuge.Client, error) {
	tok, err := token(o.secret, user)
	if err != nil {
		return nil, err
	}
	c := centrifuge.NewJsonClient(o.url, centrifuge.Config{Token: tok, Name: "benchreport"})
	connected := make(chan struct{})
	var once sync.Once
	c.OnConnected(func(centrifuge.ConnectedEvent) { once.Do(func() { close(connected) }) })
	if err := c.Connect(); err != nil {
		c.Close()
		return nil, fmt.Errorf("connect %s: %w", user, err)
	}
	select {
	case <-connected:
		return c, nil
	case <-ctx.Done():
		c.Close()
		return nil, ctx.Err()
	case <-time.After(30 * time.Second):
		c.Close()
		return nil, fmt.Errorf("%s not connected within 30 s", user)
	}
}

// parallelDo runs fn(0..n-1) with at most parallel at once and returns the first error.
func parallelDo(n, parallel int, fn func(i int) error) error {
	var (
		wg    sync.WaitGroup
		first atomic.Pointer[error]
		sem   = make(chan struct{}, parallel)
	)
	for i := range n {
		if first.Load() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := fn(i); err != nil {
				first.CompareAndSwap(nil, &err)
			}
		}()
	}
	wg.Wait()
	if p := first.Load(); p != nil {
		return *p
	}
	return nil
}

func closeAll(cs []*centrifuge.Client) {
	for _, c := range cs {
		if c != nil {
			c.Close()
		}
	}
}

// ---- fan-out

// runFanout: channels of members subscribers, each subscriber its own connection and user,
// publications at a paced rate by the subscribers in turn, each through the publisher's own
// subscription (the client protocol's publish), delivered to every subscriber, the publisher
// included. Steps and the sustained rule are convod's (benchreport's runFanout). A writer
// waits for its publish's reply before its next (centrifuge-go has no fire-and-forget
// publish); at 2 publishes a second per connection and 4 handed sends queued per writer, only
// a server slower than half a second to answer makes the pacer skip.
func runFanout(ctx context.Context, o options) (*FanoutFigures, error) {
	f := &FanoutFigures{Conversations: o.channels, Members: o.members, Connections: o.channels * o.members}
	clients := make([]*centrifuge.Client, f.Connections)
	subs := make([]*centrifuge.Subscription, f.Connections)
	defer func() { closeAll(clients) }()

	type recv struct {
		mu  sync.Mutex
		lat []int64
	}
	recvs := make([]recv, f.Connections)
	var (
		winLo, winHi atomic.Int64 // window of publish times being counted (since clock)
		delivered    atomic.Int64
	)
	winLo.Store(1 << 62)
	winHi.Store(1 << 62)
	err := parallelDo(f.Connections, o.connectParallelism, func(i int) error {
		c, err := dial(ctx, o, fmt.Sprintf("fo%03d-%d", i/f.Members, i%f.Members))
		if err != nil {
			return err
		}
		clients[i] = c
		sub, err := c.NewSubscription(fmt.Sprintf("fanout%03d", i/f.Members))
		if err != nil {
			return err
		}
		r := &recvs[i]
		sub.OnPublication(func(e centrifuge.PublicationEvent) {
			at := since()
			sent, err := strconv.ParseInt(string(e.Data), 10, 64)
			if err != nil {
				return
			}
			if sent >= winLo.Load() && sent < winHi.Load() {
				delivered.Add(1)
				r.mu.Lock()
				r.lat = append(r.lat, at-sent)
				r.mu.Unlock()
			}
		})
		subscribed := make(chan struct{})
		failed := make(chan error, 1)
		var once sync.Once
		sub.OnSubscribed(func(centrifuge.SubscribedEvent) { once.Do(func() { close(subscribed) }) })
		sub.OnError(func(e centrifuge.SubscriptionErrorEvent) {
			select {
			case failed <- e.Error:
			default:
			}
		})
		if err := sub.Subscribe(); err != nil {
			return err
		}
		select {
		case <-subscribed:
		case err := <-failed:
			return fmt.Errorf("subscribe %s: %w", sub.Channel, err)
		case <-time.After(30 * time.Second):
			return fmt.Errorf("subscribe %s: no answer within 30 s", sub.Channel)
		}
		subs[i] = sub
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}
	fmt.Fprintf(os.Stderr, "centrifugo load: %d connections subscribed\n", f.Connections)
	time.Sleep(time.Second)

	order := make([]int, 0, f.Connections) // consecutive publishes go to different channels
	for m := range f.Members {
		for k := range f.Conversations {
			order = append(order, k*f.Members+m)
		}
	}
	var (
		writers                          sync.WaitGroup
		sentWin, sentAll, replied, nErrs atomic.Int64
	)
	tokens := make([]chan struct{}, f.Connections)
	for i := range clients {
		tokens[i] = make(chan struct{}, 4)
		writers.Add(1)
		go func() {
			defer writers.Done()
			for range tokens[i] {
				sent := since()
				sentAll.Add(1)
				if sent >= winLo.Load() && sent < winHi.Load() {
					sentWin.Add(1)
				}
				pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				_, err := subs[i].Publish(pctx, []byte(strconv.FormatInt(sent, 10)))
				cancel()
				if err != nil {
					nErrs.Add(1)
				}
				replied.Add(1)
			}
		}()
	}
	defer func() {
		for _, t := range tokens {
			close(t)
		}
		closeAll(clients)
		writers.Wait()
	}()

	next := 0
	for _, rate := range o.rates {
		st := FanoutStep{OfferedMsgsPerSec: rate}
		winLo.Store(1 << 62)
		winHi.Store(1 << 62)
		delivered.Store(0)
		sentWin.Store(0)
		errs0 := nErrs.Load()
		for i := range recvs {
			recvs[i].mu.Lock()
			recvs[i].lat = recvs[i].lat[:0]
			recvs[i].mu.Unlock()
		}
		begin := time.Now()
		var handed, skipped int64
		var cpuA, cpuB cpuTimes
		tick := time.NewTicker(time.Millisecond)
		for inWindow := false; ; {
			now := <-tick.C
			el := now.Sub(begin)
			if !inWindow && el >= o.warm {
				inWindow = true
				winLo.Store(since())
				cpuA = cpuSnapshot(o.pid)
			}
			if el >= o.warm+o.measure {
				winHi.Store(since())
				cpuB = cpuSnapshot(o.pid)
				break
			}
			for due := int64(rate * el.Seconds()); handed < due; handed++ {
				i := order[next%len(order)]
				next++
				select {
				case tokens[i] <- struct{}{}:
				default:
					if inWindow {
						skipped++
					}
				}
			}
		}
		tick.Stop()
		st.Seconds = float64(winHi.Load()-winLo.Load()) / 1e9
		st.CPU = cpuA.usage(cpuB)
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if replied.Load() >= sentAll.Load() && delivered.Load() >= sentWin.Load()*int64(f.Members) {
				break
			}
		}
		if !processAlive(o.pid) {
			return f, fmt.Errorf("centrifugo (pid %d) exited", o.pid)
		}
		var all []int64
		for i := range recvs {
			recvs[i].mu.Lock()
			all = append(all, recvs[i].lat...)
			recvs[i].mu.Unlock()
		}
		st.Sent = sentWin.Load()
		st.Expected = st.Sent * int64(f.Members)
		st.Delivered = delivered.Load()
		st.Skipped = skipped
		st.Errors = nErrs.Load() - errs0
		st.SentMsgsPerSec = float64(st.Sent) / st.Seconds
		st.DeliveriesPerSec = float64(st.Delivered) / st.Seconds
		if st.CPU.Server > 0 {
			st.DeliveriesPerCore = st.DeliveriesPerSec / st.CPU.Server
		}
		st.P50Ms, st.P99Ms, st.MaxMs = percentiles(all)
		st.Sustained = st.SentMsgsPerSec >= 0.97*rate && st.Delivered >= st.Expected && st.Errors == 0 && st.P99Ms < 1000
		f.Steps = append(f.Steps, st)
		fmt.Fprintf(os.Stderr, "centrifugo load: %.0f/s offered: %.0f deliveries/s, p99 %.1f ms, sustained %v\n", rate, st.DeliveriesPerSec, st.P99Ms, st.Sustained)
		if !st.Sustained || st.P99Ms >= o.p99Budget {
			break
		}
		f.Chosen = len(f.Steps) - 1
	}
	return f, nil
}

// ---- idle

// runIdle connects o.conns users, each accepted and then idle, and measures how much the
// server's resident memory grew per connection.
func runIdle(ctx context.Context, o options) (*IdleFigures, error) {
	f := &IdleFigures{Connections: o.conns}
	time.Sleep(time.Second) // let the fresh process settle
	before, err := rss(o.pid)
	if err != nil {
		return nil, err
	}
	clients := make([]*centrifuge.Client, o.conns)
	defer func() { closeAll(clients) }()
	start := time.Now()
	err = parallelDo(o.conns, o.connectParallelism, func(i int) error {
		c, err := dial(ctx, o, fmt.Sprintf("idle%05d", i))
		clients[i] = c
		return err
	})
	if err != nil {
		return nil, err
	}
	f.ConnectSeconds = time.Since(start).Seconds()
	var samples []int64
	for range 5 {
		time.Sleep(time.Second)
		v, err := rss(o.pid)
		if err != nil {
			return nil, err
		}
		samples = append(samples, v)
	}
	slices.Sort(samples)
	after := samples[len(samples)/2]
	f.RSSBeforeMB, f.RSSAfterMB = float64(before)/(1<<20), float64(after)/(1<<20)
	f.KBPerConn = float64(after-before) / float64(f.Connections) / 1024
	return f, nil
}

// percentiles returns p50, p99 and max of latencies in nanoseconds, in milliseconds.
func percentiles(ns []int64) (p50, p99, max float64) {
	if len(ns) == 0 {
		return 0, 0, 0
	}
	slices.Sort(ns)
	at := func(q float64) float64 { return float64(ns[int(q*float64(len(ns)-1))]) / 1e6 }
	return at(0.50), at(0.99), float64(ns[len(ns)-1]) / 1e6
}
