package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/convo-sdk/convo/internal/natstest"
	"github.com/convo-sdk/convo/internal/pgtest"
)

// ServerFigures are the server's figures on this machine over loopback: the real convod
// binary as separate processes (see server_nodes.go), loaded by raw protocol clients in this
// process (server_client.go), with durable commits (SQLite, synchronous=FULL).
type ServerFigures struct {
	Nodes int    `json:"nodes"`
	Store string `json:"store"`
	Bus   string `json:"bus,omitempty"`
	// Limits says which of convod's limits were lifted for the load, and how.
	Limits     string             `json:"limits"`
	Throughput *ThroughputFigures `json:"throughput,omitempty"`
	Fanout     *FanoutFigures     `json:"fanout,omitempty"`
	Idle       *IdleFigures       `json:"idle,omitempty"`
	// Clusters are the same throughput and fan-out loads on PostgreSQL (durable commits):
	// one node as the anchor, then three nodes over NATS. Reported, not budgeted.
	Clusters []ClusterFigures `json:"clusters,omitempty"`
	// ClusterNote says why there are no cluster figures, when there are none.
	ClusterNote string `json:"clusterNote,omitempty"`
	// Centrifugo is the anchor: the same fan-out and idle loads against Centrifugo
	// (centrifugo.go); CentrifugoNote says why it is missing, when it is.
	Centrifugo     *CentrifugoFigures `json:"centrifugo,omitempty"`
	CentrifugoNote string             `json:"centrifugoNote,omitempty"`
}

// ClusterFigures are the loads against nodes sharing a store (and a bus).
type ClusterFigures struct {
	Nodes      int                `json:"nodes"`
	Store      string             `json:"store"`
	Bus        string             `json:"bus"`
	Throughput *ThroughputFigures `json:"throughput,omitempty"`
	Fanout     *FanoutFigures     `json:"fanout,omitempty"`
}

// ThroughputFigures: messages stored per second from many senders.
type ThroughputFigures struct {
	Senders        int     `json:"senders"`
	MembersPerConv int     `json:"membersPerConversation"`
	Window         int     `json:"window"` // requests in flight per sender
	Seconds        float64 `json:"seconds"`
	Acked          int64   `json:"acked"` // within the measured window
	MsgsPerSec     float64 `json:"msgsPerSec"`
	// MsgsPerCore is MsgsPerSec per core convod used: steadier than MsgsPerSec on a machine
	// shared with other work.
	MsgsPerCore float64 `json:"msgsPerServerCore"`
	AckP50Ms    float64 `json:"ackP50Ms"`
	AckP99Ms    float64 `json:"ackP99Ms"`
	// TotalAcked counts warm-up and the tail too; Stored is what the store holds after.
	TotalAcked int64        `json:"totalAcked"`
	Stored     int64        `json:"stored"`
	Errors     []ErrorCount `json:"errors,omitempty"`
	CPU        CPUUse       `json:"cpu"`
}

// FanoutFigures: deliveries of messageAdded to every member's connection.
type FanoutFigures struct {
	Connections   int          `json:"connections"`
	Conversations int          `json:"conversations"`
	Members       int          `json:"members"`
	Steps         []FanoutStep `json:"steps"`
	// Chosen is the step reported against the budgets: the highest rate that was sustained
	// within the latency budget (the first step when none was).
	Chosen int `json:"chosen"`
}

// FanoutStep is one offered rate of the fan-out load.
type FanoutStep struct {
	OfferedMsgsPerSec float64 `json:"offeredMsgsPerSec"`
	SentMsgsPerSec    float64 `json:"sentMsgsPerSec"`
	Seconds           float64 `json:"seconds"`
	Sent              int64   `json:"sent"`
	Expected          int64   `json:"expectedDeliveries"`
	Delivered         int64   `json:"delivered"`
	DeliveriesPerSec  float64 `json:"deliveriesPerSec"`
	DeliveriesPerCore float64 `json:"deliveriesPerServerCore"`
	// Latency from the send (the request written) to a member's receipt of messageAdded.
	P50Ms float64 `json:"p50Ms"`
	P99Ms float64 `json:"p99Ms"`
	MaxMs float64 `json:"maxMs"`
	// Skipped: sends the pacer could not hand to a sender still busy (the generator lagged).
	Skipped   int64  `json:"skipped"`
	Errors    int64  `json:"errors"`
	Sustained bool   `json:"sustained"`
	CPU       CPUUse `json:"cpu"`
}

