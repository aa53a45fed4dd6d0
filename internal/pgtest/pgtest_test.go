package pgtest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func setting(t *testing.T, c *pgx.Conn, name string) string {
	var v string
	require.NoError(t, c.QueryRow(ctxT(t), "SELECT current_setting($1)", name).Scan(&v))
	return v
}

func TestServerListensOnLoopbackOnlyWithFreshDatabases(t *testing.T) {
	ctx := ctxT(t)
	s := StartT(t)
	c, err := pgx.Connect(ctx, s.DSN())
	require.NoError(t, err)
	defer c.Close(ctx)
	assert.Equal(t, "127.0.0.1", setting(t, c, "listen_addresses"))
	assert.Equal(t, filepath.Join(s.dir, "sock"), setting(t, c, "unix_socket_directories"))
	assert.Equal(t, "off", setting(t, c, "fsync"), "unit tests run without waiting for the disk")
	_, err = c.Exec(ctx, "CREATE TABLE only_here (x int)")
	require.NoError(t, err)

	other, err := pgx.Connect(ctx, s.NewDatabase(t))
	require.NoError(t, err)
	defer other.Close(ctx)
	var n int
	require.NoError(t, other.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE tablename = 'only_here'").Scan(&n))
	assert.Zero(t, n, "each database starts empty")
}

func TestDurableServerSyncsCommits(t *testing.T) {
	ctx := ctxT(t)
	dir, err := os.MkdirTemp("", "pgtest-durable-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	s, err := StartServer(dir, true)
	if errors.Is(err, ErrNoBinaries) && os.Getenv(EnvRequire) != "1" {
		t.Skip(err)
	}
	require.NoError(t, err)
	defer s.Stop()
	c, err := pgx.Connect(ctx, s.DSN())
	require.NoError(t, err)
	defer c.Close(ctx)
	assert.Equal(t, "on", setting(t, c, "fsync"))
	assert.Equal(t, "on", setting(t, c, "synchronous_commit"))
}

func TestStopEndsTheServerAndRemovesItsFolder(t *testing.T) {
	s := StartT(t)
	pid := s.pid()
	require.True(t, alive(pid))
	s.Stop()
	assert.False(t, alive(pid), "postmaster %d still running", pid)
	assert.NoDirExists(t, s.dir)
	s.Stop() // twice is fine
}

// childEnv makes the test binary act as a process that starts a server and then dies.
const childEnv = "PGTEST_CHILD_STARTS_SERVER"

func TestServerDiesWithItsParentProcess(t *testing.T) {
	if os.Getenv(childEnv) == "1" {
		s, err := StartServer("", false)
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println("started", s.pid(), s.dir)
		time.Sleep(time.Minute) // killed by the parent long before
		os.Exit(0)
	}
	if _, err := findBinDir(); err != nil && os.Getenv(EnvRequire) != "1" {
		t.Skip(err)
	}
	child := exec.Command(os.Args[0], "-test.run=^TestServerDiesWithItsParentProcess$")
	child.Env = append(os.Environ(), childEnv+"=1")
	out, err := child.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, child.Start())
	defer child.Process.Kill()
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err)
	var (
		pid int
		dir string
	)
	_, err = fmt.Sscanf(strings.TrimSpace(line), "started %d %s", &pid, &dir)
	require.NoError(t, err, line)
	t.Cleanup(func() {
		killGroup(pid) // should the test fail, leave nothing behind
		os.RemoveAll(dir)
	})
	require.True(t, alive(pid))

	require.NoError(t, child.Process.Kill()) // no cleanup runs in the child
	_ = child.Wait()
	assert.Eventually(t, func() bool { return !alive(pid) }, 15*time.Second, 50*time.Millisecond,
		"postmaster %d outlived the process that started it", pid)

	// The next server started sweeps the dead process's folder.
	StartT(t)
	assert.NoDirExists(t, dir)
}

// fakeTB records how StartT gives up; both ways end the calling goroutine, as testing does.
type fakeTB struct {
	testing.TB
	skipped, failed string
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Skipf(format string, args ...any) {
	f.skipped = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (f *fakeTB) Fatal(args ...any) {
	f.failed = fmt.Sprint(args...)
	runtime.Goexit()
}

func startWithout(t *testing.T) *fakeTB {
	f := &fakeTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		StartT(f)
	}()
	<-done
	return f
}

func TestMissingBinariesSkipUnlessRequired(t *testing.T) {
	t.Setenv(EnvBinDir, t.TempDir()) // a folder without initdb and postgres
	t.Setenv(EnvRequire, "")
	f := startWithout(t)
	assert.Contains(t, f.skipped, "not found")
	assert.Contains(t, f.skipped, EnvRequire)
	assert.Empty(t, f.failed)

	t.Setenv(EnvRequire, "1")
	f = startWithout(t)
	assert.Empty(t, f.skipped)
	assert.Contains(t, f.failed, "install the postgresql package")
}

func TestHaltAndResumeKeepTheDataAndTheAddress(t *testing.T) {
	ctx := ctxT(t)
	s := StartT(t)
	dsn := s.DSN()
	c, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	_, err = c.Exec(ctx, "CREATE TABLE kept (x int); INSERT INTO kept VALUES (7)")
	require.NoError(t, err)

	s.Halt()
	_, err = c.Exec(ctx, "SELECT 1")
	assert.Error(t, err, "the connection died with the server")
	c.Close(ctx)
	_, err = pgx.Connect(ctx, dsn)
	assert.Error(t, err, "nothing listens while halted")

	require.NoError(t, s.Resume())
	assert.Equal(t, dsn, s.DSN())
	c, err = pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	defer c.Close(ctx)
	var x int
	require.NoError(t, c.QueryRow(ctx, "SELECT x FROM kept").Scan(&x))
	assert.Equal(t, 7, x)
}
