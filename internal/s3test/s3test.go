// Package s3test runs a real S3-compatible server for tests: SeaweedFS's `weed server` with
// its S3 gateway, as a child process on 127.0.0.1 with free ports and a temporary folder.
// scripts/install-test-deps.sh builds `weed` from the Go module proxy.
package s3test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// EnvRequire set to 1 turns a missing weed into a test failure instead of a skip (make test
// sets it, so the object store tests cannot silently stop running).
const EnvRequire = "CONVO_REQUIRE_S3"

// EnvBinary names the weed program to use instead of the one found on PATH or in GOPATH/bin.
const EnvBinary = "CONVO_WEED"

// ErrNoBinary: no weed program was found.
var ErrNoBinary = errors.New("s3test: SeaweedFS's weed not found in $" + EnvBinary + ", PATH or GOPATH/bin; scripts/install-test-deps.sh builds it")

// readyTimeout bounds the wait for a started server to answer S3 requests.
const readyTimeout = 60 * time.Second

// Server is a running S3-compatible server. Its credentials sign every request (the
// gateway refuses anonymous ones).
type Server struct {
	Endpoint             string // http://127.0.0.1:PORT
	AccessKey, SecretKey string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	dir  string
}

// Binary returns the path of weed.
func Binary() (string, error) {
	if p := os.Getenv(EnvBinary); p != "" {
		return p, nil
	}
	if p, err := exec.LookPath("weed"); err == nil {
		return p, nil
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		home, _ := os.UserHomeDir()
		gopath = filepath.Join(home, "go")
	}
	p := filepath.Join(filepath.SplitList(gopath)[0], "bin", "weed")
	if fi, err := os.Stat(p); err == nil && fi.Mode()&0o111 != 0 {
		return p, nil
	}
	return "", ErrNoBinary
}

// Start runs a server until the test ends. Without weed it skips the test, unless
// CONVO_REQUIRE_S3=1.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		if os.Getenv(EnvRequire) != "1" {
			t.Skipf("%v (set %s=1 to fail instead)", err, EnvRequire)
		}
		t.Fatal(err)
	}
	s, err := StartServer(bin, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// StartServer runs bin on 127.0.0.1 with its data in dir; the caller stops it.
func StartServer(bin, dir string) (*Server, error) {
	ports, err := freePorts(8)
	if err != nil {
		return nil, err
	}
	p := func(i int) string { return strconv.Itoa(ports[i]) }
	s := &Server{Endpoint: "http://127.0.0.1:" + p(6), AccessKey: "convo-test", SecretKey: "convo-test-secret-" + p(6), dir: dir}
	log, err := os.Create(filepath.Join(dir, "weed.log"))
	if err != nil {
		return nil, err
	}
	defer log.Close()
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "server", "-dir="+data, "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
		"-master.port="+p(0), "-master.port.grpc="+p(1), "-volume.port="+p(2), "-volume.port.grpc="+p(3),
		"-filer", "-filer.port="+p(4), "-filer.port.grpc="+p(5),
		"-s3", "-s3.port="+p(6), "-s3.port.grpc="+p(7), "-s3.port.iceberg=0", "-s3.port.lance=0",
		"-master.telemetry=false", "-volume.max=8", "-master.volumeSizeLimitMB=64")
	// The gateway makes an admin identity of these.
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+s.AccessKey, "AWS_SECRET_ACCESS_KEY="+s.SecretKey)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("s3test: starting %s: %w", bin, err)
	}
	s.cmd, s.done = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); close(s.done) }()
	if err := s.waitReady(); err != nil {
		s.Stop()
		tail, _ := os.ReadFile(log.Name())
		if len(tail) > 4000 {
			tail = tail[len(tail)-4000:]
		}
		return nil, fmt.Errorf("%w\n%s", err, tail)
	}
	return s, nil
}

// waitReady polls the gateway until it answers: any HTTP status means it is up.
func (s *Server) waitReady() error {
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.Endpoint+"/", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-s.done:
			return errors.New("s3test: weed exited before it was ready")
		case <-ctx.Done():
			return fmt.Errorf("s3test: weed not ready after %v: %v", readyTimeout, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Stop ends the server (the whole process group) and waits for it; calling it again is a
// no-op. The data folder stays until the test's temporary folder goes.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	<-s.done
	s.cmd = nil
}

// freePorts asks the kernel for n distinct free ports on 127.0.0.1.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
