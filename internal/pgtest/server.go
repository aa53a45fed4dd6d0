// Package pgtest runs a throwaway PostgreSQL server for tests, benchmarks and multi-process
// runs: initdb into a temporary folder, postgres on 127.0.0.1 and a free port (its unix
// socket inside that folder), stopped at the end and killed by the kernel should this
// process die first. It uses the server programs of Debian's postgresql package.
package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

const (
	// readyTimeout bounds the wait for a started server to accept connections.
	readyTimeout = 30 * time.Second
	// stopTimeout bounds a fast shutdown before the process group is killed.
	stopTimeout = 10 * time.Second
	// superuser is the role initdb creates; connections need no password (trust).
	superuser = "postgres"
	// Database is the database StartServer creates; DSN names it.
	Database = "convo"
	// dirPrefix starts the names of the temporary folders, followed by the owner's pid.
	dirPrefix = "convo-pgtest-"
)

// Server is a running PostgreSQL cluster.
type Server struct {
	dir    string
	ownDir bool // dir was made by StartServer and goes with Stop
	port   int
	cmd    *exec.Cmd
	exited <-chan error
	log    *os.File
	// What Resume needs to run postgres again.
	bin     string
	acct    account
	durable bool

	stopOnce sync.Once
}

// StartServer initialises a cluster in dir/data and runs it on 127.0.0.1 until Stop.
// dir == "" makes a temporary folder that Stop removes. durable false turns fsync and
// synchronous commits off: fast, and fine for data nobody keeps; benchmarks that measure
// commits want true. dir must hold no cluster yet. When this process runs as root, the
// server runs as the postgres user and dir must be reachable by it (a folder made by
// os.MkdirTemp is).
func StartServer(dir string, durable bool) (*Server, error) {
	bin, err := findBinDir()
	if err != nil {
		return nil, err
	}
	acct, err := serverAccount()
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir}
	if dir == "" {
		sweepStale()
		if s.dir, err = os.MkdirTemp("", fmt.Sprintf("%s%d-", dirPrefix, os.Getpid())); err != nil {
			return nil, err
		}
		s.ownDir = true
	}
	if err := s.start(bin, acct, durable); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

