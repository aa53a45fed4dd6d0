package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/convo-sdk/convo/server/auth"
)

// The server section runs the same load against one node or several. By default it measures
// one node on its own SQLite, then (server.go, runClusters) one node on PostgreSQL and three
// on PostgreSQL and NATS. These flags measure a cluster of your own instead: they are passed
// to every node as --store and --bus, and clients are spread over the nodes round-robin.
var (
	serverNodes = flag.Int("server-nodes", 1, "server section: convod nodes to start (more than one needs -server-store and -server-bus)")
	serverStore = flag.String("server-store", "", "server section: --store passed to every node (empty: each node's own SQLite in its data folder)")
	serverBus   = flag.String("server-bus", "", "server section: --bus passed to every node (empty: none)")
	serverLoads = flag.String("server-loads", "throughput,fanout,idle", "server section: which loads to run")
	serverBin   = flag.String("server-bin", "", "server section: a convod binary to measure (empty: build ./tools/convod into the scratch folder)")
	// Where a budget is missed, the profile of the step that missed it shows why.
	serverProfile = flag.String("server-profile", "", "server section: write a CPU and an allocation profile of every node for each fan-out step's and the throughput load's measured window (fanout-SETUP-RATE-nodeN.pprof, throughput-SETUP-nodeN.pprof, and .allocs.pprof beside each) and the idle load's live heap (idle-nodeN.heap.pprof) into this folder")
)

// cluster is the convod processes of one measurement, all with the same API key.
type cluster struct {
	key   auth.Key
	nodes []*node
}

// node is one convod process listening on 127.0.0.1.
type node struct {
	addr    string // host:port it listens on
	debug   string // host:port of its profiler, with -server-profile
	data    string
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{}
}

func (n *node) wsURL() string { return "ws://" + n.addr + "/v1/ws" }

// convod is the binary under test, built into the scratch folder once per run.
var convod struct {
	once sync.Once
	bin  string
	err  error
}

func buildConvod(cfg config) (string, error) {
	convod.once.Do(func() {
		if *serverBin != "" {
			convod.bin, convod.err = filepath.Abs(*serverBin)
			return
		}
		bin := filepath.Join(cfg.scratch, "convod")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./tools/convod")
		cmd.Dir = cfg.root
		if out, err := cmd.CombinedOutput(); err != nil {
			convod.err = fmt.Errorf("go build ./tools/convod: %w\n%s", err, out)
			return
		}
		convod.bin = bin
	})
	return convod.bin, convod.err
}

// convodFlags lists the flags the built convod accepts (from -h), so the load can turn off
// limits where a flag for it exists.
func convodFlags(bin string) map[string]bool {
	out, _ := exec.Command(bin, "-h").CombinedOutput() // -h exits non-zero
	flags := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "-") {
			name, _, _ := strings.Cut(line[1:], " ")
			flags[strings.TrimPrefix(name, "-")] = true
		}
	}
	return flags
}

