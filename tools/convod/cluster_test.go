//go:build !js

package main

// Scale-out with real processes: three convod nodes sharing one throwaway PostgreSQL
// (internal/pgtest), one NATS server (internal/natstest, in this process) and one data
// folder (the media key), each on its own loopback port, with core clients spread across
// them. The checks are the crash test's (harness_test.go): every acknowledged message
// stored once, every member sees every message of its conversations once and in index
// order.
//
// Failover: each client dials through a short list of the nodes, its home node first, as a
// load balancer would send a reconnect to a node that is up. A Dial option needs no extra
// process or proxy goroutines, and the token's URL stays the one the client was given.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/convo-sdk/convo/core"
	"github.com/convo-sdk/convo/internal/natstest"
	"github.com/convo-sdk/convo/internal/pgtest"
	"github.com/convo-sdk/convo/server/auth"
	"github.com/convo-sdk/convo/wire"
)

// cluster is N convod nodes on one PostgreSQL and one NATS, and the chat harness whose
// clients use them. The harness's auditor (setup, settle) uses node 0.
type cluster struct {
	t     *testing.T
	pg    *pgtest.Server
	nats  *natstest.Server
	nodes []*convodProc
	h     *chatHarness

	// per client (by index in h.clients once set up): the node of its latest connection
	// and the "unavailable" replies it received.
	mu          sync.Mutex
	lastNode    map[int]int
	unavailable atomic.Int32
}

func newCluster(t *testing.T, ctx context.Context, n int, flags ...string) *cluster {
	pg := pgtest.StartT(t) // skips when PostgreSQL is missing, unless CONVO_REQUIRE_POSTGRES=1
	c := &cluster{t: t, pg: pg, nats: natstest.StartT(t), lastNode: make(map[int]int)}
	key := auth.NewKey("chat")
	bin := buildConvod(t)
	dir := t.TempDir()
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CONVO_") {
			env = append(env, kv)
		}
	}
	env = append(env, "CONVO_API_KEYS="+key.ID+":"+key.Secret)
	for i := range n {
		p := &convodProc{t: t, bin: bin, addr: freeAddr(t), data: filepath.Join(dir, "data"),
			logs: filepath.Join(dir, fmt.Sprintf("node%d.log", i)), env: env,
			flags: append([]string{"--store", pg.DSN(), "--bus", c.nats.URL(), "--metrics=false"}, flags...)}
		t.Cleanup(p.kill)
		c.nodes = append(c.nodes, p)
	}
	// Together: they race to migrate the schema and to create the media key.
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i, p := range c.nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = p.start()
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("node %d: %v", i, err)
		}
	}
	c.h = &chatHarness{t: t, ctx: ctx, key: key, srv: c.nodes[0], wsURL: c.url(0), members: make(map[string][]*chatClient),
		opts: core.Options{BackoffMin: 20 * time.Millisecond, BackoffMax: 300 * time.Millisecond}}
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		c.h.logs.mu.Lock()
		lines := c.h.logs.lines
		if len(lines) > 300 {
			lines = lines[len(lines)-300:]
		}
		t.Logf("client diagnostics (last %d):\n%s", len(lines), strings.Join(lines, "\n"))
		c.h.logs.mu.Unlock()
		for i, p := range c.nodes {
			out, _ := os.ReadFile(p.logs)
			t.Logf("node %d output:\n%s", i, out)
		}
	})
	return c
}

func (c *cluster) url(node int) string { return "ws://" + c.nodes[node].addr + "/v1/ws" }

// dialVia connects to the home node, else the next ones in turn, and counts the replies
// that say the database is unavailable.
func (c *cluster) dialVia(client, home int) core.DialFunc {
	return func(ctx context.Context, _ string) (core.Conn, error) {
		var err error
		for k := range c.nodes {
			node := (home + k) % len(c.nodes)
			var conn core.Conn
			if conn, err = core.DialWebSocket(ctx, c.url(node)); err == nil {
				c.mu.Lock()
				c.lastNode[client] = node
				c.mu.Unlock()
				return &unavailableCounter{Conn: conn, n: &c.unavailable}, nil
			}
		}
		return nil, err
	}
}

// unavailableCounter counts replies with the code for "unavailable".
type unavailableCounter struct {
	core.Conn
	n *atomic.Int32
}

var unavailableCode = fmt.Sprintf(`"code":%d`, wire.CodeUnavailable)

func (u *unavailableCounter) Read(ctx context.Context) ([]byte, error) {
	b, err := u.Conn.Read(ctx)
	if err == nil && strings.Contains(string(b), unavailableCode) {
		u.n.Add(1)
	}
	return b, err
}

func (u *unavailableCounter) Ping(ctx context.Context) error { return u.Conn.(core.Pinger).Ping(ctx) }

// setup spreads the clients over the nodes round-robin. The harness wants 4 or more
// conversations (a client joins its first and one of the next three).
func (c *cluster) setup(clients, conversations int) {
	c.h.setup(clients, conversations, nil, func(i int) core.DialFunc { return c.dialVia(i, i%len(c.nodes)) })
}

// finish waits for the senders, settles, checks and logs the counts; every send must have
// been acknowledged.
func (c *cluster) finish(senders *sync.WaitGroup, faults []time.Time, fault string) chatCounts {
	senders.Wait()
	stored := c.h.settle(20 * time.Second)
	c.h.shutdownClients()
	n := c.h.check(stored, faults)
	n.log(c.t, fault)
	if n.unacked > 0 {
		c.t.Errorf("%d sends were not acknowledged; the cluster should have taken them all", n.unacked)
	}
	if n.sent == 0 || n.delivered == 0 {
		c.t.Errorf("nothing was sent or delivered")
	}
	return n
}

