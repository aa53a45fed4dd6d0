// Package natstest runs a real NATS server inside the process, on 127.0.0.1 and a free
// port, for tests, benchmarks and multi-process runs of the server's NATS bus. It can be
// shut down and restarted on the same address to simulate an outage.
package natstest

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
)

// readyTimeout bounds the wait for a started server to accept connections.
const readyTimeout = 10 * time.Second

// Server is an embedded NATS server. Its URL stays the same across Restart.
type Server struct {
	mu   sync.Mutex
	ns   *natsserver.Server // nil while shut down
	opts Options
	port int
	url  string
}

// Options adjust the server; the zero value is NATS's defaults.
type Options struct {
	// MaxPayload bounds one message in bytes; 0 means NATS's default (1 MiB).
	MaxPayload int32
}

// Start runs a server until the test ends and returns its client URL.
func Start(t testing.TB) (url string) {
	t.Helper()
	return StartT(t).URL()
}

// StartT runs a server until the test ends; use it to shut the server down and restart
// it during the test.
func StartT(t testing.TB) *Server {
	t.Helper()
	s, err := StartServer()
	if err != nil {
		t.Fatalf("natstest: %v", err)
	}
	t.Cleanup(s.Shutdown)
	return s
}

// StartServer runs a server on 127.0.0.1 and a free port; the caller shuts it down.
func StartServer() (*Server, error) { return StartServerWith(Options{}) }

// StartServerWith is StartServer with options.
func StartServerWith(o Options) (*Server, error) {
	s := &Server{opts: o, port: natsserver.RANDOM_PORT}
	if err := s.start(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Server) start() error {
	ns, err := natsserver.NewServer(&natsserver.Options{
		Host:       "127.0.0.1",
		Port:       s.port,
		NoLog:      true,
		NoSigs:     true,
		MaxPayload: s.opts.MaxPayload,
	})
	if err != nil {
		return fmt.Errorf("natstest: new server: %w", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(readyTimeout) {
		ns.Shutdown()
		return fmt.Errorf("natstest: server on port %d not ready within %v", s.port, readyTimeout)
	}
	addr, ok := ns.Addr().(*net.TCPAddr)
	if !ok {
		ns.Shutdown()
		return errors.New("natstest: server has no TCP address")
	}
	s.ns, s.port = ns, addr.Port
	s.url = fmt.Sprintf("nats://127.0.0.1:%d", addr.Port)
	return nil
}

// URL is the client URL, nats://127.0.0.1:PORT.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.url
}

// Shutdown stops the server and drops every client connection; Restart brings it back.
// It is safe to call more than once.
func (s *Server) Shutdown() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ns == nil {
		return
	}
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
	s.ns = nil
}

// Restart starts the server again on the same port (shutting it down first if it runs),
// so clients that reconnect to the URL find it. It fails if the port was taken meanwhile.
func (s *Server) Restart() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ns != nil {
		s.ns.Shutdown()
		s.ns.WaitForShutdown()
		s.ns = nil
	}
	return s.start()
}

// Running reports whether the server is up.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ns != nil
}