// startNodes starts n convod nodes, each in its own data folder under scratch, and waits
// until each answers /healthz. storeSpec and busSpec, when set, are passed as --store and
// --bus (a shared store and an event bus make the nodes one cluster); with n > 1 both are
// required. The caller must call stop, also on error paths (stop is safe on a partial
// cluster).
func startNodes(cfg config, name string, n int, storeSpec, busSpec string) (*cluster, error) {
	if n < 1 {
		return nil, fmt.Errorf("need at least one node, got %d", n)
	}
	if n > 1 && (storeSpec == "" || busSpec == "") {
		return nil, fmt.Errorf("%d nodes need a shared store and a bus (-server-store, -server-bus)", n)
	}
	bin, err := buildConvod(cfg)
	if err != nil {
		return nil, err
	}
	known := convodFlags(bin)
	c := &cluster{key: auth.NewKey("bench")}
	env := []string{"CONVO_API_KEYS=" + c.key.ID + ":" + c.key.Secret}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CONVO_") {
			env = append(env, kv)
		}
	}
	root := filepath.Join(cfg.scratch, "server", name)
	if err := os.RemoveAll(root); err != nil {
		return nil, err
	}
	for i := range n {
		dir := filepath.Join(root, fmt.Sprintf("node%d", i))
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return c, err
		}
		args := []string{"--addr", "127.0.0.1:0", "--data", filepath.Join(dir, "data"), "--log-level", "warn",
			// The load is many requests a second per connection by design.
			"--request-rate", "1000000",
			// Each load uses distinct identities; the cap only has to allow one each.
			"--max-conns-per-identity", "20"}
		if known["conversation-write-rate"] {
			args = append(args, "--conversation-write-rate", "-1")
		}
		if *serverProfile != "" {
			args = append(args, "--debug-addr", "127.0.0.1:0")
		}
		if storeSpec != "" {
			args = append(args, "--store", storeSpec)
		}
		if busSpec != "" {
			args = append(args, "--bus", busSpec)
		}
		nd := &node{data: filepath.Join(dir, "data"), logPath: filepath.Join(dir, "convod.log")}
		c.nodes = append(c.nodes, nd)
		if err := nd.start(bin, args, env); err != nil {
			return c, err
		}
	}
	return c, nil
}

// start runs the process and reads the address it listens on from its first line.
func (n *node) start(bin string, args, env []string) error {
	logf, err := os.Create(n.logPath)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Stderr = logf
	// The node dies with this process, even if it is killed before it can clean up.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start convod: %w", err)
	}
	n.cmd, n.exited = cmd, make(chan struct{})
	addr := make(chan string, 1)
	debug := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "convo listening on http://"); ok {
				addr <- a
			}
			if a, ok := strings.CutPrefix(sc.Text(), "convo profiler on http://"); ok {
				debug <- strings.TrimSuffix(a, "/debug/pprof/")
			}
		}
	}()
	go func() {
		_ = cmd.Wait()
		close(n.exited)
	}()
	select {
	case n.addr = <-addr:
	case <-n.exited:
		return fmt.Errorf("convod exited at start; see %s", n.logPath)
	case <-time.After(30 * time.Second):
		return fmt.Errorf("convod did not say where it listens within 30 s; see %s", n.logPath)
	}
	if slices.Contains(args, "--debug-addr") {
		select {
		case n.debug = <-debug:
		case <-time.After(10 * time.Second):
			return fmt.Errorf("convod did not say where its profiler listens; see %s", n.logPath)
		}
	}
	hc := &http.Client{Timeout: time.Second}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		res, err := hc.Get("http://" + n.addr + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	return fmt.Errorf("convod on %s is not healthy after 10 s; see %s", n.addr, n.logPath)
}

// stop ends every node: SIGTERM (graceful: byes, store closed), SIGKILL after 10 s.
func (c *cluster) stop() {
	if c == nil {
		return
	}
	for _, n := range c.nodes {
		if n.cmd != nil && n.cmd.Process != nil {
			_ = n.cmd.Process.Signal(syscall.SIGTERM)
		}
	}
	for _, n := range c.nodes {
		if n.cmd == nil || n.cmd.Process == nil {
			continue
		}
		select {
		case <-n.exited:
		case <-time.After(10 * time.Second):
			_ = n.cmd.Process.Kill()
			<-n.exited
		}
	}
}

// alive reports an error when a node has exited.
func (c *cluster) alive() error {
	for _, n := range c.nodes {
		select {
		case <-n.exited:
			return fmt.Errorf("convod on %s exited; see %s", n.addr, n.logPath)
		default:
		}
	}
	return nil
}

// url is the WebSocket URL client i uses: clients are spread round-robin.
func (c *cluster) url(i int) string { return c.nodes[i%len(c.nodes)].wsURL() }

