package pgtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"
)

// EnvRequire set to 1 turns a missing PostgreSQL into a test failure instead of a skip
// (make test sets it, so the PostgreSQL tests cannot silently stop running).
const EnvRequire = "CONVO_REQUIRE_POSTGRES"

// Start runs a server until the test ends and returns the URL of an empty database in it.
// The server runs with fsync and synchronous commits off: the data is thrown away, and
// tests run much faster without waiting for the disk.
func Start(t testing.TB) (dsn string) {
	t.Helper()
	return StartT(t).DSN()
}

// StartT is Start returning the server, to create more databases in it (one cluster per
// test package, one database per test, keeps a package's tests quick).
func StartT(t testing.TB) *Server {
	t.Helper()
	s, err := StartServer("", false)
	if errors.Is(err, ErrNoBinaries) && os.Getenv(EnvRequire) != "1" {
		t.Skipf("%v (set %s=1 to fail instead)", err, EnvRequire)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

var dbSeq atomic.Int64

// NewDatabase creates an empty database in s for t and returns its URL.
func (s *Server) NewDatabase(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dsn, err := s.CreateDatabase(ctx, fmt.Sprintf("test_%d", dbSeq.Add(1)))
	if err != nil {
		t.Fatal(err)
	}
	return dsn
}
