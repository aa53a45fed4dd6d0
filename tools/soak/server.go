package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/convo-sdk/convo/server/auth"
)

// convod is the server process under test.
type convod struct {
	addr, logPath string
	cmd           *exec.Cmd
	exited        chan struct{}
}

// buildConvod compiles the server into dir.
func buildConvod(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "convod")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/convo-sdk/convo/tools/convod")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build convod: %v\n%s", err, out)
	}
	return bin, nil
}

// startConvod runs bin on a free loopback port with its data in dir and waits for /healthz.
func startConvod(bin, dir string, key auth.Key) (*convod, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	s := &convod{addr: addr, logPath: filepath.Join(dir, "convod.log"), exited: make(chan struct{})}
	logf, err := os.Create(s.logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	s.cmd = exec.Command(bin, "--addr", addr, "--data", filepath.Join(dir, "data"), "--log-level", "warn")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CONVO_") {
			s.cmd.Env = append(s.cmd.Env, kv)
		}
	}
	s.cmd.Env = append(s.cmd.Env, "CONVO_API_KEYS="+key.ID+":"+key.Secret)
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		_ = s.cmd.Wait()
		close(s.exited)
	}()
	hc := &http.Client{Timeout: time.Second}
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		select {
		case <-s.exited:
			return nil, fmt.Errorf("convod exited at start:\n%s", s.logTail())
		default:
		}
		if res, err := hc.Get("http://" + addr + "/healthz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return s, nil
			}
		}
	}
	s.stop()
	return nil, fmt.Errorf("convod did not answer /healthz within 20 s:\n%s", s.logTail())
}

// stop asks for a graceful shutdown and kills the process if it takes too long.
func (s *convod) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

func (s *convod) alive() bool {
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

func (s *convod) logTail() string {
	b, _ := os.ReadFile(s.logPath)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// rssMiB reads the server's resident set size from /proc.
func (s *convod) rssMiB() (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest) // "123456 kB"
			if len(f) == 2 && f[1] == "kB" {
				kb, err := strconv.ParseFloat(f[0], 64)
				return kb / 1024, err
			}
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", s.cmd.Process.Pid)
}

// metrics reads the server's /metrics, open to loopback, into a map of sample name (with
// labels) to value. Keep-alive is off so the scrape leaves no connection behind to count.
func (s *convod) metrics(ctx context.Context) (map[string]float64, error) {
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	req, err := http.NewRequestWithContext(ctx, "GET", "http://"+s.addr+"/metrics", nil)
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
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(res.Body); err != nil {
		return nil, err
	}
	out := make(map[string]float64)
	sc := bufio.NewScanner(&buf)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		if i := strings.LastIndexByte(line, ' '); i > 0 {
			if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
				out[line[:i]] = v
			}
		}
	}
	return out, sc.Err()
}
