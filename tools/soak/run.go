package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/convo-sdk/convo/core"
	"github.com/convo-sdk/convo/server/auth"
	"github.com/convo-sdk/convo/wire"
)

// maxInflight bounds the sends waiting for their replies; a tick that finds this many
// skips its send and counts as behind.
const maxInflight = 500

const (
	sendPending = iota
	sendAcked
	sendFailed
)

// sendRec is one send, small because there are rate × duration of them.
type sendRec struct {
	conv  int16 // into the conversation list
	state int8
	index int32 // as acknowledged
}

// track is what one client saw of one conversation, kept in constant space: messageAdded
// indexes must come as 0, 1, 2, ...
type track struct {
	count      int
	last       int64
	repeated   int // an index at or below the last one seen: a duplicate or out of order
	skippedIdx int // indexes jumped over
}

type soakClient struct {
	id    string
	c     *core.Client
	convs []int // into the conversation list
	objs  map[int]*core.Conversation

	mu    sync.Mutex
	seen  map[string]*track // by conversation sid
	sends []sendRec         // by sequence number, which is in the body
}

// sample is one row of the table.
type sample struct {
	at                                time.Duration
	sent, acked, failed, delivered    int
	rss, srvGoroutines, srvConns      float64
	heap, heapSys                     float64 // MiB
	cliGoroutines, reconnects, behind int
}

type soak struct {
	cfg     config
	srv     *convod
	key     auth.Key
	wsURL   string
	sids    []string
	clients []*soakClient
	members map[string][]*soakClient

	logMu      sync.Mutex
	log        *os.File
	logLines   int
	reconnects atomic.Int32
	inflight   atomic.Int32
	behind     atomic.Int32
}

func (s *soak) logf(who string) func(string, ...any) {
	return func(format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		if strings.Contains(msg, "connection lost") {
			s.reconnects.Add(1)
		}
		s.logMu.Lock()
		defer s.logMu.Unlock()
		if s.logLines < 100000 {
			s.logLines++
			fmt.Fprintf(s.log, "%s %s: %s\n", time.Now().Format("15:04:05.000"), who, msg)
		}
	}
}

func (s *soak) newClient(ctx context.Context, identity string) (*core.Client, error) {
	tok, err := auth.Mint(s.key, identity, s.cfg.duration+2*time.Hour, s.wsURL)
	if err != nil {
		return nil, err
	}
	c := core.New(tok, &core.Options{BackoffMin: 100 * time.Millisecond, BackoffMax: 2 * time.Second, Logf: s.logf(identity)})
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := c.WaitInitialized(wctx); err != nil {
		_ = c.Shutdown(context.Background())
		return nil, fmt.Errorf("%s: initialise: %w", identity, err)
	}
	return c, nil
}

