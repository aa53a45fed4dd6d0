//go:build !js

package main

// The harness shared by the tests that run the real convod binary with many core clients
// chatting through trouble (crash_test.go, netfault_test.go): the server process, the
// clients and their records, and the final check that nothing was lost or repeated.

import (
	"bufio"
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
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/convo-sdk/convo/core"
	"github.com/convo-sdk/convo/server/auth"
	"github.com/convo-sdk/convo/wire"
)

// convodProc is one convod process at a time on a fixed address and data directory.
type convodProc struct {
	t          *testing.T
	bin, addr  string
	data, logs string
	env        []string
	flags      []string // besides --addr, --data and --log-level

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

// newConvodProc prepares a server with the API key given and extra flags; start runs it.
func newConvodProc(t *testing.T, key auth.Key, flags ...string) *convodProc {
	s := &convodProc{t: t, bin: buildConvod(t), addr: freeAddr(t), data: filepath.Join(t.TempDir(), "data"), flags: flags}
	s.logs = filepath.Join(filepath.Dir(s.data), "convod.log")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CONVO_") {
			s.env = append(s.env, kv)
		}
	}
	s.env = append(s.env, "CONVO_API_KEYS="+key.ID+":"+key.Secret)
	t.Cleanup(s.kill)
	return s
}