// sustainedDeliveries is the deliveries a second st sustained: the offered rate when every
// send went out on time and every delivery arrived, else what was measured. The measured rate
// of such a step differs from the offered one only by the sends either side of the window's
// edges (one or two of 12,000 at 2,000 msg/s), which is not the server's doing.
func sustainedDeliveries(st FanoutStep, members int) float64 {
	if st.Sustained && st.Skipped == 0 && st.SentMsgsPerSec >= 0.999*st.OfferedMsgsPerSec {
		return max(st.DeliveriesPerSec, st.OfferedMsgsPerSec*float64(members))
	}
	return st.DeliveriesPerSec
}

// IdleFigures: memory of idle, welcomed connections.
type IdleFigures struct {
	Connections    int     `json:"connections"`
	ConnectSeconds float64 `json:"connectSeconds"`
	RSSBeforeMB    float64 `json:"rssBeforeMB"`
	RSSAfterMB     float64 `json:"rssAfterMB"`
	KBPerConn      float64 `json:"kbPerConnection"`
	// From the nodes' /metrics (Go runtime), per connection: where the memory is.
	HeapKBPerConn     float64 `json:"heapKBPerConnection,omitempty"`
	StackKBPerConn    float64 `json:"stackKBPerConnection,omitempty"`
	GoroutinesPerConn float64 `json:"goroutinesPerConnection,omitempty"`
}

// ErrorCount is how many replies failed with one error code.
type ErrorCount struct {
	Code  int `json:"code"`
	Count int `json:"count"`
}

// CPUUse is how many cores were busy during a measured window: the nodes, this process (the
// load generator) and everything else on the machine (other builds and tests share it).
type CPUUse struct {
	Server float64 `json:"server"`
	Load   float64 `json:"load"`
	Other  float64 `json:"other"`
}

// clusterSpec is what startNodes is given: how many nodes, and the shared store and bus
// that make several nodes one cluster (empty for one node with its own SQLite).
type clusterSpec struct {
	nodes      int
	store, bus string
}

// label names the setup in file names: "1-sqlite", "3-postgres".
func (s clusterSpec) label() string {
	kind := "sqlite"
	if strings.HasPrefix(s.store, "postgres") {
		kind = "postgres"
	}
	return fmt.Sprintf("%d-%s", s.nodes, kind)
}

// Budgets of issue 6 for the server.
const (
	throughputBudget = 2000  // messages stored a second, at least
	deliveryBudget   = 20000 // deliveries a second, at least
	fanoutP99Budget  = 50    // ms, below
	idleBudget       = 30    // KB per idle connection, at most (issue budget; goal 20)
)