// run is the whole soak; it reports whether every check passed.
func run(ctx context.Context, cfg config) (bool, error) {
	dir := cfg.keep
	if dir == "" {
		d, err := os.MkdirTemp("", "convo-soak-")
		if err != nil {
			return false, err
		}
		defer os.RemoveAll(d)
		dir = d
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return false, err
	}
	bin := cfg.convod
	if bin == "" {
		fmt.Println("soak: building convod")
		b, err := buildConvod(ctx, dir)
		if err != nil {
			return false, err
		}
		bin = b
	}
	s := &soak{cfg: cfg, key: auth.NewKey("soak"), members: make(map[string][]*soakClient)}
	logFile, err := os.Create(filepath.Join(dir, "clients.log"))
	if err != nil {
		return false, err
	}
	defer logFile.Close()
	s.log = logFile
	if s.srv, err = startConvod(bin, dir, s.key); err != nil {
		return false, err
	}
	defer s.srv.stop()
	s.wsURL = "ws://" + s.srv.addr + "/v1/ws"
	defer s.shutdownClients()
	if err := s.setup(ctx); err != nil {
		return false, err
	}
	fmt.Printf("soak: convod pid %d on %s; %d clients in %d conversations; %.0f messages/s for %v; samples every %v, reference after %v\n",
		s.srv.cmd.Process.Pid, s.srv.addr, cfg.clients, cfg.conversations, cfg.rate, cfg.duration, cfg.every, cfg.warmup)

	began := time.Now()
	first, err := s.sample(ctx, began)
	if err != nil {
		return false, err
	}
	printHeader()
	printRow("start", first)
	var ref *sample

	sendCtx, stopSending := context.WithCancel(ctx)
	defer stopSending()
	var senders sync.WaitGroup
	senders.Add(1)
	go func() {
		defer senders.Done()
		s.pace(sendCtx, began.Add(cfg.duration))
	}()
	// The sampling times: every cfg.every, plus the reference at the end of the warm-up.
	var times []time.Duration
	for at := cfg.every; at < cfg.duration; at += cfg.every {
		if w := cfg.warmup; at > w && (len(times) == 0 || times[len(times)-1] < w) {
			times = append(times, w)
		}
		if at != cfg.warmup {
			times = append(times, at)
		}
	}
	if len(times) == 0 || times[len(times)-1] < cfg.warmup {
		times = append(times, cfg.warmup)
	}
	times = append(times, cfg.duration)
	interrupted := false
	for _, at := range times {
		select {
		case <-time.After(time.Until(began.Add(at))):
		case <-ctx.Done():
			interrupted = true
		}
		if !s.srv.alive() {
			stopSending()
			return false, fmt.Errorf("convod died:\n%s", s.srv.logTail())
		}
		if interrupted || at == cfg.duration {
			break
		}
		sm, err := s.sample(ctx, began)
		if err != nil {
			stopSending()
			return false, err
		}
		label := ""
		if at == cfg.warmup {
			r := sm
			ref, label = &r, "warm"
		}
		printRow(label, sm)
	}
	last, err := s.sample(context.Background(), began)
	if err != nil {
		return false, err
	}
	if cfg.memProfile != "" {
		if err := writeHeapProfile(cfg.memProfile); err != nil {
			return false, err
		}
	}
	printRow("end", last)
	stopSending()
	senders.Wait()
	if ref == nil {
		ref = &first
	}

	ok := s.judge(first, *ref, last, interrupted)
	fmt.Println("soak: waiting for the last sends and deliveries, then checking every message")
	if !s.verify(context.Background()) {
		ok = false
	}
	if cfg.keep != "" {
		fmt.Printf("soak: data and logs kept in %s\n", cfg.keep)
	}
	fmt.Printf("soak: %v in all\n", time.Since(began).Round(time.Second))
	return ok && !interrupted, nil
}