func TestClusterDeliversAcrossNodesAndKeepsPresence(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three server binaries on PostgreSQL and NATS; skipped with -short")
	}
	began := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := newCluster(t, ctx, 3)
	c.setup(12, 4)
	n := c.finish(c.h.send(c.h.clients, 8, ""), nil, "fault")
	if n.connects != len(c.h.clients) {
		t.Errorf("%d connects for %d clients: nothing failed, nobody should have reconnected", n.connects, len(c.h.clients))
	}

	// Presence: alice on nodes 0 and 1, watched from node 2, is online once and goes
	// offline only when her last connection does.
	dialTo := func(node int) core.DialFunc {
		return func(ctx context.Context, _ string) (core.Conn, error) { return core.DialWebSocket(ctx, c.url(node)) }
	}
	a0 := c.h.newCoreClient("alice", dialTo(0))
	watcher := c.h.newCoreClient("watcher", dialTo(2))
	u, err := watcher.GetUser(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if !u.IsOnline() {
		t.Fatal("alice, connected to node 0, is not online as seen from node 2")
	}
	var (
		mu          sync.Mutex
		transitions []bool
	)
	u.OnUpdated(func(upd core.UserUpdate) {
		if strings.Contains(strings.Join(upd.UpdateReasons, ","), wire.ReasonReachabilityOnline) {
			mu.Lock()
			transitions = append(transitions, u.IsOnline())
			mu.Unlock()
		}
	})
	got := func() []bool {
		mu.Lock()
		defer mu.Unlock()
		return append([]bool(nil), transitions...)
	}
	a1 := c.h.newCoreClient("alice", dialTo(1))
	shutdown := func(cl *core.Client) {
		sctx, scancel := context.WithTimeout(ctx, 10*time.Second)
		defer scancel()
		_ = cl.Shutdown(sctx)
	}
	shutdown(a0)
	time.Sleep(time.Second) // time for a wrong "offline" to arrive
	if tr := got(); len(tr) != 0 || !u.IsOnline() {
		t.Errorf("alice still on node 1 after leaving node 0: online %v, reachability changes %v", u.IsOnline(), tr)
	}
	left := time.Now()
	shutdown(a1)
	for u.IsOnline() && time.Since(left) < 10*time.Second {
		time.Sleep(20 * time.Millisecond)
	}
	if tr := got(); len(tr) != 1 || tr[0] {
		t.Errorf("after alice left both nodes: reachability changes %v, want one to offline", tr)
	}
	t.Logf("cluster delivery: 3 nodes, %d clients; presence: offline seen %v after the last connection closed; total %v",
		len(c.h.clients), time.Since(left).Round(time.Millisecond), time.Since(began).Round(time.Millisecond))
}

func TestClusterNodeKilledUnderTraffic(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three server binaries on PostgreSQL and NATS; skipped with -short")
	}
	began := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := newCluster(t, ctx, 3)
	c.setup(15, 4)
	senders := c.h.send(c.h.clients, 12, "")
	time.Sleep(2 * time.Second)
	killed := time.Now()
	c.nodes[1].kill()
	n := c.finish(senders, []time.Time{killed}, "kill")

	moved := 0
	c.mu.Lock()
	for i := range c.h.clients {
		if i%3 == 1 {
			if c.lastNode[i] == 1 {
				t.Errorf("client %d still on the killed node", i)
			} else {
				moved++
			}
		}
	}
	c.mu.Unlock()
	if n.resumes < moved {
		t.Errorf("%d clients moved off the killed node but only %d connections resumed", moved, n.resumes)
	}
	t.Logf("node killed: %d clients moved to surviving nodes; total %v", moved, time.Since(began).Round(time.Millisecond))
}

func TestClusterSurvivesDatabaseAndBusOutages(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three server binaries on PostgreSQL and NATS; skipped with -short")
	}
	began := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	c := newCluster(t, ctx, 3)
	c.setup(12, 4)
	senders := c.h.send(c.h.clients, 16, "")

	// PostgreSQL away for 3 s, then NATS away for 2 s, both under traffic.
	time.Sleep(1500 * time.Millisecond)
	dbDown := time.Now()
	c.pg.Halt()
	time.Sleep(3 * time.Second)
	if err := c.pg.Resume(); err != nil {
		t.Fatalf("PostgreSQL did not come back: %v", err)
	}
	dbOutage := time.Since(dbDown)
	time.Sleep(1500 * time.Millisecond)
	busDown := time.Now()
	c.nats.Shutdown()
	time.Sleep(2 * time.Second)
	if err := c.nats.Restart(); err != nil {
		t.Fatalf("NATS did not come back: %v", err)
	}
	n := c.finish(senders, []time.Time{dbDown, busDown}, "fault")
	if c.unavailable.Load() == 0 {
		t.Errorf("no client was told the database was unavailable during a %v outage", dbOutage.Round(time.Millisecond))
	}
	t.Logf("outages: PostgreSQL %v (%d \"unavailable\" replies, retried), NATS 2s; %d sends pending across one; total %v",
		dbOutage.Round(time.Millisecond), c.unavailable.Load(), n.acrossFault, time.Since(began).Round(time.Millisecond))
}
