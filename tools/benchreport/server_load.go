package main

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/convo-sdk/convo/wire"
)

// The three server loads. Each starts its own nodes (startNodes) so that one's data and
// memory do not colour the next, and stops them before returning.

// ---- stored messages per second

// runThroughput: senders connections, each its own identity and its own conversation of
// members participants (the others offline, so the store fans each message out to members
// streams but the sockets carry only the sender's own copy), each sending message.send with
// `window` requests in flight. One sender per conversation keeps every conversation under
// convod's default per-conversation write limit should the binary have no flag to lift it.
func runThroughput(ctx context.Context, cfg config, spec clusterSpec) (*ThroughputFigures, error) {
	f := &ThroughputFigures{Senders: 200, MembersPerConv: 10, Window: 4}
	warm, measure := 3*time.Second, 10*time.Second
	if cfg.quick {
		f.Senders, warm, measure = 20, time.Second, 2*time.Second
	}
	cl, err := startNodes(cfg, "throughput", spec.nodes, spec.store, spec.bus)
	defer cl.stop()
	if err != nil {
		return nil, err
	}
	clients, err := dialAll(ctx, cl, f.Senders, 32, func(i int) string { return fmt.Sprintf("tp%03d", i) })
	if err != nil {
		return nil, err
	}
	defer closeAll(clients)
	sids := make([]string, len(clients))
	err = parallelDo(len(clients), 16, func(i int) error {
		c := clients[i]
		var conv wire.Conversation
		if err := c.call(ctx, wire.OpConversationCreate, wire.CreateConversationArgs{FriendlyName: "throughput " + c.identity}, &conv); err != nil {
			return err
		}
		if err := c.call(ctx, wire.OpConversationJoin, wire.ConversationRef{ConversationSid: conv.Sid}, nil); err != nil {
			return err
		}
		for m := 1; m < f.MembersPerConv; m++ {
			args := wire.AddParticipantArgs{ConversationSid: conv.Sid, Identity: fmt.Sprintf("%s-m%d", c.identity, m)}
			if err := c.call(ctx, wire.OpParticipantAdd, args, nil); err != nil {
				return err
			}
		}
		sids[i] = conv.Sid
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}

	var (
		measuring          atomic.Bool
		stop               = make(chan struct{})
		sent, replied      atomic.Int64
		acked, windowAcked atomic.Int64
		errMu              sync.Mutex
		errs               = map[int]int{}
		senders            sync.WaitGroup
		sendErr            atomic.Pointer[error]
	)
	lat := make([][]int64, len(clients)) // ack latencies in the window, per client (its reader)
	for i, c := range clients {
		var ring [64]atomic.Int64 // send time by request id; the window is far smaller
		slots := make(chan struct{}, f.Window)
		for range f.Window {
			slots <- struct{}{}
		}
		c.handler.Store(&loadHandler{ack: func(id uint64, code int, at time.Time) {
			// Counted last: once every reply is counted, lat is complete.
			defer replied.Add(1)
			if code != 0 {
				errMu.Lock()
				errs[code]++
				errMu.Unlock()
			} else {
				acked.Add(1)
				if measuring.Load() {
					windowAcked.Add(1)
					lat[i] = append(lat[i], int64(at.Sub(clock))-ring[id%64].Load())
				}
			}
			if wire.Code(code) == wire.CodeRateLimited {
				// Backpressure from a limit convod cannot lift (see Limits): retry later
				// rather than spin on refusals.
				time.AfterFunc(50*time.Millisecond, func() { slots <- struct{}{} })
				return
			}
			slots <- struct{}{}
		}})
		senders.Add(1)
		go func() {
			defer senders.Done()
			for {
				select {
				case <-stop:
					return
				case <-slots:
				}
				select {
				case <-stop:
					return
				default:
				}
				sent.Add(1)
				err := c.sendMessage(ctx, sids[i], func(id uint64, at int64) { ring[id%64].Store(at) })
				if err != nil {
					sendErr.CompareAndSwap(nil, &err)
					return
				}
			}
		}()
	}
	time.Sleep(warm)
	measuring.Store(true)
	start, cpu1 := time.Now(), cpuSnapshot(cl)
	profiled := cl.profile("throughput-"+spec.label(), measure)
	time.Sleep(measure)
	measuring.Store(false)
	f.Seconds, f.CPU = time.Since(start).Seconds(), cpu1.usage(cpuSnapshot(cl))
	if err := profiled(); err != nil {
		return f, err
	}
	close(stop)
	senders.Wait()
	// Every request sent gets its reply before the store is checked.
	for deadline := time.Now().Add(30 * time.Second); replied.Load() < sent.Load(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			return f, fmt.Errorf("%d of %d sends unanswered 30 s after the load stopped", sent.Load()-replied.Load(), sent.Load())
		}
	}
	if p := sendErr.Load(); p != nil {
		return f, fmt.Errorf("sending: %w", *p)
	}
	if err := cl.alive(); err != nil {
		return f, err
	}
	f.Acked = windowAcked.Load()
	f.MsgsPerSec = float64(f.Acked) / f.Seconds
	if f.CPU.Server > 0 {
		f.MsgsPerCore = f.MsgsPerSec / f.CPU.Server
	}
	f.AckP50Ms, f.AckP99Ms, _ = percentiles(slices.Concat(lat...))
	f.TotalAcked = acked.Load()
	f.Errors = codes(errs)
	// The store must hold every acknowledged message, no more and no less.
	var stored atomic.Int64
	err = parallelDo(len(clients), 16, func(i int) error {
		var n wire.Counts
		if err := clients[i].call(ctx, wire.OpConversationCounts, wire.ConversationRef{ConversationSid: sids[i]}, &n); err != nil {
			return err
		}
		stored.Add(n.Messages)
		return nil
	})
	if err != nil {
		return f, fmt.Errorf("counting stored messages: %w", err)
	}
	f.Stored = stored.Load()
	if f.Stored != f.TotalAcked {
		return f, fmt.Errorf("%w: %d acknowledged, %d stored", errNotStored, f.TotalAcked, f.Stored)
	}
	return f, nil
}