// setup creates the conversations and has every client join one or two.
func (s *soak) setup(ctx context.Context) error {
	owner, err := s.newClient(ctx, "owner")
	if err != nil {
		return err
	}
	defer owner.Shutdown(context.Background())
	for i := range s.cfg.conversations {
		conv, err := owner.CreateConversation(ctx, core.CreateConversationOptions{FriendlyName: fmt.Sprintf("soak %d", i)})
		if err != nil {
			return err
		}
		if err := conv.Join(ctx); err != nil { // to read the history at the end
			return err
		}
		s.sids = append(s.sids, conv.Sid())
	}
	perClient := int(s.cfg.rate*s.cfg.duration.Seconds())/s.cfg.clients + 64
	for i := range s.cfg.clients {
		cl := &soakClient{id: fmt.Sprintf("s%02d", i), seen: make(map[string]*track), objs: make(map[int]*core.Conversation),
			sends: make([]sendRec, 0, perClient+perClient/10)}
		if cl.c, err = s.newClient(ctx, cl.id); err != nil {
			return err
		}
		s.clients = append(s.clients, cl)
		cl.c.OnMessageAdded(func(m *core.Message) {
			sid := m.Conversation().Sid()
			idx := m.Index()
			cl.mu.Lock()
			defer cl.mu.Unlock()
			t := cl.seen[sid]
			if t == nil {
				return // not one of its conversations
			}
			switch {
			case idx == t.last+1:
			case idx <= t.last:
				t.repeated++
				return
			default:
				t.skippedIdx += int(idx - t.last - 1)
			}
			t.count++
			t.last = idx
		})
		cl.convs = []int{i % s.cfg.conversations}
		if i%2 == 0 && s.cfg.conversations > 1 {
			cl.convs = append(cl.convs, (i+1+i/4%(s.cfg.conversations-1))%s.cfg.conversations)
		}
		for _, k := range cl.convs {
			cl.mu.Lock()
			cl.seen[s.sids[k]] = &track{last: -1}
			cl.mu.Unlock()
			conv, err := cl.c.PeekConversationBySid(ctx, s.sids[k])
			if err != nil {
				return err
			}
			if err := conv.Join(ctx); err != nil {
				return err
			}
			cl.objs[k] = conv
			s.members[s.sids[k]] = append(s.members[s.sids[k]], cl)
		}
	}
	return nil
}

func (s *soak) shutdownClients() {
	for _, cl := range s.clients {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_ = cl.c.Shutdown(ctx)
		cancel()
	}
}

// pace sends one message per tick at the configured rate, from the clients in turn, until
// the deadline.
func (s *soak) pace(ctx context.Context, until time.Time) {
	interval := time.Duration(float64(time.Second) / s.cfg.rate)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	for k := 0; ; k++ {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			if !now.Before(until) {
				return
			}
		}
		if s.inflight.Load() >= maxInflight {
			s.behind.Add(1)
			continue
		}
		cl := s.clients[k%len(s.clients)]
		s.inflight.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer s.inflight.Add(-1)
			s.send(cl)
		}()
	}
}

func (s *soak) send(cl *soakClient) {
	k := cl.convs[rand.IntN(len(cl.convs))]
	cl.mu.Lock()
	seq := len(cl.sends)
	cl.sends = append(cl.sends, sendRec{conv: int16(k)})
	cl.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	idx, err := cl.objs[k].SendMessage(ctx, cl.id+"/"+strconv.Itoa(seq), nil)
	cancel()
	cl.mu.Lock()
	cl.sends[seq].index = int32(idx)
	if err != nil {
		cl.sends[seq].state = sendFailed
		cl.mu.Unlock()
		s.logf(cl.id)("soak: send %d failed: %v", seq, err)
		return
	}
	cl.sends[seq].state = sendAcked
	cl.mu.Unlock()
}

// sample measures both sides. The client heap is the live heap after a collection, so
// garbage waiting for the collector does not pass for growth.
func (s *soak) sample(ctx context.Context, began time.Time) (sample, error) {
	sm := sample{at: time.Since(began), reconnects: int(s.reconnects.Load()), behind: int(s.behind.Load())}
	for _, cl := range s.clients {
		cl.mu.Lock()
		for _, r := range cl.sends {
			sm.sent++
			switch r.state {
			case sendAcked:
				sm.acked++
			case sendFailed:
				sm.failed++
			}
		}
		for _, t := range cl.seen {
			sm.delivered += t.count
		}
		cl.mu.Unlock()
	}
	var err error
	if sm.rss, err = s.srv.rssMiB(); err != nil {
		return sm, err
	}
	m, err := s.srv.metrics(ctx)
	if err != nil {
		return sm, err
	}
	sm.srvGoroutines, sm.srvConns = m["go_goroutines"], m["convo_connections"]
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	sm.heap, sm.heapSys = float64(ms.HeapAlloc)/(1<<20), float64(ms.HeapSys)/(1<<20)
	sm.cliGoroutines = runtime.NumGoroutine()
	return sm, nil
}

