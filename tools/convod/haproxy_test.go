//go:build !js

package main

// The load balancer of docs/DEPLOYMENT.md, for real: HAProxy runs docs/haproxy.cfg with only
// its bind address and server lines replaced, in front of three nodes; every client knows
// only HAProxy's address. A node killed under traffic must cost nothing: its clients come
// back through HAProxy to the others and resume.

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/convo-sdk/convo/core"
)

// startHAProxy runs docs/haproxy.cfg on a free loopback port in front of addrs and returns
// its address once it forwards /healthz. It skips when haproxy is not installed, unless
// CONVO_REQUIRE_HAPROXY=1.
func startHAProxy(t *testing.T, addrs []string) string {
	t.Helper()
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		if os.Getenv("CONVO_REQUIRE_HAPROXY") == "1" {
			t.Fatal("haproxy is not installed and CONVO_REQUIRE_HAPROXY=1 (scripts/install-test-deps.sh installs it)")
		}
		t.Skip("haproxy is not installed (scripts/install-test-deps.sh installs it)")
	}
	cfg, err := os.ReadFile("../../docs/haproxy.cfg")
	if err != nil {
		t.Fatal(err)
	}
	lb := freeAddr(t)
	text, n := replaceLines(string(cfg), `(?m)^    bind :80$`, "    bind "+lb)
	if n != 1 {
		t.Fatalf("docs/haproxy.cfg: want one `bind :80` line, found %d", n)
	}
	var servers []string
	for i, a := range addrs {
		servers = append(servers, fmt.Sprintf("    server node%d %s", i+1, a))
	}
	text, n = replaceLines(text, `(?m)^    server node\d+ \S+\n`, "")
	if n != 3 {
		t.Fatalf("docs/haproxy.cfg: want three `server nodeN` lines, found %d", n)
	}
	text = strings.TrimRight(text, "\n") + "\n" + strings.Join(servers, "\n") + "\n"
	path := filepath.Join(t.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "-c", "-f", path).CombinedOutput(); err != nil {
		t.Fatalf("haproxy -c refuses docs/haproxy.cfg: %v\n%s", err, out)
	}
	var logs strings.Builder
	cmd := exec.Command(bin, "-db", "-f", path) // -db: in the foreground, no daemon
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("haproxy output:\n%s", logs.String())
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		res, err := http.Get("http://" + lb + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return lb
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("haproxy on %s does not forward /healthz (last: %v, %v)", lb, res, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// replaceLines replaces every match of pattern in s and says how many there were.
func replaceLines(s, pattern, with string) (string, int) {
	re := regexp.MustCompile(pattern)
	return re.ReplaceAllString(s, with), len(re.FindAllStringIndex(s, -1))
}

func TestClusterBehindHAProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three server binaries on PostgreSQL and NATS behind HAProxy; skipped with -short")
	}
	began := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	c := newCluster(t, ctx, 3)
	var addrs []string
	for _, p := range c.nodes {
		addrs = append(addrs, p.addr)
	}
	lbURL := "ws://" + startHAProxy(t, addrs) + "/v1/ws"
	viaLB := func(int) core.DialFunc {
		return func(ctx context.Context, _ string) (core.Conn, error) { return core.DialWebSocket(ctx, lbURL) }
	}
	c.h.setup(15, 4, nil, viaLB)

	senders := c.h.send(c.h.clients, 12, "")
	time.Sleep(2 * time.Second)
	killed := time.Now()
	c.nodes[1].kill()
	n := c.finish(senders, []time.Time{killed}, "kill")
	if n.resumes == 0 {
		// leastconn gave node 1 about a third of the clients.
		t.Errorf("a node was killed under traffic but no connection resumed through HAProxy: no client was sent to it, or none came back")
	}
	t.Logf("behind HAProxy: %d clients, %d resumed after node 1 was killed; total %v",
		len(c.h.clients), n.resumes, time.Since(began).Round(time.Millisecond))
}