// ---- fan-out: deliveries per second and latency

// fanoutRates are the offered messages a second the fan-out load steps through (Centrifugo's
// load too, centrifugo.go).
var fanoutRates = []float64{500, 1000, 1500, 2000, 2500, 3000, 4000}

// runFanout: conversations of members participants, every participant connected (its own
// identity, clients spread over the nodes), messages sent at a paced rate by the members in
// turn. Each message is delivered to all members, the sender included. The rate steps up
// until a step is not sustained or misses the latency budget.
func runFanout(ctx context.Context, cfg config, spec clusterSpec) (*FanoutFigures, error) {
	f := &FanoutFigures{Conversations: 200, Members: 10}
	rates := fanoutRates
	warm, measure := 2*time.Second, 6*time.Second
	if cfg.quick {
		f.Conversations, rates, warm, measure = 20, []float64{100, 200}, 500*time.Millisecond, 2*time.Second
	}
	f.Connections = f.Conversations * f.Members
	cl, err := startNodes(cfg, "fanout", spec.nodes, spec.store, spec.bus)
	defer cl.stop()
	if err != nil {
		return nil, err
	}
	// Client conv*Members+m is member m of conversation conv; round-robin over the nodes puts
	// a conversation's members on different nodes when there are several.
	clients, err := dialAll(ctx, cl, f.Connections, 64, func(i int) string { return fmt.Sprintf("fo%03d-%d", i/f.Members, i%f.Members) })
	if err != nil {
		return nil, err
	}
	defer closeAll(clients)
	sids := make([]string, f.Conversations)
	err = parallelDo(f.Conversations, 16, func(k int) error {
		c := clients[k*f.Members]
		var conv wire.Conversation
		if err := c.call(ctx, wire.OpConversationCreate, wire.CreateConversationArgs{FriendlyName: fmt.Sprintf("fan-out %d", k)}, &conv); err != nil {
			return err
		}
		sids[k] = conv.Sid
		return nil
	})
	if err == nil {
		err = parallelDo(f.Connections, 32, func(i int) error {
			return clients[i].call(ctx, wire.OpConversationJoin, wire.ConversationRef{ConversationSid: sids[i/f.Members]}, nil)
		})
	}
	if err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}
	time.Sleep(time.Second) // the joins' events reach everyone before the first step

	// Per client: the latencies of window messages it received. The reader appends, the
	// step reads between steps; a mutex each keeps that simple and uncontended.
	type recv struct {
		mu  sync.Mutex
		lat []int64
	}
	recvs := make([]recv, len(clients))
	var (
		winLo, winHi atomic.Int64 // window of send times being counted (since clock)
		delivered    atomic.Int64
		replied      atomic.Int64
		errCount     atomic.Int64
	)
	for i, c := range clients {
		r := &recvs[i]
		c.handler.Store(&loadHandler{
			ack: func(_ uint64, code int, _ time.Time) {
				replied.Add(1)
				if code != 0 {
					errCount.Add(1)
				}
			},
			added: func(sent int64, at time.Time) {
				if sent >= winLo.Load() && sent < winHi.Load() {
					delivered.Add(1)
					r.mu.Lock()
					r.lat = append(r.lat, int64(at.Sub(clock))-sent)
					r.mu.Unlock()
				}
			},
		})
	}
	// One writer goroutine per client, handed sends by the pacer; a client still busy with
	// its previous ones makes the pacer skip it (counted: the generator fell behind).
	order := make([]int, 0, len(clients)) // consecutive sends go to different conversations
	for m := range f.Members {
		for k := range f.Conversations {
			order = append(order, k*f.Members+m)
		}
	}
	var (
		writers  sync.WaitGroup
		sentWin  atomic.Int64
		sentAll  atomic.Int64
		writeErr atomic.Pointer[error]
	)
	tokens := make([]chan struct{}, len(clients))
	for i, c := range clients {
		tokens[i] = make(chan struct{}, 4)
		writers.Add(1)
		go func() {
			defer writers.Done()
			for range tokens[i] {
				err := c.sendMessage(ctx, sids[i/f.Members], func(_ uint64, sent int64) {
					sentAll.Add(1)
					if sent >= winLo.Load() && sent < winHi.Load() {
						sentWin.Add(1)
					}
				})
				if err != nil {
					writeErr.CompareAndSwap(nil, &err)
					return
				}
			}
		}()
	}
	defer func() {
		for _, t := range tokens {
			close(t)
		}
		closeAll(clients) // unblocks a writer stuck on a socket
		writers.Wait()
	}()

	next := 0
	for _, rate := range rates {
		st := FanoutStep{OfferedMsgsPerSec: rate}
		winLo.Store(1 << 62)
		winHi.Store(1 << 62)
		delivered.Store(0)
		sentWin.Store(0)
		errs0 := errCount.Load()
		for i := range recvs {
			recvs[i].mu.Lock()
			recvs[i].lat = recvs[i].lat[:0]
			recvs[i].mu.Unlock()
		}
		// Pace: every millisecond hand out the sends due by now.
		begin := time.Now()
		var handed, skipped int64
		var cpuA, cpuB cpuTimes
		profiled := func() error { return nil }
		tick := time.NewTicker(time.Millisecond)
		for inWindow := false; ; {
			now := <-tick.C
			el := now.Sub(begin)
			if !inWindow && el >= warm {
				inWindow = true
				winLo.Store(since())
				winHi.Store(1 << 62)
				cpuA = cpuSnapshot(cl)
				profiled = cl.profile(fmt.Sprintf("fanout-%s-%.0f", spec.label(), rate), measure)
			}
			if el >= warm+measure {
				winHi.Store(since())
				cpuB = cpuSnapshot(cl)
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
		if err := profiled(); err != nil {
			return f, fmt.Errorf("profiling: %w", err)
		}
		st.Seconds = float64(winHi.Load()-winLo.Load()) / 1e9
		st.CPU = cpuA.usage(cpuB)
		// Drain: every window message should reach every member.
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if replied.Load() >= sentAll.Load() && delivered.Load() >= sentWin.Load()*int64(f.Members) {
				break
			}
		}
		if p := writeErr.Load(); p != nil {
			return f, fmt.Errorf("sending: %w", *p)
		}
		if err := cl.alive(); err != nil {
			return f, err
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
		st.Errors = errCount.Load() - errs0
		st.SentMsgsPerSec = float64(st.Sent) / st.Seconds
		st.DeliveriesPerSec = float64(st.Delivered) / st.Seconds
		if st.CPU.Server > 0 {
			st.DeliveriesPerCore = st.DeliveriesPerSec / st.CPU.Server
		}
		st.P50Ms, st.P99Ms, st.MaxMs = percentiles(all)
		// Sustained: the pacer's rate went out, everything arrived, and no backlog built up
		// (a server that keeps up does not queue a second's worth).
		st.Sustained = st.SentMsgsPerSec >= 0.97*rate && st.Delivered >= st.Expected && st.Errors == 0 && st.P99Ms < 1000
		f.Steps = append(f.Steps, st)
		if !st.Sustained || st.P99Ms >= fanoutP99Budget {
			break
		}
		f.Chosen = len(f.Steps) - 1
	}
	return f, nil
}

// ---- idle connections

// runIdle connects `count` distinct identities, each welcomed and then idle, and measures
// how much the nodes' resident memory grew per connection.
func runIdle(ctx context.Context, cfg config, spec clusterSpec) (*IdleFigures, error) {
	f := &IdleFigures{Connections: 10000}
	if cfg.quick {
		f.Connections = 1000
	}
	cl, err := startNodes(cfg, "idle", spec.nodes, spec.store, spec.bus)
	defer cl.stop()
	if err != nil {
		return nil, err
	}
	time.Sleep(time.Second) // let the fresh process settle
	before, err := cl.rss()
	if err != nil {
		return nil, err
	}
	rtBefore := cl.runtimeStats()
	start := time.Now()
	clients, err := dialAll(ctx, cl, f.Connections, 64, func(i int) string { return fmt.Sprintf("idle%05d", i) })
	if err != nil {
		return nil, err
	}
	defer closeAll(clients)
	f.ConnectSeconds = time.Since(start).Seconds()
	// Sample a few times after the connects settle; the median ignores a passing spike.
	var samples []int64
	for range 5 {
		time.Sleep(time.Second)
		v, err := cl.rss()
		if err != nil {
			return nil, err
		}
		samples = append(samples, v)
	}
	slices.Sort(samples)
	after := samples[len(samples)/2]
	if *serverProfile != "" { // what the idle connections hold, by allocation site
		for i, n := range cl.nodes {
			path := filepath.Join(*serverProfile, fmt.Sprintf("idle-node%d.heap.pprof", i))
			if err := n.writeHeapProfile(path); err != nil {
				return f, err
			}
		}
	}
	if err := cl.alive(); err != nil {
		return f, err
	}
	f.RSSBeforeMB, f.RSSAfterMB = float64(before)/(1<<20), float64(after)/(1<<20)
	f.KBPerConn = float64(after-before) / float64(f.Connections) / 1024
	if rtAfter := cl.runtimeStats(); rtBefore != nil && rtAfter != nil {
		per := func(name string) float64 { return (rtAfter[name] - rtBefore[name]) / float64(f.Connections) }
		f.HeapKBPerConn = per("go_memstats_heap_inuse_bytes") / 1024
		f.StackKBPerConn = per("go_memstats_stack_inuse_bytes") / 1024
		f.GoroutinesPerConn = per("go_goroutines")
	}
	return f, nil
}

// ---- helpers

// percentiles returns p50, p99 and max of latencies in nanoseconds, in milliseconds.
func percentiles(ns []int64) (p50, p99, max float64) {
	if len(ns) == 0 {
		return 0, 0, 0
	}
	slices.Sort(ns)
	at := func(q float64) float64 {
		i := int(q * float64(len(ns)-1))
		return float64(ns[i]) / 1e6
	}
	return at(0.50), at(0.99), float64(ns[len(ns)-1]) / 1e6
}

// codes turns error counts by code into a stable list.
func codes(m map[int]int) []ErrorCount {
	var out []ErrorCount
	for code, n := range m {
		out = append(out, ErrorCount{Code: code, Count: n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
}