func (s *Server) start(bin string, acct account, durable bool) error {
	for _, d := range []string{s.dir, filepath.Join(s.dir, "sock")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
		if err := os.Chown(d, acct.uid, acct.gid); err != nil {
			return fmt.Errorf("pgtest: handing %s to the server's user: %w", d, err)
		}
	}
	s.bin, s.acct, s.durable = bin, acct, durable
	data := filepath.Join(s.dir, "data")
	initArgs := []string{"-D", data, "-U", superuser, "--auth=trust", "-E", "UTF8", "--no-locale"}
	if !durable {
		initArgs = append(initArgs, "--no-sync")
	}
	initdb := exec.Command(filepath.Join(bin, "initdb"), initArgs...)
	initdb.SysProcAttr = acct.procAttr(false)
	initdb.Env = serverEnv()
	if out, err := initdb.CombinedOutput(); err != nil {
		return fmt.Errorf("pgtest: initdb: %w\n%s", err, out)
	}
	var err error
	if s.log, err = os.OpenFile(filepath.Join(s.dir, "postgres.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600); err != nil {
		return err
	}
	// A free port can be taken by someone else before postgres binds it: try a few.
	for attempt := 0; ; attempt++ {
		port, perr := freePort()
		if perr != nil {
			return perr
		}
		err = s.run(port, true)
		if err == nil || attempt == 2 || !strings.Contains(err.Error(), "could not bind") {
			return err
		}
	}
}

// run starts postgres on port and waits until it takes connections; create makes the
// database DSN names (the first start).
func (s *Server) run(port int, create bool) error {
	bin, acct, durable := s.bin, s.acct, s.durable
	args := []string{"-D", filepath.Join(s.dir, "data"), "-p", fmt.Sprint(port),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories=" + filepath.Join(s.dir, "sock"),
		"-c", "max_connections=300",
		"-c", "logging_collector=off",
	}
	if !durable {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	cmd := exec.Command(filepath.Join(bin, "postgres"), args...)
	cmd.SysProcAttr = acct.procAttr(true)
	cmd.Env = serverEnv()
	cmd.Stdout, cmd.Stderr = s.log, s.log
	exited, err := startTied(cmd)
	if err != nil {
		return fmt.Errorf("pgtest: starting postgres: %w", err)
	}
	s.cmd, s.exited, s.port = cmd, exited, port
	deadline := time.Now().Add(readyTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		c, err := pgx.Connect(ctx, s.DatabaseDSN("postgres"))
		cancel()
		if err == nil {
			c.Close(context.Background())
			if !create {
				return nil
			}
			ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
			defer cancel()
			_, err := s.CreateDatabase(ctx, Database)
			return err
		}
		select {
		case werr := <-s.exited:
			s.cmd = nil
			return fmt.Errorf("pgtest: postgres exited (%v) before taking connections: %s", werr, s.logTail())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("pgtest: postgres not ready within %v: %v; %s", readyTimeout, err, s.logTail())
		}
	}
}

// Program is the path of one of the server's PostgreSQL programs (pg_dump, pg_restore, ...),
// from the folder its initdb and postgres came from; it may not exist there.
func (s *Server) Program(name string) string { return filepath.Join(s.bin, name) }

// DSN is the URL of the database StartServer created.
func (s *Server) DSN() string { return s.DatabaseDSN(Database) }

// DatabaseDSN is the URL of a database of this server.
func (s *Server) DatabaseDSN(name string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", superuser, s.port, name)
}

// CreateDatabase creates an empty database and returns its URL.
func (s *Server) CreateDatabase(ctx context.Context, name string) (string, error) {
	c, err := pgx.Connect(ctx, s.DatabaseDSN("postgres"))
	if err != nil {
		return "", err
	}
	defer c.Close(context.Background())
	if _, err := c.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", fmt.Errorf("pgtest: creating database %s: %w", name, err)
	}
	return s.DatabaseDSN(name), nil
}

// Halt shuts the server down (fast shutdown: connected clients get "terminating connection
// due to administrator command") but keeps its folder, so Resume can bring it back with the
// same data on the same port: a database outage for tests. Not safe to call concurrently
// with Resume or Stop.
func (s *Server) Halt() {
	if s.cmd == nil {
		return
	}
	_ = interrupt(s.cmd.Process)
	select {
	case <-s.exited:
	case <-time.After(stopTimeout):
		killGroup(s.cmd.Process.Pid)
		<-s.exited
	}
	s.cmd = nil
}

// Resume starts a halted server again on its port. It fails if someone took the port
// meanwhile.
func (s *Server) Resume() error {
	if s.cmd != nil {
		return errors.New("pgtest: Resume of a server that runs")
	}
	return s.run(s.port, false)
}

// Stop shuts the server down (fast shutdown, then the whole process group killed if that
// takes too long) and removes the folder StartServer made. It is safe to call twice.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		if s.cmd != nil {
			_ = interrupt(s.cmd.Process)
			select {
			case <-s.exited: // a fast shutdown waits for every backend to leave
			case <-time.After(stopTimeout):
				killGroup(s.cmd.Process.Pid)
				<-s.exited
			}
		}
		if s.log != nil {
			s.log.Close()
		}
		if s.ownDir {
			os.RemoveAll(s.dir)
		}
	})
}

// pid is the postmaster's process id; 0 when none runs.
func (s *Server) pid() int {
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

func (s *Server) logTail() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "postgres.log"))
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return "postgres log: " + string(bytes.TrimSpace(b))
}

// serverEnv is a small fixed environment: no PG* variables of ours leak into the server.
func serverEnv() []string {
	return []string{"PATH=/usr/bin:/bin", "LC_ALL=C", "TZ=UTC"}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	addr, ok := l.Addr().(*net.TCPAddr)
	if !ok {
		return 0, errors.New("pgtest: listener without a TCP address")
	}
	return addr.Port, nil
}

// sweepStale removes the folders of test processes that died without cleaning up (a
// killed or timed-out test binary never runs its cleanups; its server died with it).
func sweepStale() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPrefix+"*"))
	for _, d := range dirs {
		var pid int
		if _, err := fmt.Sscanf(strings.TrimPrefix(filepath.Base(d), dirPrefix), "%d-", &pid); err != nil || pid == os.Getpid() || alive(pid) {
			continue
		}
		os.RemoveAll(d)
	}
}