// start runs the server and waits until /healthz answers. A start that fails (the port
// still held, say) is retried a few times.
func (s *convodProc) start() error {
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

func (s *convodProc) tryStart() (bool, error) {
	logf, err := os.OpenFile(s.logs, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return false, err
	}
	defer logf.Close()
	args := append([]string{"--addr", s.addr, "--data", s.data, "--log-level", "warn"}, s.flags...)
	cmd := exec.Command(s.bin, args...)
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
func (s *convodProc) kill() {
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

// scrapeMetrics reads the server's /metrics (loopback may read it without credentials) and
// returns the samples by name, labels included. No keep-alive: an idle connection would
// count among the goroutines being measured.
func scrapeMetrics(ctx context.Context, addr string) (map[string]float64, error) {
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	req, err := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	res, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("/metrics: %s", res.Status)
	}
	out := make(map[string]float64)
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			out[line[:i]] = v
		}
	}
	return out, sc.Err()
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

// chatClient is one chatting user.
type chatClient struct {
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
	cl      *chatClient
	trigger *killTrigger // nil: no killer
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
	if err == nil && w.trigger != nil && w.trigger.armed.Load() && strings.Contains(string(frame), `"op":"`+wire.OpMessageSend+`"`) {
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

// Ping keeps the client's keep-alive on WebSocket pings (the wrapped Conn is native).
func (w *welcomeConn) Ping(ctx context.Context) error { return w.Conn.(core.Pinger).Ping(ctx) }

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

// chatHarness is a convod process and the users chatting on it.
type chatHarness struct {
	t     *testing.T
	ctx   context.Context // the whole test's
	key   auth.Key
	srv   *convodProc
	wsURL string
	logs  clientLog
	// opts are the options of every client; Dial and Logf are set per client.
	opts core.Options

	sids    []string
	clients []*chatClient
	members map[string][]*chatClient // by conversation sid
}

// newChatHarness starts convod with the flags given. When the test fails, the clients'
// diagnostics and the server's output are logged.
func newChatHarness(t *testing.T, ctx context.Context, flags ...string) *chatHarness {
	h := &chatHarness{t: t, ctx: ctx, key: auth.NewKey("chat"), members: make(map[string][]*chatClient),
		opts: core.Options{BackoffMin: 20 * time.Millisecond, BackoffMax: 300 * time.Millisecond}}
	h.srv = newConvodProc(t, h.key, flags...)
	if err := h.srv.start(); err != nil {
		t.Fatal(err)
	}
	h.wsURL = "ws://" + h.srv.addr + "/v1/ws"
	t.Cleanup(func() {
		if t.Failed() {
			h.logs.mu.Lock()
			defer h.logs.mu.Unlock()
			lines := h.logs.lines
			if len(lines) > 300 {
				lines = lines[len(lines)-300:]
			}
			t.Logf("client diagnostics (last %d):\n%s", len(lines), strings.Join(lines, "\n"))
			out, _ := os.ReadFile(h.srv.logs)
			t.Logf("convod output:\n%s", out)
		}
	})
	return h
}

// newCoreClient connects a client (through dial, when given) and waits until it is
// initialised; the test's cleanup shuts it down.
func (h *chatHarness) newCoreClient(identity string, dial core.DialFunc) *core.Client {
	t := h.t
	tok, err := auth.Mint(h.key, identity, time.Hour, h.wsURL)
	if err != nil {
		t.Fatal(err)
	}
	opts := h.opts
	opts.Dial, opts.Logf = dial, h.logs.logf(identity)
	c := core.New(tok, &opts)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = c.Shutdown(ctx)
	})
	ctx, cancel := context.WithTimeout(h.ctx, 15*time.Second)
	defer cancel()
	if err := c.WaitInitialized(ctx); err != nil {
		t.Fatalf("%s: initialise: %v", identity, err)
	}
	return c
}

// setup has the auditor create the conversations and join them all; then every client
// joins one or two before anything is sent, so each should see every message of its own.
// via, when set, gives client i's way to the server; the harness counts its welcomes and
// tells trigger (if any) about its sends.
func (h *chatHarness) setup(clients, conversations int, trigger *killTrigger, via func(i int) core.DialFunc) {
	t := h.t
	ctx, cancel := context.WithTimeout(h.ctx, 30*time.Second)
	defer cancel()
	auditor := h.newCoreClient("auditor", nil)
	h.sids = make([]string, conversations)
	for i := range h.sids {
		conv, err := auditor.CreateConversation(ctx, core.CreateConversationOptions{FriendlyName: fmt.Sprintf("room %d", i)})
		if err != nil {
			t.Fatal(err)
		}
		if err := conv.Join(ctx); err != nil {
			t.Fatal(err)
		}
		h.sids[i] = conv.Sid()
	}
	_ = auditor.Shutdown(ctx)
	h.clients = make([]*chatClient, clients)
	for i := range h.clients {
		cl := &chatClient{id: fmt.Sprintf("u%02d", i), seen: make(map[string][]seenMessage)}
		dialer := core.DialWebSocket
		if via != nil {
			dialer = via(i)
		}
		dial := func(ctx context.Context, url string) (core.Conn, error) {
			conn, err := dialer(ctx, url)
			if err != nil {
				return nil, err
			}
			return &welcomeConn{Conn: conn, cl: cl, trigger: trigger}, nil
		}
		cl.c = h.newCoreClient(cl.id, dial)
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
		first := i % conversations
		mine := []int{first}
		if i%2 == 0 {
			mine = append(mine, (first+1+(i/4)%3)%conversations)
		}
		for _, k := range mine {
			conv, err := cl.c.PeekConversationBySid(ctx, h.sids[k])
			if err != nil {
				t.Fatal(err)
			}
			if err := conv.Join(ctx); err != nil {
				t.Fatal(err)
			}
			cl.convs = append(cl.convs, conv)
			h.members[h.sids[k]] = append(h.members[h.sids[k]], cl)
		}
		h.clients[i] = cl
	}
}

// send has each client send n messages ("ID/TAGnn") to its conversations, one every
// 150-750 ms; wait on the group for them to finish.
func (h *chatHarness) send(clients []*chatClient, n int, tag string) *sync.WaitGroup {
	var senders sync.WaitGroup
	for _, cl := range clients {
		senders.Add(1)
		go func() {
			defer senders.Done()
			for j := range n {
				select {
				case <-time.After(time.Duration(150+rand.IntN(600)) * time.Millisecond):
				case <-h.ctx.Done():
					return
				}
				conv := cl.convs[rand.IntN(len(cl.convs))]
				body := fmt.Sprintf("%s/%s%02d", cl.id, tag, j)
				ctx, cancel := context.WithTimeout(h.ctx, 15*time.Second)
				start := time.Now()
				idx, err := conv.SendMessage(ctx, body, nil)
				cancel()
				cl.mu.Lock()
				cl.sends = append(cl.sends, sendResult{conv: conv.Sid(), body: body, index: idx, err: err, start: start, end: time.Now()})
				cl.mu.Unlock()
			}
		}()
	}
	return &senders
}

// settle waits until the stored histories stop changing and every client has seen them,
// then returns them (read by the auditor through a direct connection).
func (h *chatHarness) settle(patience time.Duration) map[string][]*core.Message {
	t := h.t
	reader := h.newCoreClient("auditor", nil)
	readAll := func(ctx context.Context) (map[string][]*core.Message, error) {
		out := make(map[string][]*core.Message)
		for _, sid := range h.sids {
			conv, err := reader.GetConversationBySid(ctx, sid)
			if err != nil {
				return nil, err
			}
			anchor := int64(0)
			page, err := conv.GetMessages(ctx, wire.MaxPageSize, &anchor, core.Forward)
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
		for sid, ms := range h.members {
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
	deadline := time.Now().Add(patience)
	for prevTotal := -1; ; {
		ctx, cancel := context.WithTimeout(h.ctx, 10*time.Second)
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
		if time.Now().After(deadline) {
			t.Errorf("not settled after %v: some clients have not seen every stored message", patience)
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	_ = reader.Shutdown(h.ctx)
	return stored
}

// shutdownClients ends every chatting client.
func (h *chatHarness) shutdownClients() {
	for _, cl := range h.clients {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_ = cl.c.Shutdown(ctx)
		cancel()
	}
}

// chatCounts are the figures of a run; check fills them in.
type chatCounts struct {
	sent, acked, unacked, unackedStored, stored, delivered, expectedDelivered            int
	dupStored, dupSeen, gapsStored, gapsSeen, lostAcked, wrongIndex, unknown, outOfOrder int
	connects, resumes, resyncs                                                           int
	acrossFault, committedBeforeFault                                                    int
}

// check compares what was sent, acknowledged, stored and seen, and fails the test on any
// loss, duplicate, gap or reordering. faults are the moments the server or the network
// failed; a send in flight across one is counted.
func (h *chatHarness) check(stored map[string][]*core.Message, faults []time.Time) chatCounts {
	t := h.t
	var n chatCounts
	type storedAt struct {
		conv  string
		index int64
		date  time.Time
	}
	where := make(map[string][]storedAt) // body -> where it is stored
	for _, sid := range h.sids {
		for i, m := range stored[sid] {
			n.stored++
			if m.Index() != int64(i) {
				n.gapsStored++
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
			n.dupStored += len(at) - 1
			t.Errorf("message %q stored %d times: %v", body, len(at), at)
		}
	}
	sentBodies := make(map[string]bool)
	for _, cl := range h.clients {
		cl.mu.Lock()
		sends := slices.Clone(cl.sends)
		cl.mu.Unlock()
		for _, s := range sends {
			n.sent++
			for _, k := range faults {
				if s.start.Before(k) && s.end.After(k) {
					n.acrossFault++
					if at := where[s.body]; len(at) > 0 && at[0].date.Before(k) {
						n.committedBeforeFault++ // stored, then the reply was lost; the retry was deduplicated
					}
					break
				}
			}
			sentBodies[s.body] = true
			at := where[s.body]
			if s.err != nil {
				n.unacked++
				if len(at) > 0 {
					n.unackedStored++
				}
				continue
			}
			n.acked++
			switch {
			case len(at) == 0:
				n.lostAcked++
				t.Errorf("%s: acknowledged send %q (index %d in %s) is not stored", cl.id, s.body, s.index, s.conv)
			case at[0].conv != s.conv || at[0].index != s.index:
				n.wrongIndex++
				t.Errorf("%s: send %q was acknowledged as index %d of %s but is stored as %v", cl.id, s.body, s.index, s.conv, at)
			}
		}
		n.connects += int(cl.connects.Load())
		n.resumes += int(cl.resumed.Load())
		n.resyncs += int(cl.fresh.Load())
	}
	for body := range where {
		if !sentBodies[body] {
			n.unknown++
			t.Errorf("stored message %q was never sent", body)
		}
	}
	for _, sid := range h.sids {
		want := stored[sid]
		for _, cl := range h.members[sid] {
			n.expectedDelivered += len(want)
			cl.mu.Lock()
			got := slices.Clone(cl.seen[sid])
			cl.mu.Unlock()
			n.delivered += len(got)
			seenIdx := make(map[int64]int)
			for i, m := range got {
				seenIdx[m.index]++
				if i > 0 && m.index <= got[i-1].index {
					n.outOfOrder++
				}
			}
			for idx, k := range seenIdx {
				if k > 1 {
					n.dupSeen += k - 1
					t.Errorf("%s saw index %d of %s %d times", cl.id, idx, sid, k)
				}
			}
			var missing []string
			for _, m := range want {
				if seenIdx[m.Index()] == 0 {
					missing = append(missing, fmt.Sprintf("%d (%s)", m.Index(), *m.Body()))
				}
			}
			n.gapsSeen += len(missing)
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
	if n.outOfOrder > 0 {
		t.Errorf("%d messageAdded events came out of index order", n.outOfOrder)
	}
	return n
}

// log prints the figures; fault names what the fault moments were ("kill", "fault").
func (n chatCounts) log(t *testing.T, fault string) {
	t.Helper()
	t.Logf("  %-28s %6d", "sent", n.sent)
	t.Logf("  %-28s %6d (%d of them pending across a %s, %d of those stored before it)", "acknowledged", n.acked, n.acrossFault, fault, n.committedBeforeFault)
	t.Logf("  %-28s %6d (%d of them stored)", "not acknowledged", n.unacked, n.unackedStored)
	t.Logf("  %-28s %6d", "stored", n.stored)
	t.Logf("  %-28s %6d (expected %d)", "delivered (messageAdded)", n.delivered, n.expectedDelivered)
	t.Logf("  %-28s %6d stored, %d seen", "duplicates", n.dupStored, n.dupSeen)
	t.Logf("  %-28s %6d stored, %d seen", "gaps", n.gapsStored, n.gapsSeen)
	t.Logf("  %-28s %6d lost, %d wrong index, %d unknown stored", "acknowledged but", n.lostAcked, n.wrongIndex, n.unknown)
	t.Logf("  %-28s %6d connects, %d resumed, %d resynced", "reconnects", n.connects, n.resumes, n.resyncs)
}
