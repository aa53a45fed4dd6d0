//go:build !js

package main

// TestCrashSafety runs the real convod binary, kills it with SIGKILL at random moments while
// 20 core clients chat, restarts it on the same data directory and address, and then checks
// that no acknowledged message was lost, nothing was stored twice, and every client saw every
// message of its conversations exactly once, in index order (live, after resume or after
// resync).

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/convo-sdk/convo/core"
	"github.com/convo-sdk/convo/core/wire"
	"github.com/convo-sdk/convo/server/auth"
)

const (
	crashClients       = 20
	crashConversations = 4
	crashSendsEach     = 15
	crashKills         = 6
	// A small retention makes some reconnects resynchronise instead of resuming.
	crashRetention = 2
)

// crashServer is one convod process at a time on a fixed address and data directory.
type crashServer struct {
	t          *testing.T
	bin, addr  string
	data, logs string
	env        []string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	starts int
}

func buildConvod(t *testing.T) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build convod with")
	}
	bin := filepath.Join(t.TempDir(), "convod")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, gobin, "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build convod: %v\n%s", err, out)
	}
	return bin
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// start runs the server and waits until /healthz answers. A start that fails (the port
// still held, say) is retried a few times.
func (s *crashServer) start() error {
	for attempt := 0; attempt < 5; attempt++ {
		ok, err := s.tryStart()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("convod did not start on %s (its output is in %s)", s.addr, s.logs)
}

func (s *crashServer) tryStart() (bool, error) {
	logf, err := os.OpenFile(s.logs, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return false, err
	}
	defer logf.Close()
	cmd := exec.Command(s.bin, "--addr", s.addr, "--data", s.data, "--retention", fmt.Sprint(crashRetention),
		"--log-level", "warn", "--metrics=false")
	cmd.Env = s.env
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return false, fmt.Errorf("start convod: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	s.mu.Lock()
	s.cmd, s.exited = cmd, exited
	s.starts++
	s.mu.Unlock()
	hc := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return false, nil
		default:
		}
		res, err := hc.Get("http://" + s.addr + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return true, nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.kill()
	return false, nil
}

// kill sends SIGKILL and waits for the process to be gone.
func (s *crashServer) kill() {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		s.t.Errorf("convod (pid %d) did not die after SIGKILL", cmd.Process.Pid)
	}
}

// sendResult is the outcome of one SendMessage as its caller saw it.
type sendResult struct {
	conv, body string
	index      int64
	err        error
	start, end time.Time
}

// seenMessage is one messageAdded a client emitted.
type seenMessage struct {
	index int64
	body  string
}

// crashClient is one chatting user.
type crashClient struct {
	id    string
	c     *core.Client
	convs []*core.Conversation

	mu    sync.Mutex
	seen  map[string][]seenMessage // by conversation sid, in emission order
	sends []sendResult

	connects, resumed, fresh atomic.Int32 // welcomes: all, resumed, not resumed after the first
}

// welcomeConn watches the first frame of a connection to count resumes and resyncs, and
// tells an armed killer when a message send has just been written.
type welcomeConn struct {
	core.Conn
	cl      *crashClient
	trigger *killTrigger
	seen    bool
}

// killTrigger lets the killer strike right after a client wrote a send, when the server is
// most likely between receiving it, committing it and replying.
type killTrigger struct {
	armed atomic.Bool
	fire  chan struct{}
}

func (w *welcomeConn) Write(ctx context.Context, frame []byte) error {
	err := w.Conn.Write(ctx, frame)
	if err == nil && w.trigger.armed.Load() && strings.Contains(string(frame), `"op":"`+wire.OpMessageSend+`"`) {
		if w.trigger.armed.CompareAndSwap(true, false) {
			w.trigger.fire <- struct{}{} // buffered, and only one arming at a time
		}
	}
	return err
}

func (w *welcomeConn) Read(ctx context.Context) ([]byte, error) {
	b, err := w.Conn.Read(ctx)
	if err == nil && !w.seen {
		w.seen = true
		if f, derr := wire.Decode(b); derr == nil && f.Type == wire.TypeWelcome {
			var wd wire.WelcomeData
			if json.Unmarshal(f.Data, &wd) == nil {
				switch n := w.cl.connects.Add(1); {
				case wd.Resumed:
					w.cl.resumed.Add(1)
				case n > 1:
					w.cl.fresh.Add(1)
				}
			}
		}
	}
	return b, err
}

// clientLog keeps the clients' diagnostics, shown only when the test fails.
type clientLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *clientLog) logf(who string) func(string, ...any) {
	return func(format string, args ...any) {
		l.mu.Lock()
		defer l.mu.Unlock()
		if len(l.lines) < 5000 {
			l.lines = append(l.lines, time.Now().Format("15:04:05.000 ")+who+": "+fmt.Sprintf(format, args...))
		}
	}
}

