// Package sqlite implements store.Store on SQLite (modernc.org/sqlite, pure Go): WAL,
// synchronous=FULL, one writer connection that serializes every write, and a small pool of
// read-only connections.
package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/convo-sdk/convo/server/store"
)

// Options tune a Store. The zero value is usable.
type Options struct {
	// Retention is how many events each user's stream keeps; older ones are pruned as new
	// ones are appended. 0 means DefaultRetention.
	Retention int
	// Readers is the size of the read connection pool; 0 means 4.
	Readers int
	// PruneInterval is how often payloads no stream references any more are deleted; 0
	// means one minute.
	PruneInterval time.Duration
	Logger        *slog.Logger

	// moveEvery overrides linkTick in tests; negative: links stay pending.
	moveEvery time.Duration
	// checkpointEvery overrides checkpointEvery in tests; negative: checkpointLoop never runs.
	checkpointEvery time.Duration
}

// DefaultRetention is the number of events kept per user stream by default.
const DefaultRetention = 10000

// Store is the SQLite store. It is safe for concurrent use.
type Store struct {
	path      string
	w, r      *sql.DB
	cp        *sql.DB // checkpoints (checkpointLoop)
	retention uint64
	log       *slog.Logger

	stop      chan struct{}
	pruneDone chan struct{}
	closeOnce sync.Once

	writes     chan *writeReq // to the committer (group commit)
	commitDone chan struct{}

	committed      chan struct{} // a commit happened: the WAL may want a checkpoint
	checkpointDone chan struct{}
	finishCkpt     chan struct{} // the committer should finish a checkpoint (finishCheckpoint)

	linkDone chan struct{}  // linkLoop (links.go)
	heads    *streamHeads   // next offsets handed out; the committer's alone (heads.go)
	space    *spaceReserver // disk space ahead of the files' growth (space.go)
}

var _ store.Store = (*Store)(nil)

// writerCacheKiB is the writer connection's page cache (SQLite's default is 2 MiB).
const writerCacheKiB = 32 << 10

// Open opens (creating if needed) the database at path and brings its schema up to date.
func Open(path string, opts Options) (*Store, error) {
	if opts.Retention <= 0 {
		opts.Retention = DefaultRetention
	}
	if opts.Readers <= 0 {
		opts.Readers = 4
	}
	if opts.PruneInterval <= 0 {
		opts.PruneInterval = time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	pragmas := url.Values{}
	// secure_delete: what a write deletes or rewrites (a removed message, a redacted event)
	// is zeroed in the file's pages, not left in free space.
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(1)", "secure_delete(1)"} {
		pragmas.Add("_pragma", p)
	}
	wq := url.Values{"_txlock": {"immediate"}}
	for k, v := range pragmas {
		wq[k] = slices.Clone(v)
	}
	// The writer's group commit opens a savepoint per write, and SQLite journals every page
	// a savepoint changes: in memory, not in a temporary file (a write syscall per page).
	// Its cache holds a batch's pages without spilling them to the WAL before the commit
	// and keeps the hot b-tree pages (streams, conversations, the tails of messages and
	// events) across batches; the readers' caches restart on every commit anyway.
	wq.Add("_pragma", "temp_store(MEMORY)")
	wq.Add("_pragma", fmt.Sprintf("cache_size(%d)", -writerCacheKiB))
	// Checkpoints run on their own connection (checkpointLoop), not after the writer's
	// commits, where they would hold up every write queued behind them.
	wq.Add("_pragma", "wal_autocheckpoint(0)")
	wq.Add("_pragma", fmt.Sprintf("journal_size_limit(%d)", walSizeLimit))
	w, err := sql.Open(cachedDriverName, "file:"+path+"?"+wq.Encode())
	if err != nil {
		return nil, err
	}
	// SQLite has one writer at a time; one connection makes the pool queue writes instead of
	// failing them with SQLITE_BUSY.
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	w.SetConnMaxLifetime(0)
	if err := migrate(w); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: migrate %s: %w", path, err)
	}
	pragmas.Add("_pragma", "query_only(1)")
	r, err := sql.Open(cachedDriverName, "file:"+path+"?"+pragmas.Encode())
	if err != nil {
		w.Close()
		return nil, err
	}
	r.SetMaxOpenConns(opts.Readers)
	r.SetMaxIdleConns(opts.Readers)
	cp, err := sql.Open(cachedDriverName, "file:"+path+"?"+url.Values{"_pragma": pragmas["_pragma"][:len(pragmas["_pragma"])-1]}.Encode())
	if err != nil {
		w.Close()
		r.Close()
		return nil, err
	}
	cp.SetMaxOpenConns(1)
	s := &Store{path: path, w: w, r: r, cp: cp, retention: uint64(opts.Retention), log: opts.Logger,
		stop: make(chan struct{}), pruneDone: make(chan struct{}),
		writes: make(chan *writeReq), commitDone: make(chan struct{}),
		committed: make(chan struct{}, 1), checkpointDone: make(chan struct{}), finishCkpt: make(chan struct{}, 1), linkDone: make(chan struct{}),
		heads: newStreamHeads(), space: openSpaceReserver(path, opts.Logger)}
	if err := s.clearRestoreMark(); err != nil {
		w.Close()
		r.Close()
		cp.Close()
		s.space.close()
		return nil, fmt.Errorf("sqlite: %s: changing the epochs of a restored backup: %w", path, err)
	}
	s.space.reserve()
	go s.commitLoop()
	go s.linkLoop(cmp.Or(opts.moveEvery, linkTick))
	go s.pruneLoop(opts.PruneInterval)
	go s.checkpointLoop(cmp.Or(opts.checkpointEvery, checkpointEvery))
	return s, nil
}

// Close stops the pruner and closes the database after in-flight queries finish.
func (s *Store) Close() error {
	var err error
	s.closeOnce.Do(func() {
		close(s.stop)
		<-s.pruneDone
		<-s.commitDone
		<-s.checkpointDone
		<-s.linkDone
		err = errors.Join(s.r.Close(), s.cp.Close(), s.w.Close())
		err = errors.Join(err, s.space.close()) // after SQLite's: see spaceReserver
	})
	return err
}

// Ping runs a trivial query on the read pool and the writer, so a health check notices a
// broken database file as well as a wedged writer.
func (s *Store) Ping(ctx context.Context) error {
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil {
		return err
	}
	return s.w.PingContext(ctx)
}