func printHeader() {
	fmt.Printf("\n%-6s %8s %8s %8s %7s %10s | %9s %7s %6s | %9s %9s %7s | %7s %6s\n",
		"", "elapsed", "sent", "acked", "failed", "delivered", "srv RSS", "srv gor", "conns", "cli heap", "heap sys", "cli gor", "reconn", "behind")
}

func printRow(label string, sm sample) {
	fmt.Printf("%-6s %8s %8d %8d %7d %10d | %7.1fMi %7.0f %6.0f | %7.1fMi %7.1fMi %7d | %7d %6d\n",
		label, sm.at.Round(time.Second), sm.sent, sm.acked, sm.failed, sm.delivered,
		sm.rss, sm.srvGoroutines, sm.srvConns, sm.heap, sm.heapSys, sm.cliGoroutines, sm.reconnects, sm.behind)
}

// judge compares the last sample with the reference taken after the warm-up.
func (s *soak) judge(first, ref, last sample, interrupted bool) bool {
	cfg := s.cfg
	ok := true
	check := func(what string, grew, allowed float64, unit string) {
		verdict := "ok"
		if grew > allowed {
			verdict, ok = "FAIL", false
		}
		fmt.Printf("  %-24s grew %+8.1f%s after the warm-up (allowed %.1f%s)  %s\n", what, grew, unit, allowed, unit, verdict)
	}
	fmt.Println()
	check("server RSS", last.rss-ref.rss, max(ref.rss*cfg.maxRSSGrowth, cfg.minMemSlack)+cfg.serverCacheMiB, " MiB")
	heapOK := ok
	check("client live heap", last.heap-ref.heap, max(ref.heap*cfg.maxHeapGrowth, cfg.minMemSlack), " MiB")
	if heapOK && !ok && cfg.memProfile == "" {
		fmt.Printf("  %-24s run again with -memprofile FILE and `go tool pprof -top FILE` to see what grew\n", "")
	}
	check("server goroutines", last.srvGoroutines-ref.srvGoroutines, float64(cfg.maxGoroutineGrowth), "")
	check("client goroutines", float64(last.cliGoroutines-ref.cliGoroutines), float64(cfg.maxGoroutineGrowth), "")
	span := (last.at - first.at).Seconds()
	achieved := float64(last.sent-first.sent) / span
	verdict := "ok"
	if !interrupted && achieved < 0.9*cfg.rate {
		verdict, ok = "FAIL", false
	}
	fmt.Printf("  %-24s %.1f messages/s (target %.0f; %d ticks skipped with %d sends waiting)  %s\n",
		"rate", achieved, cfg.rate, last.behind, maxInflight, verdict)
	if last.reconnects > 0 {
		fmt.Printf("  %-24s %d connections lost on loopback without faults (see clients.log)\n", "reconnects", last.reconnects)
	}
	if d := last.delivered - ref.delivered; d > 0 {
		fmt.Printf("  %-24s %.0f bytes of client heap per message delivered after the warm-up\n", "", (last.heap-ref.heap)*(1<<20)/float64(d))
	}
	return ok
}