func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills the server binary repeatedly; skipped with -short")
	}
	began := time.Now()
	testCtx, cancelAll := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancelAll()

	key := auth.NewKey("crash")
	srv := &crashServer{t: t, bin: buildConvod(t), addr: freeAddr(t), data: filepath.Join(t.TempDir(), "data")}
	srv.logs = filepath.Join(filepath.Dir(srv.data), "convod.log")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CONVO_") {
			srv.env = append(srv.env, kv)
		}
	}
	srv.env = append(srv.env, "CONVO_API_KEYS="+key.ID+":"+key.Secret)
	t.Cleanup(srv.kill)
	if err := srv.start(); err != nil {
		t.Fatal(err)
	}
	wsURL := "ws://" + srv.addr + "/v1/ws"

	var logs clientLog
	t.Cleanup(func() {
		if t.Failed() {
			logs.mu.Lock()
			defer logs.mu.Unlock()
			lines := logs.lines
			if len(lines) > 300 {
				lines = lines[len(lines)-300:]
			}
			t.Logf("client diagnostics (last %d):\n%s", len(lines), strings.Join(lines, "\n"))
			out, _ := os.ReadFile(srv.logs)
			t.Logf("convod output:\n%s", out)
		}
	})
	newCoreClient := func(identity string, dial core.DialFunc) *core.Client {
		tok, err := auth.Mint(key, identity, time.Hour, wsURL)
		if err != nil {
			t.Fatal(err)
		}
		c := core.New(tok, &core.Options{BackoffMin: 20 * time.Millisecond, BackoffMax: 300 * time.Millisecond,
			Dial: dial, Logf: logs.logf(identity)})
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = c.Shutdown(ctx)
		})
		ctx, cancel := context.WithTimeout(testCtx, 15*time.Second)
		defer cancel()
		if err := c.WaitInitialized(ctx); err != nil {
			t.Fatalf("%s: initialise: %v", identity, err)
		}
		return c
	}

	// Setup: the auditor creates the conversations and joins them all; every client joins
	// one or two before anything is sent, so each should see every message of its own.
	setupCtx, cancelSetup := context.WithTimeout(testCtx, 30*time.Second)
	defer cancelSetup()
	auditor := newCoreClient("auditor", nil)
	sids := make([]string, crashConversations)
	for i := range sids {
		conv, err := auditor.CreateConversation(setupCtx, core.CreateConversationOptions{FriendlyName: fmt.Sprintf("room %d", i)})
		if err != nil {
			t.Fatal(err)
		}
		if err := conv.Join(setupCtx); err != nil {
			t.Fatal(err)
		}
		sids[i] = conv.Sid()
	}
	_ = auditor.Shutdown(setupCtx)
	trigger := &killTrigger{fire: make(chan struct{}, 1)}
	members := make(map[string][]*crashClient) // by conversation sid
	clients := make([]*crashClient, crashClients)
	for i := range clients {
		cl := &crashClient{id: fmt.Sprintf("u%02d", i), seen: make(map[string][]seenMessage)}
		dial := func(ctx context.Context, url string) (core.Conn, error) {
			conn, err := core.DialWebSocket(ctx, url)
			if err != nil {
				return nil, err
			}
			return &welcomeConn{Conn: conn, cl: cl, trigger: trigger}, nil
		}
		cl.c = newCoreClient(cl.id, dial)
		cl.c.OnMessageAdded(func(m *core.Message) {
			body := ""
			if b := m.Body(); b != nil {
				body = *b
			}
			cl.mu.Lock()
			sid := m.Conversation().Sid()
			cl.seen[sid] = append(cl.seen[sid], seenMessage{index: m.Index(), body: body})
			cl.mu.Unlock()
		})
		first := i % crashConversations
		mine := []int{first}
		if i%2 == 0 {
			mine = append(mine, (first+1+(i/4)%3)%crashConversations)
		}
		for _, k := range mine {
			conv, err := cl.c.PeekConversationBySid(setupCtx, sids[k])
			if err != nil {
				t.Fatal(err)
			}
			if err := conv.Join(setupCtx); err != nil {
				t.Fatal(err)
			}
			cl.convs = append(cl.convs, conv)
			members[sids[k]] = append(members[sids[k]], cl)
		}
		clients[i] = cl
	}
	t.Logf("setup done in %v: %d clients, %d conversations", time.Since(began).Round(time.Millisecond), crashClients, crashConversations)

	// Chat while the killer kills.
	chatStart := time.Now()
	var senders sync.WaitGroup
	for _, cl := range clients {
		senders.Add(1)
		go func() {
			defer senders.Done()
			for j := range crashSendsEach {
				select {
				case <-time.After(time.Duration(150+rand.IntN(600)) * time.Millisecond):
				case <-testCtx.Done():
					return
				}
				conv := cl.convs[rand.IntN(len(cl.convs))]
				body := fmt.Sprintf("%s/%02d", cl.id, j)
				ctx, cancel := context.WithTimeout(testCtx, 15*time.Second)
				start := time.Now()
				idx, err := conv.SendMessage(ctx, body, nil)
				cancel()
				cl.mu.Lock()
				cl.sends = append(cl.sends, sendResult{conv: conv.Sid(), body: body, index: idx, err: err, start: start, end: time.Now()})
				cl.mu.Unlock()
			}
		}()
	}
	var killer sync.WaitGroup
	var kills atomic.Int32
	var (
		downtime  time.Duration
		killTimes []time.Time
		triggered int // kills made right after a send was written
	)
	killer.Add(1)
	go func() {
		defer killer.Done()
		for range crashKills {
			select {
			case <-time.After(time.Duration(400+rand.IntN(800)) * time.Millisecond):
			case <-testCtx.Done():
				return
			}
			// Mostly right after a send was written (plus 0-3 ms), else at once.
			if rand.IntN(4) > 0 {
				trigger.armed.Store(true)
				select {
				case <-trigger.fire:
					triggered++
					time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
				case <-time.After(500 * time.Millisecond):
					if !trigger.armed.CompareAndSwap(true, false) {
						<-trigger.fire // it fired just now
						triggered++
					}
				}
			}
			down := time.Now()
			killTimes = append(killTimes, down)
			srv.kill()
			kills.Add(1)
			time.Sleep(time.Duration(50+rand.IntN(350)) * time.Millisecond)
			if err := srv.start(); err != nil {
				t.Errorf("restart %d: %v", kills.Load(), err)
				cancelAll() // ends the senders
				return
			}
			downtime += time.Since(down)
		}
	}()
	killer.Wait()
	killsDone := time.Since(chatStart)
	senders.Wait()
	sendsDone := time.Since(chatStart)

	// Settle: wait until the stored histories stop changing and every client has seen them.
	reader := newCoreClient("auditor", nil)
	readAll := func(ctx context.Context) (map[string][]*core.Message, error) {
		out := make(map[string][]*core.Message)
		for _, sid := range sids {
			conv, err := reader.GetConversationBySid(ctx, sid)
			if err != nil {
				return nil, err
			}
			anchor := int64(0)
			page, err := conv.GetMessages(ctx, wire.MaxPageSize, &anchor, wire.Forward)
			for pages := 0; err == nil; pages++ {
				out[sid] = append(out[sid], page.Items...)
				if !page.HasNextPage || pages > 100 {
					break
				}
				page, err = page.NextPage(ctx)
			}
			if err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	settled := func(stored map[string][]*core.Message) bool {
		for sid, ms := range members {
			for _, cl := range ms {
				cl.mu.Lock()
				n := len(cl.seen[sid])
				cl.mu.Unlock()
				if n < len(stored[sid]) {
					return false
				}
			}
		}
		return true
	}
	var stored map[string][]*core.Message
	settleDeadline := time.Now().Add(30 * time.Second)
	for prevTotal := -1; ; {
		ctx, cancel := context.WithTimeout(testCtx, 10*time.Second)
		got, err := readAll(ctx)
		cancel()
		if err != nil {
			t.Fatalf("reading the histories: %v", err)
		}
		total := 0
		for _, ms := range got {
			total += len(ms)
		}
		stored = got
		if total == prevTotal && settled(got) {
			break
		}
		prevTotal = total
		if time.Now().After(settleDeadline) {
			t.Errorf("not settled after 30 s: some clients have not seen every stored message")
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	settleTime := time.Since(chatStart) - sendsDone
	for _, cl := range clients {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_ = cl.c.Shutdown(ctx)
		cancel()
	}

	// Check.
	type storedAt struct {
		conv  string
		index int64
		date  time.Time
	}
	var (
		sent, acked, unacked, unackedStored, storedTotal, delivered, expectedDelivered       int
		dupStored, dupSeen, gapsStored, gapsSeen, lostAcked, wrongIndex, unknown, outOfOrder int
		resumes, resyncs, connects, acrossKill, committedBeforeKill                          int
	)
	where := make(map[string][]storedAt) // body -> where it is stored
	for _, sid := range sids {
		for i, m := range stored[sid] {
			storedTotal++
			if m.Index() != int64(i) {
				gapsStored++
				t.Errorf("conversation %s: position %d holds index %d (expected %d)", sid, i, m.Index(), i)
			}
			body := ""
			if b := m.Body(); b != nil {
				body = *b
			}
			where[body] = append(where[body], storedAt{sid, m.Index(), m.DateCreated()})
		}
	}
	for body, at := range where {
		if len(at) > 1 {
			dupStored += len(at) - 1
			t.Errorf("message %q stored %d times: %v", body, len(at), at)
		}
	}
	sentBodies := make(map[string]bool)
	for _, cl := range clients {
		for _, s := range cl.sends {
			sent++
			for _, k := range killTimes {
				if s.start.Before(k) && s.end.After(k) {
					acrossKill++
					if at := where[s.body]; len(at) > 0 && at[0].date.Before(k) {
						committedBeforeKill++ // the server stored it, died before replying; the retry was deduplicated
					}
					break
				}
			}
			sentBodies[s.body] = true
			at := where[s.body]
			if s.err != nil {
				unacked++
				if len(at) > 0 {
					unackedStored++
				}
				continue
			}
			acked++
			switch {
			case len(at) == 0:
				lostAcked++
				t.Errorf("%s: acknowledged send %q (index %d in %s) is not stored", cl.id, s.body, s.index, s.conv)
			case at[0].conv != s.conv || at[0].index != s.index:
				wrongIndex++
				t.Errorf("%s: send %q was acknowledged as index %d of %s but is stored as %v", cl.id, s.body, s.index, s.conv, at)
			}
		}
		connects += int(cl.connects.Load())
		resumes += int(cl.resumed.Load())
		resyncs += int(cl.fresh.Load())
	}
	for body := range where {
		if !sentBodies[body] {
			unknown++
			t.Errorf("stored message %q was never sent", body)
		}
	}
	for _, sid := range sids {
		want := stored[sid]
		for _, cl := range members[sid] {
			expectedDelivered += len(want)
			cl.mu.Lock()
			got := slices.Clone(cl.seen[sid])
			cl.mu.Unlock()
			delivered += len(got)
			seenIdx := make(map[int64]int)
			for i, m := range got {
				seenIdx[m.index]++
				if i > 0 && m.index <= got[i-1].index {
					outOfOrder++
				}
			}
			for idx, n := range seenIdx {
				if n > 1 {
					dupSeen += n - 1
					t.Errorf("%s saw index %d of %s %d times", cl.id, idx, sid, n)
				}
			}
			var missing []string
			for _, m := range want {
				if seenIdx[m.Index()] == 0 {
					missing = append(missing, fmt.Sprintf("%d (%s)", m.Index(), *m.Body()))
				}
			}
			gapsSeen += len(missing)
			if len(missing) > 0 {
				t.Errorf("%s never saw indexes %v of %s (saw %d of %d)", cl.id, missing, sid, len(got), len(want))
			}
			for i := 1; i < len(got); i++ {
				if got[i].index <= got[i-1].index {
					t.Errorf("%s saw index %d of %s after index %d", cl.id, got[i].index, sid, got[i-1].index)
				}
			}
			for _, m := range got {
				if m.index < 0 || m.index >= int64(len(want)) {
					t.Errorf("%s saw index %d of %s, which is not stored", cl.id, m.index, sid)
				} else if b := want[m.index].Body(); b == nil || *b != m.body {
					t.Errorf("%s saw index %d of %s as %q, stored differently", cl.id, m.index, sid, m.body)
				}
			}
		}
	}
	if outOfOrder > 0 {
		t.Errorf("%d messageAdded events came out of index order", outOfOrder)
	}
	if int(kills.Load()) < 5 {
		t.Errorf("only %d kills", kills.Load())
	}

	t.Logf("crash test: %d kills (%d right after a send was written; downtime %v in all), %d server starts; kills done at %v, sends done at %v, settled %v later; total %v",
		kills.Load(), triggered, downtime.Round(time.Millisecond), srv.starts, killsDone.Round(time.Millisecond),
		sendsDone.Round(time.Millisecond), settleTime.Round(time.Millisecond), time.Since(began).Round(time.Millisecond))
	t.Logf("  %-28s %6d", "sent", sent)
	t.Logf("  %-28s %6d (%d of them pending across a kill, %d of those stored before it)", "acknowledged", acked, acrossKill, committedBeforeKill)
	t.Logf("  %-28s %6d (%d of them stored)", "not acknowledged", unacked, unackedStored)
	t.Logf("  %-28s %6d", "stored", storedTotal)
	t.Logf("  %-28s %6d (expected %d)", "delivered (messageAdded)", delivered, expectedDelivered)
	t.Logf("  %-28s %6d stored, %d seen", "duplicates", dupStored, dupSeen)
	t.Logf("  %-28s %6d stored, %d seen", "gaps", gapsStored, gapsSeen)
	t.Logf("  %-28s %6d lost, %d wrong index, %d unknown stored", "acknowledged but", lostAcked, wrongIndex, unknown)
	t.Logf("  %-28s %6d connects, %d resumed, %d resynced", "reconnects", connects, resumes, resyncs)
}