func runServer(cfg config, r *Report) error {
	spec := clusterSpec{nodes: *serverNodes, store: *serverStore, bus: *serverBus}
	limit, err := raiseFileLimit()
	if err != nil {
		return fmt.Errorf("raising the open-file limit: %w", err)
	}
	conns := 10000
	if cfg.quick {
		conns = 1000
	}
	// The idle load holds both ends of every connection in this process's children and in
	// itself: each needs the descriptors.
	if limit < uint64(conns)+1000 {
		return fmt.Errorf("the open-file limit is %d; the idle load needs %d", limit, conns+1000)
	}
	bin, err := buildConvod(cfg)
	if err != nil {
		return err
	}
	f := &ServerFigures{Nodes: spec.nodes, Store: spec.store, Bus: spec.bus,
		Limits: "request rate: --request-rate 1000000 (effectively off)"}
	if f.Store == "" {
		f.Store = "sqlite (WAL, synchronous=FULL), one per node"
	}
	if convodFlags(bin)["conversation-write-rate"] {
		f.Limits += "; per-conversation writes: --conversation-write-rate -1 (off)"
	} else {
		f.Limits += "; per-conversation writes: convod has no flag, default 30/s stays (one sender per conversation in the throughput load)"
	}
	r.Server = f
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Minute)
	defer cancel()
	var errs []string
	loads := strings.Split(*serverLoads, ",")
	if slices.Contains(loads, "throughput") {
		fmt.Fprintln(os.Stderr, "benchreport: server: stored messages per second...")
		if f.Throughput, err = runThroughput(ctx, cfg, spec); err != nil {
			errs = append(errs, "throughput: "+err.Error())
		}
	}
	if t := f.Throughput; t != nil && t.Seconds > 0 {
		r.Budgets = append(r.Budgets, budget(fmt.Sprintf("server: messages stored/s, %d senders", t.Senders), t.MsgsPerSec, throughputBudget, "msg/s", true))
	}
	if slices.Contains(loads, "fanout") {
		fmt.Fprintln(os.Stderr, "benchreport: server: fan-out...")
		if f.Fanout, err = runFanout(ctx, cfg, spec); err != nil {
			errs = append(errs, "fan-out: "+err.Error())
		}
	}
	if fo := f.Fanout; fo != nil && len(fo.Steps) > 0 {
		st := fo.Steps[fo.Chosen]
		r.Budgets = append(r.Budgets,
			budget(fmt.Sprintf("server: deliveries/s, %d connections", fo.Connections), sustainedDeliveries(st, fo.Members), deliveryBudget, "/s", true),
			budget("server: fan-out latency p99 at that load", st.P99Ms, fanoutP99Budget, "ms", false))
	}
	if slices.Contains(loads, "idle") {
		fmt.Fprintln(os.Stderr, "benchreport: server: idle connections...")
		if f.Idle, err = runIdle(ctx, cfg, spec); err != nil {
			errs = append(errs, "idle: "+err.Error())
		}
	}
	if id := f.Idle; id != nil && id.KBPerConn > 0 {
		r.Budgets = append(r.Budgets, budget(fmt.Sprintf("server: memory per idle connection (%d)", id.Connections), id.KBPerConn, idleBudget, "KB", false))
	}
	// Centrifugo and the cluster figures run when the section measures the default single
	// SQLite node; Centrifugo first, so that the two systems compared run minutes apart, not
	// with the cluster loads between them.
	if spec.nodes == 1 && spec.store == "" && spec.bus == "" {
		if *serverCentrifugo {
			fmt.Fprintln(os.Stderr, "benchreport: server: Centrifugo under the same loads...")
			errs = append(errs, runCentrifugo(ctx, cfg, f, loads)...)
		}
		fmt.Fprintln(os.Stderr, "benchreport: server: PostgreSQL (1 node) and 3 nodes on PostgreSQL + NATS...")
		errs = append(errs, runClusters(ctx, cfg, f, loads)...)
	}
	if b, ok := centrifugoRatio(f); ok {
		r.Budgets = append(r.Budgets, b)
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

// runClusters runs the throughput and fan-out loads against one node on PostgreSQL and
// three nodes on PostgreSQL and NATS, each load on a fresh database of one durable
// throwaway PostgreSQL; NATS runs inside this process.
func runClusters(ctx context.Context, cfg config, f *ServerFigures, loads []string) []string {
	pg, err := pgtest.StartServer("", true)
	if errors.Is(err, pgtest.ErrNoBinaries) {
		f.ClusterNote = "no cluster figures: " + err.Error()
		fmt.Fprintln(os.Stderr, "benchreport: server:", f.ClusterNote)
		return nil
	}
	if err != nil {
		return []string{"cluster: " + err.Error()}
	}
	defer pg.Stop()
	ns, err := natstest.StartServer()
	if err != nil {
		return []string{"cluster: " + err.Error()}
	}
	defer ns.Shutdown()
	var errs []string
	for k, nodes := range []int{1, 3} {
		cf := ClusterFigures{Nodes: nodes, Store: "postgresql (fsync, synchronous_commit on), shared"}
		spec := clusterSpec{nodes: nodes}
		if nodes > 1 {
			cf.Bus, spec.bus = "nats (in the load process)", ns.URL()
		}
		fresh := func(load string) (string, error) {
			return pg.CreateDatabase(ctx, fmt.Sprintf("bench_%s_%d", load, k))
		}
		if slices.Contains(loads, "throughput") {
			if spec.store, err = fresh("throughput"); err == nil {
				cf.Throughput, err = runThroughput(ctx, cfg, spec)
			}
			if err != nil {
				errs = append(errs, fmt.Sprintf("%d-node throughput: %v", nodes, err))
			}
		}
		if slices.Contains(loads, "fanout") {
			if spec.store, err = fresh("fanout"); err == nil {
				cf.Fanout, err = runFanout(ctx, cfg, spec)
			}
			if err != nil {
				errs = append(errs, fmt.Sprintf("%d-node fan-out: %v", nodes, err))
			}
		}
		f.Clusters = append(f.Clusters, cf)
	}
	return errs
}

func printServer(f *ServerFigures) {
	fmt.Printf("\nserver: %d node(s), store %s", f.Nodes, f.Store)
	if f.Bus != "" {
		fmt.Printf(", bus %s", f.Bus)
	}
	fmt.Printf("\n  limits lifted: %s\n", f.Limits)
	fmt.Println("  cpu columns: cores busy in the window (convod / load generator / rest of the machine)")
	if t := f.Throughput; t != nil {
		fmt.Printf("\n  stored messages: %d senders, each its own conversation of %d members, %d in flight each\n", t.Senders, t.MembersPerConv, t.Window)
		fmt.Printf("  %10s %12s %10s %10s %8s %14s  %s\n", "msg/s", "msg/core-s", "ack p50", "ack p99", "seconds", "acked/stored", "cpu")
		fmt.Printf("  %10.0f %12.0f %8.1fms %8.1fms %8.1f %14s  %s\n", t.MsgsPerSec, t.MsgsPerCore, t.AckP50Ms, t.AckP99Ms, t.Seconds,
			fmt.Sprintf("%d/%d", t.TotalAcked, t.Stored), t.CPU)
		for _, e := range t.Errors {
			fmt.Printf("  errors %d: %d\n", e.Code, e.Count)
		}
	}
	if fo := f.Fanout; fo != nil {
		fmt.Printf("\n  fan-out: %d connections, %d conversations of %d members, all connected; latency = send → member's messageAdded\n",
			fo.Connections, fo.Conversations, fo.Members)
		printFanoutSteps(fo)
		fmt.Println("  (* the step checked against the budgets)")
	}
	if id := f.Idle; id != nil {
		fmt.Printf("\n  idle: %d welcomed connections (connected in %.1fs): RSS %.1f MB → %.1f MB, %.1f KB per connection\n",
			id.Connections, id.ConnectSeconds, id.RSSBeforeMB, id.RSSAfterMB, id.KBPerConn)
		if id.GoroutinesPerConn > 0 {
			fmt.Printf("  per connection, from the Go runtime: heap in use %.1f KB (garbage not yet collected included), stacks %.1f KB, %.1f goroutines\n",
				id.HeapKBPerConn, id.StackKBPerConn, id.GoroutinesPerConn)
		}
	}
	printClusters(f)
	printComparison(f)
}

// printClusters puts the cluster figures beside the single node's.
func printClusters(f *ServerFigures) {
	if f.ClusterNote != "" {
		fmt.Printf("\n  %s\n", f.ClusterNote)
	}
	if len(f.Clusters) == 0 {
		return
	}
	fmt.Println("\n  scale-out (reported, not budgeted): stored msg/s, fan-out deliveries/s and p99 at the chosen step")
	fmt.Printf("  %-44s %10s %13s %9s\n", "", "msg/s", "deliveries/s", "p99")
	row := func(name string, t *ThroughputFigures, fo *FanoutFigures) {
		msgs, deliv, p99 := "-", "-", "-"
		if t != nil {
			msgs = fmt.Sprintf("%.0f", t.MsgsPerSec)
		}
		if fo != nil && len(fo.Steps) > 0 {
			st := fo.Steps[fo.Chosen]
			deliv, p99 = fmt.Sprintf("%.0f", st.DeliveriesPerSec), fmt.Sprintf("%.1fms", st.P99Ms)
		}
		fmt.Printf("  %-44s %10s %13s %9s\n", name, msgs, deliv, p99)
	}
	row(fmt.Sprintf("%d node, SQLite", f.Nodes), f.Throughput, f.Fanout)
	for _, c := range f.Clusters {
		name := fmt.Sprintf("%d node(s), PostgreSQL", c.Nodes)
		if c.Bus != "" {
			name += " + NATS"
		}
		row(name, c.Throughput, c.Fanout)
	}
}

func (u CPUUse) String() string {
	return fmt.Sprintf("%.2f / %.2f / %.2f", u.Server, u.Load, u.Other)
}

// cpuTimes is a snapshot of the CPU time used so far by the nodes, this process and the
// whole machine.
type cpuTimes struct {
	at                    time.Time
	server, self, machine time.Duration
}

// clockTick is USER_HZ, the unit of /proc's CPU times: 100 on every Linux this runs on.
const clockTick = 10 * time.Millisecond

func cpuSnapshot(c *cluster) cpuTimes {
	t := cpuTimes{at: time.Now()}
	for _, n := range c.nodes {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", n.cmd.Process.Pid))
		if err != nil {
			continue
		}
		// Fields after the command name, which is in parentheses and may hold spaces.
		s := string(b)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(fields) > 12 {
			ut, _ := strconv.ParseInt(fields[11], 10, 64)
			st, _ := strconv.ParseInt(fields[12], 10, 64)
			t.server += time.Duration(ut+st) * clockTick
		}
	}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		t.self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		fields := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
		for i, v := range fields[1:] {
			n, _ := strconv.ParseInt(v, 10, 64)
			if i == 3 || i == 4 || i >= 8 { // idle, iowait; guest time is already in user
				continue
			}
			t.machine += time.Duration(n) * clockTick
		}
	}
	return t
}

