package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Centrifugo is the anchor of the server's fan-out and idle figures: a real-time server a
// self-hosting user would otherwise pick, measured in the same run under the same shape. It is
// installed with `go install` into the scratch folder and loaded by its own client library
// from a separate module (tools/benchreport/centrifugo), so neither enters convo's module.

const (
	centrifugoModule  = "github.com/centrifugal/centrifugo/v6"
	centrifugoVersion = "v6.9.1"
)

var serverCentrifugo = flag.Bool("server-centrifugo", true, "server section: measure Centrifugo under the same fan-out and idle loads (installs it into the scratch folder)")

// CentrifugoFigures are Centrifugo's figures under convod's fan-out and idle loads.
type CentrifugoFigures struct {
	Version string `json:"version"`
	// Setup says how it ran: engine, history, recovery, auth, how clients publish.
	Setup  string         `json:"setup"`
	Fanout *FanoutFigures `json:"fanout,omitempty"`
	Idle   *IdleFigures   `json:"idle,omitempty"`
}

// centrifugoRun is one Centrifugo process and what the load generator needs to reach it.
type centrifugoRun struct {
	cmd     *exec.Cmd
	exited  chan struct{}
	url     string
	secret  string
	logPath string
}

// runCentrifugo installs Centrifugo and the load generator and runs the fan-out and idle loads
// against a fresh Centrifugo each. What cannot be installed (no network) is a note, not an
// error: the rest of the bench stands without it.
func runCentrifugo(ctx context.Context, cfg config, f *ServerFigures, loads []string) []string {
	skip := func(why string) []string {
		f.CentrifugoNote = "no Centrifugo figures: " + why
		fmt.Fprintln(os.Stderr, "benchreport: server:", f.CentrifugoNote)
		return nil
	}
	bin, err := installCentrifugo(ctx, cfg)
	if err != nil {
		return skip(err.Error())
	}
	loadBin, err := buildCentrifugoLoad(ctx, cfg)
	if err != nil {
		return skip(err.Error())
	}
	cf := &CentrifugoFigures{Version: centrifugoVersion,
		Setup: "memory engine; history (size 100, ttl 300s) and forced recovery on every channel; JWT (HS256) connection tokens; " +
			"subscribers publish over the client protocol (allow_publish_for_subscriber); JSON protocol over WebSocket"}
	f.Centrifugo = cf
	var errs []string
	for _, load := range []string{"fanout", "idle"} {
		if !slices.Contains(loads, load) {
			continue
		}
		fmt.Fprintf(os.Stderr, "benchreport: server: Centrifugo %s...\n", load)
		var res struct {
			Fanout *FanoutFigures `json:"fanout"`
			Idle   *IdleFigures   `json:"idle"`
		}
		if err := runCentrifugoLoad(ctx, cfg, bin, loadBin, load, &res); err != nil {
			errs = append(errs, fmt.Sprintf("centrifugo %s: %v", load, err))
		}
		if res.Fanout != nil {
			cf.Fanout = res.Fanout
		}
		if res.Idle != nil {
			cf.Idle = res.Idle
		}
	}
	return errs
}

// installCentrifugo puts the centrifugo binary into the scratch folder once; a later run
// reuses it when it reports the pinned version.
func installCentrifugo(ctx context.Context, cfg config) (string, error) {
	dir := filepath.Join(cfg.scratch, "centrifugo-bin")
	bin := filepath.Join(dir, "centrifugo")
	// go install leaves the binary's own version unset; its build info names the module's.
	if out, err := exec.CommandContext(ctx, "go", "version", "-m", bin).Output(); err == nil && strings.Contains(string(out), centrifugoModule+"\t"+centrifugoVersion) {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	fmt.Fprintf(os.Stderr, "benchreport: server: go install %s@%s (a few minutes the first time)...\n", centrifugoModule, centrifugoVersion)
	ictx, cancel := context.WithTimeout(ctx, 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ictx, "go", "install", centrifugoModule+"@"+centrifugoVersion)
	// Outside any module, so convo's go.mod plays no part.
	cmd.Dir = cfg.scratch
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOFLAGS=", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go install %s@%s: %v: %s", centrifugoModule, centrifugoVersion, err, lastLines(out, 3))
	}
	return bin, nil
}

// buildCentrifugoLoad builds the load generator, a module of its own (its go.mod pins
// centrifuge-go).
func buildCentrifugoLoad(ctx context.Context, cfg config) (string, error) {
	bin := filepath.Join(cfg.scratch, "centrifugo-load")
	bctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(bctx, "go", "build", "-o", bin, ".")
	cmd.Dir = filepath.Join(cfg.root, "tools", "benchreport", "centrifugo")
	cmd.Env = append(os.Environ(), "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build tools/benchreport/centrifugo: %v: %s", err, lastLines(out, 3))
	}
	return bin, nil
}