// verify waits until the sends are answered and every member has seen the stored history,
// then checks sent, acknowledged, stored and delivered as TestCrashSafety does.
func (s *soak) verify(ctx context.Context) bool {
	reader, err := s.newClient(ctx, "owner")
	if err != nil {
		fmt.Println("soak: cannot read the histories:", err)
		return false
	}
	defer reader.Shutdown(context.Background())
	readAll := func() (map[string][]wire.Message, error) {
		out := make(map[string][]wire.Message)
		for _, sid := range s.sids {
			rctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
			conv, err := reader.GetConversationBySid(rctx, sid)
			if err != nil {
				cancel()
				return nil, err
			}
			anchor := int64(0)
			page, err := conv.GetMessages(rctx, wire.MaxPageSize, &anchor, core.Forward)
			for err == nil {
				for _, m := range page.Items {
					body := ""
					if b := m.Body(); b != nil {
						body = *b
					}
					out[sid] = append(out[sid], wire.Message{Index: m.Index(), Body: &body})
				}
				if !page.HasNextPage {
					break
				}
				page, err = page.NextPage(rctx)
			}
			cancel()
			if err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	delivered := func(stored map[string][]wire.Message) bool {
		for sid, ms := range s.members {
			for _, cl := range ms {
				cl.mu.Lock()
				n := cl.seen[sid].count
				cl.mu.Unlock()
				if n < len(stored[sid]) {
					return false
				}
			}
		}
		return true
	}
	var stored map[string][]wire.Message
	deadline := time.Now().Add(2 * time.Minute)
	for prev := -1; ; {
		got, err := readAll()
		if err != nil {
			fmt.Println("soak: reading the histories:", err)
			return false
		}
		total := 0
		for _, ms := range got {
			total += len(ms)
		}
		stored = got
		if total == prev && delivered(got) {
			break
		}
		prev = total
		if time.Now().After(deadline) {
			fmt.Println("soak: not settled after 2 minutes: some clients have not seen every stored message")
			break
		}
		time.Sleep(time.Second)
	}

	var (
		sent, acked, failed, nStored, dupStored, gapsStored, lostAcked, wrongIndex, unknown int
		deliveredN, expected, repeated, skipped                                             int
	)
	type at struct {
		conv  int
		index int64
	}
	where := make(map[string][]at)
	for k, sid := range s.sids {
		for i, m := range stored[sid] {
			nStored++
			if m.Index != int64(i) {
				gapsStored++
			}
			where[*m.Body] = append(where[*m.Body], at{k, m.Index})
		}
	}
	known := 0
	for _, cl := range s.clients {
		cl.mu.Lock()
		for seq, r := range cl.sends {
			sent++
			ats := where[cl.id+"/"+strconv.Itoa(seq)]
			if len(ats) > 0 {
				known++
			}
			switch r.state {
			case sendAcked:
				acked++
				switch {
				case len(ats) == 0:
					lostAcked++
				case ats[0].conv != int(r.conv) || ats[0].index != int64(r.index):
					wrongIndex++
				}
			default:
				failed++
			}
		}
		for sid, t := range cl.seen {
			deliveredN += t.count
			expected += len(stored[sid])
			repeated += t.repeated
			skipped += t.skippedIdx
		}
		cl.mu.Unlock()
	}
	for _, ats := range where {
		dupStored += len(ats) - 1
	}
	unknown = len(where) - known
	fmt.Printf("  %-24s %8d\n", "sent", sent)
	fmt.Printf("  %-24s %8d\n", "acknowledged", acked)
	fmt.Printf("  %-24s %8d\n", "not acknowledged", failed)
	fmt.Printf("  %-24s %8d\n", "stored", nStored)
	fmt.Printf("  %-24s %8d (expected %d)\n", "delivered (messageAdded)", deliveredN, expected)
	fmt.Printf("  %-24s %8d stored, %d seen (repeated or out of order)\n", "duplicates", dupStored, repeated)
	fmt.Printf("  %-24s %8d stored, %d seen\n", "gaps", gapsStored, skipped)
	fmt.Printf("  %-24s %8d lost, %d wrong index, %d unknown stored\n", "acknowledged but", lostAcked, wrongIndex, unknown)
	ok := failed == 0 && nStored == acked && dupStored == 0 && gapsStored == 0 && lostAcked == 0 && wrongIndex == 0 &&
		unknown == 0 && deliveredN == expected && repeated == 0 && skipped == 0
	if !ok {
		fmt.Println("  messages: FAIL (something was lost, repeated, reordered or left unacknowledged)")
	}
	return ok
}

// writeHeapProfile writes the client process's heap profile, to see what grew.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