// usage is the cores busy between two snapshots.
func (a cpuTimes) usage(b cpuTimes) CPUUse {
	wall := b.at.Sub(a.at).Seconds()
	if wall <= 0 {
		return CPUUse{}
	}
	u := CPUUse{Server: (b.server - a.server).Seconds() / wall, Load: (b.self - a.self).Seconds() / wall}
	u.Other = max(0, (b.machine-a.machine).Seconds()/wall-u.Server-u.Load)
	return u
}

// printFanoutSteps prints a fan-out load's steps, the one checked against the budgets marked.
func printFanoutSteps(fo *FanoutFigures) {
	fmt.Printf("  %9s %8s %12s %13s %9s %9s %9s %7s %6s %9s  %s\n", "offered/s", "sent/s", "deliveries/s", "deliv/core-s", "p50", "p99", "max", "skipped", "errors", "sustained", "cpu")
	for i, st := range fo.Steps {
		mark := " "
		if i == fo.Chosen {
			mark = "*"
		}
		fmt.Printf("%s %9.0f %8.0f %12.0f %13.0f %7.1fms %7.1fms %7.1fms %7d %6d %9v  %s\n", mark, st.OfferedMsgsPerSec, st.SentMsgsPerSec,
			st.DeliveriesPerSec, st.DeliveriesPerCore, st.P50Ms, st.P99Ms, st.MaxMs, st.Skipped, st.Errors, st.Sustained, st.CPU)
	}
}