// centrifugoConfig is Centrifugo v6's configuration for the bench: loopback only, memory
// engine, history and recovery on every channel without a namespace, HMAC JWT auth, and
// clients allowed to subscribe and publish on their own (the load publishes over the client
// protocol, as convod's clients send). Unknown keys make Centrifugo warn at start; the bench
// fails on such a warning (see startCentrifugo) so a mistyped key cannot go unnoticed.
func centrifugoConfig(port int, secret, apiKey string) map[string]any {
	return map[string]any{
		"log": map[string]any{"level": "warn"},
		"http_server": map[string]any{
			"address": "127.0.0.1",
			"port":    port,
		},
		"engine": map[string]any{"type": "memory"},
		"client": map[string]any{
			"token": map[string]any{"hmac_secret_key": secret},
		},
		"http_api": map[string]any{"key": apiKey},
		"health":   map[string]any{"enabled": true},
		"channel": map[string]any{
			"without_namespace": map[string]any{
				"history_size":                 100,
				"history_ttl":                  "300s",
				"force_recovery":               true,
				"allow_subscribe_for_client":   true,
				"allow_publish_for_subscriber": true,
			},
		},
	}
}

// startCentrifugo runs a fresh Centrifugo on a free loopback port.
func startCentrifugo(cfg config, bin, name string) (*centrifugoRun, error) {
	dir := filepath.Join(cfg.scratch, "server", "centrifugo-"+name)
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	r := &centrifugoRun{secret: randomHex(32), logPath: filepath.Join(dir, "centrifugo.log")}
	r.url = fmt.Sprintf("ws://127.0.0.1:%d/connection/websocket", port)
	b, _ := json.MarshalIndent(centrifugoConfig(port, r.secret, randomHex(16)), "", "  ")
	conf := filepath.Join(dir, "config.json")
	if err := os.WriteFile(conf, b, 0o600); err != nil {
		return nil, err
	}
	logf, err := os.Create(r.logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	r.cmd = exec.Command(bin, "--config", conf)
	r.cmd.Dir = dir
	r.cmd.Stdout, r.cmd.Stderr = logf, logf
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := r.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start centrifugo: %w", err)
	}
	r.exited = make(chan struct{})
	go func() {
		_ = r.cmd.Wait()
		close(r.exited)
	}()
	hc := &http.Client{Timeout: time.Second}
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		select {
		case <-r.exited:
			return r, fmt.Errorf("centrifugo exited at start: %s", lastLines(readFile(r.logPath), 5))
		default:
		}
		res, err := hc.Get(fmt.Sprintf("http://127.0.0.1:%d/health", port))
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				// A key Centrifugo does not know is a warning in its log, not an error.
				if log := readFile(r.logPath); bytes.Contains(log, []byte("unknown key in configuration")) {
					return r, fmt.Errorf("centrifugo does not know a key of the bench's config: %s", lastLines(log, 5))
				}
				return r, nil
			}
		}
	}
	return r, fmt.Errorf("centrifugo on port %d is not healthy after 20 s; see %s", port, r.logPath)
}

func (r *centrifugoRun) stop() {
	if r == nil || r.cmd == nil || r.cmd.Process == nil {
		return
	}
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.exited:
	case <-time.After(10 * time.Second):
		_ = r.cmd.Process.Kill()
		<-r.exited
	}
}

// runCentrifugoLoad runs one load against a fresh Centrifugo and decodes what the load
// generator prints into res (also the partial figures of a load that failed).
func runCentrifugoLoad(ctx context.Context, cfg config, bin, loadBin, load string, res any) error {
	r, err := startCentrifugo(cfg, bin, load)
	defer r.stop()
	if err != nil {
		return err
	}
	args := []string{"-load", load, "-url", r.url, "-secret", r.secret, "-pid", strconv.Itoa(r.cmd.Process.Pid)}
	if cfg.quick {
		args = append(args, "-channels", "20", "-rates", "100,200", "-warm", "500ms", "-measure", "2s", "-conns", "1000")
	} else {
		args = append(args, "-channels", "200", "-subscribers", "10", "-rates", floats(fanoutRates), "-conns", "10000")
	}
	args = append(args, "-p99", strconv.Itoa(fanoutP99Budget))
	cmd := exec.CommandContext(ctx, loadBin, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	runErr := cmd.Run()
	if line := bytes.TrimSpace(out.Bytes()); len(line) > 0 {
		if err := json.Unmarshal(line, res); err != nil {
			return fmt.Errorf("reading the load generator's figures: %w", err)
		}
	}
	if runErr != nil {
		return fmt.Errorf("load generator: %w; Centrifugo's log: %s", runErr, r.logPath)
	}
	select {
	case <-r.exited:
		return fmt.Errorf("centrifugo exited during the load; see %s", r.logPath)
	default:
	}
	return nil
}

func floats(v []float64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.FormatFloat(x, 'f', -1, 64)
	}
	return strings.Join(s, ",")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func readFile(p string) []byte {
	b, _ := os.ReadFile(p)
	return b
}

// lastLines is the tail of a command's output, for an error message.
func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