// token mints a token for identity on the node client i uses.
func (c *cluster) token(identity string, i int) (string, error) {
	return auth.Mint(c.key, identity, 2*time.Hour, c.url(i))
}

// rss sums the resident set size of every node, in bytes (VmRSS of /proc/PID/status).
func (c *cluster) rss() (int64, error) {
	var total int64
	for _, n := range c.nodes {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", n.cmd.Process.Pid))
		if err != nil {
			return 0, err
		}
		found := false
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
				if err != nil {
					return 0, err
				}
				total += kb << 10
				found = true
			}
		}
		if !found {
			return 0, fmt.Errorf("no VmRSS for pid %d", n.cmd.Process.Pid)
		}
	}
	return total, nil
}

// raiseFileLimit lifts the soft open-file limit to the hard one; the nodes inherit it.
func raiseFileLimit() (uint64, error) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, err
	}
	if l.Cur < l.Max {
		l.Cur = l.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
			return 0, err
		}
	}
	return l.Cur, nil
}

// runtimeStats sums a few Go runtime gauges of every node's /metrics (served to loopback
// clients by default); nil when a node does not serve them.
func (c *cluster) runtimeStats() map[string]float64 {
	want := []string{"go_goroutines", "go_memstats_heap_inuse_bytes", "go_memstats_stack_inuse_bytes"}
	out := map[string]float64{}
	hc := &http.Client{Timeout: 10 * time.Second}
	for _, n := range c.nodes {
		res, err := hc.Get("http://" + n.addr + "/metrics")
		if err != nil {
			return nil
		}
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil || res.StatusCode != http.StatusOK {
			return nil
		}
		for _, line := range strings.Split(string(b), "\n") {
			name, val, ok := strings.Cut(line, " ")
			if ok && slices.Contains(want, name) {
				v, _ := strconv.ParseFloat(strings.TrimSpace(val), 64)
				out[name] += v
			}
		}
	}
	return out
}

// profile starts a CPU and an allocation profile of `d` on every node that serves one,
// written to dir/prefix-nodeN.pprof and dir/prefix-nodeN.allocs.pprof; wait returns when
// all are written. Without -server-profile it does nothing.
func (c *cluster) profile(prefix string, d time.Duration) (wait func() error) {
	if *serverProfile == "" {
		return func() error { return nil }
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for i, n := range c.nodes {
		for _, kind := range []string{"profile", "allocs"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				name := fmt.Sprintf("%s-node%d.pprof", prefix, i)
				if kind != "profile" {
					name = fmt.Sprintf("%s-node%d.%s.pprof", prefix, i, kind)
				}
				if err := n.writeProfile(filepath.Join(*serverProfile, name), kind, d); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}()
		}
	}
	return func() error {
		wg.Wait()
		return errors.Join(errs...)
	}
}

// writeHeapProfile saves the node's live heap, after a collection.
func (n *node) writeHeapProfile(path string) error {
	return n.fetchProfile(path, "heap?gc=1", time.Minute)
}

// writeProfile saves the node's profile of kind ("profile" for CPU, "allocs" for the
// allocations) over the next d.
func (n *node) writeProfile(path, kind string, d time.Duration) error {
	if n.debug == "" {
		return fmt.Errorf("node %s serves no profiler", n.addr)
	}
	return n.fetchProfile(path, fmt.Sprintf("%s?seconds=%d", kind, int(d.Seconds())), d+30*time.Second)
}

// fetchProfile saves /debug/pprof/<query> of the node's profiler into path.
func (n *node) fetchProfile(path, query string, timeout time.Duration) error {
	if n.debug == "" {
		return fmt.Errorf("node %s serves no profiler", n.addr)
	}
	hc := &http.Client{Timeout: timeout}
	res, err := hc.Get(fmt.Sprintf("http://%s/debug/pprof/%s", n.debug, query))
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("profile from %s: %s", n.debug, res.Status)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, res.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
