// Package sqlite implements store.Store on SQLite (modernc.org/sqlite, pure Go): WAL,
// synchronous=FULL, one writer connection that serializes every write, and a small pool of
// read-only connections.
package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/server/store/internal/storeutil"
	"github.com/convo-sdk/convo/wire"
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

// writeReq is one write waiting for the committer.
type writeReq struct {
	ctx  context.Context
	fn   func(ctx context.Context, tx *sql.Tx) error
	done chan error
}

// writerCacheKiB is the writer connection's page cache (SQLite's default is 2 MiB).
const writerCacheKiB = 32 << 10

// maxBatch bounds the writes one transaction commits together.
const maxBatch = 256

var _ store.Store = (*Store)(nil)

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
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(1)"} {
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
	s := &Store{w: w, r: r, cp: cp, retention: uint64(opts.Retention), log: opts.Logger,
		stop: make(chan struct{}), pruneDone: make(chan struct{}),
		writes: make(chan *writeReq), commitDone: make(chan struct{}),
		committed: make(chan struct{}, 1), checkpointDone: make(chan struct{}), finishCkpt: make(chan struct{}, 1), linkDone: make(chan struct{}),
		heads: newStreamHeads(), space: openSpaceReserver(path, opts.Logger)}
	s.space.reserve()
	go s.commitLoop()
	go s.linkLoop(cmp.Or(opts.moveEvery, linkTick))
	go s.pruneLoop(opts.PruneInterval)
	go s.checkpointLoop(cmp.Or(opts.checkpointEvery, checkpointEvery))
	return s, nil
}

// checkpointEvery is the most often checkpointLoop copies the WAL into the database.
const checkpointEvery = time.Second

// walRestartFrames is the WAL length (in frames) past which the committer finishes the
// checkpoint itself, so that the WAL starts over (finishCheckpoint).
const walRestartFrames = 4096

// walSizeLimit is what a WAL that a burst made longer is cut back to when it starts over.
const walSizeLimit = 64 << 20

// checkpointLoop copies committed WAL pages into the database file after commits, beside
// the writer: a PASSIVE checkpoint neither waits for nor blocks writers and readers.
// Durability does not depend on it: every commit is synced in the WAL.
func (s *Store) checkpointLoop(every time.Duration) {
	defer close(s.checkpointDone)
	if every < 0 {
		<-s.stop
		return
	}
	for {
		select {
		case <-s.stop:
			return
		case <-s.committed:
		}
		var busy, frames, copied int
		err := s.cp.QueryRow(`PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &copied)
		if err != nil {
			s.log.Warn("checkpointing the WAL failed", "err", err)
		} else {
			s.space.reserve() // the checkpoint may have lengthened the database file
			if frames >= walRestartFrames {
				select {
				case s.finishCkpt <- struct{}{}:
				default:
				}
			}
		}
		select {
		case <-s.stop:
			return
		case <-time.After(every):
		}
	}
}

// finishCheckpoint copies what the writes since checkpointLoop's last checkpoint added, on
// the writer's connection between two transactions. The WAL starts over only when a write
// begins with all of it copied, which under steady writes never happens beside the writer:
// commits land while a checkpoint runs. Without it the WAL grows as long as the load lasts
// (to 1.3 GB in a minute of fan-out), and syncing a growing file costs more than syncing
// one rewritten in place.
func (s *Store) finishCheckpoint() {
	if _, err := s.w.Exec(`PRAGMA wal_checkpoint(PASSIVE)`); err != nil {
		s.log.Warn("checkpointing the WAL failed", "err", err)
	}
}

// noteCommit wakes the checkpointer; it never blocks.
func (s *Store) noteCommit() {
	select {
	case s.committed <- struct{}{}:
	default:
	}
}

// migration is one named schema change.
type migration struct{ name, sql string }

var migrations []migration

// register adds a migration; it is called from package-level variable initialisers.
func register(name, sql string) struct{} {
	migrations = append(migrations, migration{name, sql})
	return struct{}{}
}

func migrate(db *sql.DB) error {
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied BIGINT NOT NULL)`); err != nil {
		return err
	}
	applied := map[string]bool{}
	rows, err := tx.Query(`SELECT name FROM schema_migrations`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return err
		}
		applied[name] = true
	}
	rows.Close()
	known := map[string]bool{}
	for _, m := range migrations {
		known[m.name] = true
	}
	for name := range applied {
		if !known[name] {
			return fmt.Errorf("the database has migration %q that this program does not know: it was written by a newer version", name)
		}
	}
	ordered := slices.Clone(migrations)
	slices.SortFunc(ordered, func(a, b migration) int { return strings.Compare(a.name, b.name) })
	for _, m := range ordered {
		if applied[m.name] {
			continue
		}
		if _, err := tx.Exec(m.sql); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		if _, err := tx.Exec(`INSERT INTO schema_migrations (name, applied) VALUES (?, ?)`, m.name, time.Now().UnixMilli()); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// AppliedMigrations returns the names of the applied migrations in name order.
func (s *Store) AppliedMigrations(ctx context.Context) ([]string, error) {
	return queryStrings(ctx, s.r, `SELECT name FROM schema_migrations ORDER BY name`)
}

// queryStrings runs a query that selects one text column and returns its values.
func queryStrings(ctx context.Context, q querier, query string, args ...any) ([]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
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

// write runs fn in a write transaction and returns once that transaction is durable.
// Writes that arrive while one commits are committed together (group commit): each runs in
// its own savepoint, so one that fails is undone alone, and all share one commit, one fsync.
// fn gets ctx's values without its cancellation: cancelling a statement interrupts SQLite,
// which may roll back the whole transaction and so every other write in the batch. A
// caller whose ctx ends before its turn is skipped; once running, its write completes.
func (s *Store) write(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	req := &writeReq{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case s.writes <- req:
	case <-s.stop:
		return errStoreClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-req.done
}

var errStoreClosed = errors.New("sqlite: store closed")

func (s *Store) commitLoop() {
	defer close(s.commitDone)
	linger := time.NewTimer(0)
	<-linger.C
	for {
		var batch []*writeReq
		busy := true // a write was waiting when the last commit finished
		select {
		case r := <-s.writes:
			batch = append(batch, r)
		default:
			busy = false
			select {
			case r := <-s.writes:
				batch = append(batch, r)
			case <-s.stop:
				return
			}
		}
		if busy {
			// Under load, a little more time gathers more writes into the commit: the
			// pages they share (stream heads, the tails of messages, events and links)
			// are written once for all of them. An idle store commits at once.
			linger.Reset(commitLinger)
		}
	more:
		for len(batch) < maxBatch {
			if !busy {
				select {
				case r := <-s.writes:
					batch = append(batch, r)
				default:
					break more
				}
				continue
			}
			select {
			case r := <-s.writes:
				batch = append(batch, r)
			case <-linger.C:
				busy = false
				break more
			}
		}
		linger.Stop() // since Go 1.23, no stale tick is left to drain
		s.commitBatch(batch)
		s.noteCommit()
		select {
		case <-s.finishCkpt:
			s.finishCheckpoint()
		default:
		}
	}
}

// commitLinger is how long a busy committer waits for more writes before committing.
const commitLinger = time.Millisecond

// commitBatch runs the batch in one transaction and reports each write's outcome only
// after the commit: nil to a write that is durable, its own error to one that failed (and
// was rolled back to its savepoint), and the transaction's error to all when it aborts.
func (s *Store) commitBatch(batch []*writeReq) {
	ctx := context.Background()
	fail := func(err error) {
		for _, r := range batch {
			r.done <- err
		}
	}
	if len(batch) == 1 {
		// Alone: no savepoint needed, the transaction is the write's own.
		r := batch[0]
		if err := r.ctx.Err(); err != nil {
			fail(err)
			return
		}
		tx, err := s.begin(ctx)
		if err != nil {
			fail(err)
			return
		}
		if err := runWrite(r, tx); err != nil {
			s.rollback(tx)
			fail(err)
			return
		}
		fail(s.commit(tx))
		return
	}
	tx, err := s.begin(ctx)
	if err != nil {
		fail(err)
		return
	}
	errs := make([]error, len(batch))
	for i, r := range batch {
		if errs[i] = r.ctx.Err(); errs[i] != nil {
			continue
		}
		if _, err := tx.ExecContext(ctx, `SAVEPOINT w`); err != nil {
			s.rollback(tx)
			fail(err)
			return
		}
		s.heads.savepoint()
		if errs[i] = runWrite(r, tx); errs[i] != nil {
			if _, err := tx.ExecContext(ctx, `ROLLBACK TO w`); err != nil {
				// SQLite rolled the whole transaction back (a full disk, an I/O error):
				// nothing of this batch is committed.
				s.rollback(tx)
				fail(fmt.Errorf("%w (batch rolled back: %v)", errs[i], err))
				return
			}
			s.heads.rollbackWrite()
		}
		if _, err := tx.ExecContext(ctx, `RELEASE w`); err != nil {
			s.rollback(tx)
			fail(err)
			return
		}
	}
	if err := s.commit(tx); err != nil {
		fail(err)
		return
	}
	for i, r := range batch {
		r.done <- errs[i]
	}
}

// begin opens the writer's transaction; the stream heads (heads.go) follow it.
func (s *Store) begin(ctx context.Context) (*sql.Tx, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	if err := s.heads.begin(ctx, tx); err != nil {
		tx.Rollback()
		return nil, err
	}
	return tx, nil
}

func (s *Store) rollback(tx *sql.Tx) {
	err := tx.Rollback()
	s.heads.rollback()
	if err != nil {
		// What the database holds is not known for sure (SQLite may have ended the
		// transaction itself): reload the heads from it.
		s.heads.forget()
	}
}

func (s *Store) commit(tx *sql.Tx) error {
	if err := tx.Commit(); err != nil {
		// A failed COMMIT may have rolled back; if it did not, the next begin's
		// data_version check cannot tell, so forget every head.
		s.heads.rollback()
		s.heads.forget()
		return err
	}
	s.heads.commit()
	return nil
}

// runWrite runs one write's function, turning a panic into that write's error: the
// committer serves every caller and must not die with one of them.
func runWrite(r *writeReq, tx *sql.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("sqlite: write panicked: %v", p)
		}
	}()
	return r.fn(context.WithoutCancel(r.ctx), tx)
}

func (s *Store) read(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.r.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	return fn(tx)
}

type scanner = storeutil.Scanner

// scan reads rows into wire types, with sql.ErrNoRows as store.ErrNotFound.
var scan = storeutil.Scans{NotFound: notFound}

func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}

// ---- users and streams

func (s *Store) EnsureUser(ctx context.Context, identity string) (wire.User, error) {
	u, err := s.user(ctx, s.r, identity)
	if err == nil {
		return u, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return u, err
	}
	err = s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := ensureUser(ctx, tx, identity); err != nil {
			return err
		}
		return ensureStream(ctx, tx, identity)
	})
	if err != nil {
		return u, err
	}
	return s.user(ctx, s.w, identity)
}

// querier is what *sql.DB and *sql.Tx have in common for reads.
type querier interface {
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

func (s *Store) user(ctx context.Context, q querier, identity string) (wire.User, error) {
	u := wire.User{Identity: identity}
	var a string
	err := q.QueryRowContext(ctx, `SELECT friendly_name, attributes FROM users WHERE identity = ?`, identity).
		Scan(&u.FriendlyName, &a)
	u.Attributes = json.RawMessage(a)
	return u, notFound(err)
}

func ensureUser(ctx context.Context, tx *sql.Tx, identity string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO users (identity, date_created) VALUES (?, ?)
		ON CONFLICT (identity) DO NOTHING`, identity, storeutil.Now())
	return err
}

func ensureStream(ctx context.Context, tx *sql.Tx, identity string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO streams (identity, epoch, next_offset) VALUES (?, ?, 1)
		ON CONFLICT (identity) DO NOTHING`, identity, store.NewEpoch())
	return err
}

func (s *Store) StreamHead(ctx context.Context, identity string) (store.StreamHead, error) {
	var h store.StreamHead
	err := s.read(ctx, func(tx *sql.Tx) error { return s.streamHead(ctx, tx, identity, &h) })
	if errors.Is(err, store.ErrNotFound) {
		// The user may exist already (created by the admin API) without a stream.
		err = s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
			if err := ensureUser(ctx, tx, identity); err != nil {
				return err
			}
			return ensureStream(ctx, tx, identity)
		})
		if err != nil {
			return h, err
		}
		err = s.read(ctx, func(tx *sql.Tx) error { return s.streamHead(ctx, tx, identity, &h) })
	}
	return h, err
}

func (s *Store) streamHead(ctx context.Context, tx *sql.Tx, identity string, h *store.StreamHead) error {
	epoch, last, found, err := streamLast(ctx, tx, identity)
	if err != nil {
		return err
	}
	if !found {
		return store.ErrNotFound
	}
	h.Epoch, h.Last = epoch, last
	// user_events holds the older part of a stream, pending_links the newer (links.go).
	var oldest sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(
		(SELECT MIN(stream_offset) FROM user_events WHERE identity = ?1),
		(SELECT MIN(stream_offset) FROM pending_links WHERE shard = ?2 AND identity = ?1))`,
		identity, linkShard(identity)).Scan(&oldest); err != nil {
		return err
	}
	h.Oldest = h.Last + 1
	if oldest.Valid {
		h.Oldest = uint64(oldest.Int64)
	}
	h.Oldest = max(h.Oldest, s.retainedAfter(h.Last)+1)
	return nil
}

// streamLast reads a stream's epoch and newest offset: the streams row's floor or the
// newest pending link, whichever is further (heads.go).
func streamLast(ctx context.Context, tx *sql.Tx, identity string) (epoch string, last uint64, found bool, err error) {
	err = tx.QueryRowContext(ctx, `SELECT epoch, max(next_offset - 1, COALESCE(
			(SELECT MAX(stream_offset) FROM pending_links WHERE shard = ?2 AND identity = ?1), 0))
		FROM streams WHERE identity = ?1`, identity, linkShard(identity)).Scan(&epoch, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return "", 0, false, nil
	}
	return epoch, last, err == nil, err
}

func (s *Store) ReadStream(ctx context.Context, identity string, after uint64, limit int) ([]store.Delivery, error) {
	var ds []store.Delivery
	err := s.read(ctx, func(tx *sql.Tx) error {
		_, last, found, err := streamLast(ctx, tx, identity)
		if err != nil || !found {
			return err // no stream yet: nothing in it
		}
		after = max(after, s.retainedAfter(last))
		// The moved links first, then the pending ones, which all come after them.
		rows, err := tx.QueryContext(ctx, `SELECT ue.stream_offset, e.name, e.payload
			FROM user_events ue JOIN events e ON e.id = ue.event_id
			WHERE ue.identity = ? AND ue.stream_offset > ? ORDER BY ue.stream_offset LIMIT ?`, identity, after, limit)
		if ds, err = scanDeliveries(identity, ds, rows, err); err != nil || len(ds) >= limit {
			return err
		}
		rows, err = tx.QueryContext(ctx, `SELECT pl.stream_offset, e.name, e.payload
			FROM pending_links pl JOIN events e ON e.id = pl.event_id
			WHERE pl.shard = ? AND pl.identity = ? AND pl.stream_offset > ? ORDER BY pl.stream_offset LIMIT ?`,
			linkShard(identity), identity, after, limit-len(ds))
		ds, err = scanDeliveries(identity, ds, rows, err)
		return err
	})
	return ds, err
}

// scanDeliveries appends the (offset, event, payload) rows of a stream query to ds.
func scanDeliveries(identity string, ds []store.Delivery, rows *sql.Rows, err error) ([]store.Delivery, error) {
	if err != nil {
		return ds, err
	}
	defer rows.Close()
	for rows.Next() {
		d := store.Delivery{Identity: identity}
		var p string
		if err := rows.Scan(&d.Offset, &d.Event, &p); err != nil {
			return ds, err
		}
		d.Payload = json.RawMessage(p)
		ds = append(ds, d)
	}
	return ds, rows.Err()
}

// appendEvent stores payload once and appends it to each recipient's stream: an offset
// from the writer's heads (heads.go), a link filed pending (links.go). It runs inside the
// transaction of the change it reports.
func (s *Store) appendEvent(ctx context.Context, tx *sql.Tx, name string, v any, recipients []string) ([]store.Delivery, error) {
	payload, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return s.appendEventFor(ctx, tx, name, recipients, func(string) any { return json.RawMessage(payload) })
}

// appendEventFor is appendEvent with a payload per recipient: recipients with identical
// payloads share one stored row; the first row is the event, the others its variants.
func (s *Store) appendEventFor(ctx context.Context, tx *sql.Tx, name string, recipients []string, payloadFor func(identity string) any) ([]store.Delivery, error) {
	type row struct {
		id      int64
		payload []byte
	}
	rows := map[string]row{}
	var first int64
	eventFor := func(identity string) (row, error) {
		var payload []byte
		switch v := payloadFor(identity).(type) {
		case json.RawMessage:
			payload = v
		default:
			var err error
			if payload, err = json.Marshal(v); err != nil {
				return row{}, err
			}
		}
		if r, ok := rows[string(payload)]; ok {
			return r, nil
		}
		var variantOf sql.NullInt64
		if first != 0 {
			variantOf = sql.NullInt64{Int64: first, Valid: true}
		}
		r := row{payload: payload}
		if err := tx.QueryRowContext(ctx, `INSERT INTO events (name, payload, variant_of) VALUES (?, ?, ?) RETURNING id`,
			name, string(payload), variantOf).Scan(&r.id); err != nil {
			return row{}, err
		}
		if first == 0 {
			first = r.id
		}
		rows[string(payload)] = r
		return r, nil
	}
	if len(recipients) == 0 {
		// Nobody's stream gets it, but the events log still records every change.
		_, err := eventFor("")
		return nil, err
	}
	// A stream gets an event once, even if a caller lists its owner twice.
	seen := make(map[string]bool, len(recipients))
	uniq := recipients[:0:0]
	for _, id := range recipients {
		if !seen[id] {
			seen[id] = true
			uniq = append(uniq, id)
		}
	}
	recipients = uniq
	offsets, err := s.heads.take(ctx, tx, recipients)
	if err != nil {
		return nil, err
	}
	ds := make([]store.Delivery, 0, len(recipients))
	links := make([][3]any, 0, len(recipients))
	at := time.Now() // for the fan-out latency metric
	for i, id := range recipients {
		ev, err := eventFor(id)
		if err != nil {
			return nil, err
		}
		off := offsets[i]
		links = append(links, [3]any{id, off, ev.id})
		ds = append(ds, store.Delivery{Identity: id, Offset: off, Event: name, Payload: ev.payload, At: at})
	}
	if err := fileLinks(ctx, tx, links); err != nil {
		return nil, err
	}
	return ds, nil
}

func (s *Store) pruneLoop(every time.Duration) {
	defer close(s.pruneDone)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			if _, err := s.PruneEvents(context.Background()); err != nil {
				s.log.Warn("pruning event payloads failed", "err", err)
			}
		}
	}
}

// PruneEvents deletes event payloads no stream references any more (retention dropped every
// reference) and reports how many went. Webhook-only events stay: the webhook dispatcher
// deletes them once delivered. It works in small batches to keep writes flowing, and
// forgets the webhook deliveries done more than store.WebhookDoneKept ago.
func (s *Store) PruneEvents(ctx context.Context) (int64, error) {
	var total int64
	for {
		var n int64
		first := total == 0
		err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
			if first {
				// Every link into user_events, where retention applies and the check
				// below looks.
				if err := s.moveAllLinks(ctx, tx); err != nil {
					return err
				}
			}
			res, err := tx.ExecContext(ctx, `DELETE FROM events WHERE id IN (
				SELECT e.id FROM events e
				WHERE NOT EXISTS (SELECT 1 FROM user_events ue WHERE ue.event_id = e.id)
				-- nor by a link still pending (one filed in this batch after the moves)
				AND e.id < (SELECT COALESCE(MIN(event_id), 1 << 62) FROM pending_links)
				AND e.webhook_only = 0
				-- the webhook dispatcher still needs what is after its cursor (admin.go)
				AND NOT EXISTS (SELECT 1 FROM webhook_cursor w WHERE w.enabled = 1 AND e.id > w.event_id)
				-- keep the newest row so ids never go back (INTEGER PRIMARY KEY reuses max+1)
				AND e.id < (SELECT MAX(id) FROM events)
				LIMIT 500)`)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		total += n
		if err != nil {
			return total, err
		}
		if n == 0 {
			break
		}
	}
	return total, s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM webhook_done WHERE done_at < ?`, storeutil.Now()-store.WebhookDoneKept.Milliseconds())
		return err
	})
}

// ---- conversations

const conversationCols = storeutil.ConversationCols

// cursorPage reads up to limit items from rows fetched with LIMIT limit+1 (see
// storeutil.CursorPage), and closes rows.
func cursorPage[T any](rows *sql.Rows, limit int, scan func(scanner) (T, int64, error)) ([]T, string, error) {
	defer rows.Close()
	return storeutil.CursorPage(rows, limit, scan)
}

func (s *Store) CreateConversation(ctx context.Context, nc store.NewConversation) (wire.Conversation, error) {
	sid := store.NewSid(store.PrefixConversation)
	t := storeutil.Now()
	var conv wire.Conversation
	var uniq sql.NullString
	if nc.UniqueName != "" {
		uniq = sql.NullString{String: nc.UniqueName, Valid: true}
	}
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if uniq.Valid {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM conversations WHERE unique_name = ?`, uniq).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return store.ErrConflict
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO conversations
			(sid, unique_name, friendly_name, attributes, created_by, date_created, date_updated)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, sid, uniq, nc.FriendlyName, storeutil.Attrs(nc.Attributes), nc.CreatedBy, t, t)
		if err != nil {
			return err
		}
		if conv, err = s.conversation(ctx, tx, `c.sid = ?`, sid); err != nil {
			return err
		}
		return appendWebhookEvent(ctx, tx, store.EventConversationCreated, wire.ConversationEvent{Conversation: conv})
	})
	return conv, err
}

func (s *Store) conversation(ctx context.Context, q querier, where string, arg any) (wire.Conversation, error) {
	c, _, err := scan.Conversation(q.QueryRowContext(ctx, `SELECT `+conversationCols+` FROM conversations c WHERE `+where, arg))
	return c, err
}

func (s *Store) Conversation(ctx context.Context, sid string) (wire.Conversation, error) {
	return s.conversation(ctx, s.r, `c.sid = ?`, sid)
}

func (s *Store) ConversationByUniqueName(ctx context.Context, name string) (wire.Conversation, error) {
	return s.conversation(ctx, s.r, `c.unique_name = ?`, name)
}

func (s *Store) ConversationsOf(ctx context.Context, identity, after string, limit int) ([]wire.Conversation, string, error) {
	afterID, err := storeutil.ParseCursor(after)
	if err != nil {
		return nil, "", err
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+conversationCols+`, `+viewCols+` FROM conversations c
		JOIN participants p ON p.conversation_sid = c.sid
		WHERE p.identity = ? AND c.id > ? ORDER BY c.id LIMIT ?`, identity, afterID, limit+1)
	if err != nil {
		return nil, "", err
	}
	return cursorPage(rows, limit, scan.ConversationView)
}

// ---- participants

// participantCols are the columns every insert sets; participantSelect those a read scans.
const participantCols = `sid, conversation_sid, identity, type, attributes, date_created, date_updated`

const participantSelect = participantCols + `, last_read_index, last_read_date, address, proxy_address, bindings, role_sid`

// nonChatIdentity is what the identity column holds for a non-chat participant: unique per
// participant and never a real identity (those exclude control characters).
func nonChatIdentity(sid string) string { return "\x00" + sid }

func (s *Store) AddParticipant(ctx context.Context, np store.NewParticipant) (wire.Participant, []store.Delivery, error) {
	if np.Type == "" {
		np.Type = wire.ParticipantChat
	}
	if np.Max <= 0 {
		np.Max = wire.MaxParticipantsPerConv
	}
	if np.Type != wire.ParticipantChat {
		return s.addNonChatParticipant(ctx, np)
	}
	var (
		p  wire.Participant
		ds []store.Delivery
	)
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		conv, err := s.conversation(ctx, tx, `c.sid = ?`, np.ConversationSid)
		if err != nil {
			return err
		}
		members, err := participantIdentities(ctx, tx, np.ConversationSid)
		if err != nil {
			return err
		}
		for _, m := range members {
			if m == np.Identity {
				return store.ErrConflict
			}
		}
		if err := checkBan(ctx, tx, np); err != nil {
			return err
		}
		if n, err := participantCount(ctx, tx, np.ConversationSid); err != nil {
			return err
		} else if n >= np.Max {
			return store.ErrTooManyParticipants
		}
		t := storeutil.Now()
		sid := store.NewSid(store.PrefixParticipant)
		if _, err := tx.ExecContext(ctx, `INSERT INTO participants (`+participantCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			sid, np.ConversationSid, np.Identity, np.Type, storeutil.Attrs(np.Attributes), t, t); err != nil {
			return err
		}
		if err := ensureUser(ctx, tx, np.Identity); err != nil {
			return err
		}
		if p, err = scan.Participant(tx.QueryRowContext(ctx, `SELECT `+participantSelect+` FROM participants WHERE sid = ?`, sid)); err != nil {
			return err
		}
		conv.Joined = true
		conv.NotificationLevel = wire.NotificationDefault
		joined, err := s.appendEvent(ctx, tx, wire.EventConversationJoined, wire.ConversationEvent{Conversation: conv}, []string{np.Identity})
		if err != nil {
			return err
		}
		all, err := s.appendEvent(ctx, tx, wire.EventParticipantJoined, wire.ParticipantEvent{Participant: p}, append(members, np.Identity))
		if err != nil {
			return err
		}
		ds = append(joined, all...)
		return nil
	})
	return p, ds, err
}

// checkBan refuses to add an identity removed by someone else, or ends its ban when the add
// may (np.LiftBan).
func checkBan(ctx context.Context, tx *sql.Tx, np store.NewParticipant) error {
	if np.LiftBan {
		_, err := tx.ExecContext(ctx, `DELETE FROM participant_bans WHERE conversation_sid = ? AND identity = ?`, np.ConversationSid, np.Identity)
		return err
	}
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM participant_bans WHERE conversation_sid = ? AND identity = ?`, np.ConversationSid, np.Identity).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return err
	}
	return store.ErrRemoved
}

func participantIdentities(ctx context.Context, tx *sql.Tx, conv string) ([]string, error) {
	return queryStrings(ctx, tx, `SELECT identity FROM participants WHERE conversation_sid = ? AND type = 'chat' ORDER BY id`, conv)
}

func (s *Store) Participant(ctx context.Context, conv, identity string) (wire.Participant, error) {
	return scan.Participant(s.r.QueryRowContext(ctx, `SELECT `+participantSelect+` FROM participants
		WHERE conversation_sid = ? AND identity = ?`, conv, identity))
}

func (s *Store) Participants(ctx context.Context, conv string) ([]wire.Participant, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+participantSelect+` FROM participants WHERE conversation_sid = ? ORDER BY id`, conv)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return storeutil.All(rows, scan.Participant)
}

// ---- messages

// messageCols are the columns every insert sets; messageSelect those a read scans. Media
// and receipts come from their own tables (loadMessageExtras).
const messageCols = `sid, conversation_sid, idx, author, participant_sid, body, attributes, date_created, date_updated`

const messageSelect = messageCols + `, subject, content_sid, content_variables, last_updated_by`

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

func (s *Store) SendMessage(ctx context.Context, nm store.NewMessage) (wire.Message, bool, []store.Delivery, error) {
	var (
		m       wire.Message
		created bool
		ds      []store.Delivery
	)
	// What does not depend on the transaction is prepared before it, off the writer.
	sid := store.NewSid(store.PrefixMessage)
	var body, subject, vars sql.NullString
	if nm.Body != nil {
		body = sql.NullString{String: *nm.Body, Valid: true}
	}
	if nm.Subject != nil {
		subject = sql.NullString{String: *nm.Subject, Valid: true}
	}
	if len(nm.ContentVariables) > 0 {
		b, err := json.Marshal(nm.ContentVariables)
		if err != nil {
			return m, false, nil, err
		}
		vars = sql.NullString{String: string(b), Valid: true}
	}
	attrs := storeutil.Attrs(nm.Attributes)
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if nm.IdempotencyKey != "" {
			prev, err := scan.Message(tx.QueryRowContext(ctx, `SELECT `+messageSelect+` FROM messages
				WHERE conversation_sid = ? AND author = ? AND idempotency_key = ?`, nm.ConversationSid, nm.Author, nm.IdempotencyKey))
			if err == nil {
				m = prev
				return loadMessageExtras(ctx, tx, []*wire.Message{&m})
			}
			if !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		// The conversation's next index, taken in the statement that records the message as
		// its last and restarts its lifecycle timers from t (as restartTimers does: an active
		// conversation runs both, one not closed the closed timer). An inactive conversation
		// keeps its timers here and wakes below (touchConversation). A closed one takes no
		// messages and is left as it is. If a later statement fails, the rollback (to the
		// write's savepoint) undoes this update with the rest.
		t := storeutil.Now()
		var (
			idx   int64
			state string
		)
		if err := tx.QueryRowContext(ctx, `UPDATE conversations SET
			last_message_index = COALESCE(last_message_index + 1, 0), last_message_date = ?1,
			inactive_at = CASE WHEN state = 'inactive' THEN inactive_at
				WHEN state = 'active' AND inactive_after_ms IS NOT NULL THEN ?1 + inactive_after_ms END,
			closed_at = CASE WHEN state = 'inactive' THEN closed_at
				WHEN closed_after_ms IS NOT NULL THEN ?1 + closed_after_ms END
			WHERE sid = ?2 AND state <> 'closed' RETURNING last_message_index, state`,
			t, nm.ConversationSid).Scan(&idx, &state); err != nil {
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			if err := tx.QueryRowContext(ctx, `SELECT state FROM conversations WHERE sid = ?`, nm.ConversationSid).Scan(&state); err != nil {
				return notFound(err)
			}
			return store.ErrClosed
		}
		// The insert returns the row as stored (messages has no triggers): reading it back
		// takes no second statement.
		var err error
		if m, err = scan.Message(tx.QueryRowContext(ctx, `INSERT INTO messages (`+messageCols+`, idempotency_key, subject, content_sid, content_variables)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING `+messageSelect,
			sid, nm.ConversationSid, idx, nm.Author, nullString(nm.ParticipantSid), body, attrs, t, t,
			nullString(nm.IdempotencyKey), subject, nullString(nm.ContentSid), vars)); err != nil {
			return err
		}
		if err := attachMedia(ctx, tx, nm.ConversationSid, sid, nm.Author, nm.MediaSids); err != nil {
			return err
		}
		// A message just written has no receipts yet, and media only if it attached some:
		// without media there is nothing for loadMessageExtras to find.
		if len(nm.MediaSids) > 0 {
			if err := loadMessageExtras(ctx, tx, []*wire.Message{&m}); err != nil {
				return err
			}
		}
		members, err := participantIdentities(ctx, tx, nm.ConversationSid)
		if err != nil {
			return err
		}
		created = true
		if ds, err = s.appendEvent(ctx, tx, wire.EventMessageAdded, wire.MessageEvent{Message: m}, members); err != nil {
			return err
		}
		if state != wire.StateInactive {
			return nil // timers restarted above
		}
		// Activity wakes an inactive conversation (and restarts its timers).
		woke, err := s.touchConversation(ctx, tx, nm.ConversationSid, state, t)
		ds = append(ds, woke...)
		return err
	})
	return m, created, ds, err
}

func (s *Store) Messages(ctx context.Context, q store.MessageQuery) (wire.MessagePage, error) {
	page := wire.MessagePage{Items: []wire.Message{}}
	if q.PageSize <= 0 {
		q.PageSize = wire.DefaultMessagePageSize
	}
	err := s.read(ctx, func(tx *sql.Tx) error {
		var (
			query string
			args  = []any{q.ConversationSid}
		)
		switch {
		case q.Forward && q.Anchor != nil:
			query, args = `AND idx >= ? ORDER BY idx ASC`, append(args, *q.Anchor)
		case q.Forward:
			query = `ORDER BY idx ASC`
		case q.Anchor != nil:
			query, args = `AND idx <= ? ORDER BY idx DESC`, append(args, *q.Anchor)
		default:
			query = `ORDER BY idx DESC`
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+messageSelect+` FROM messages WHERE conversation_sid = ? `+query+` LIMIT ?`,
			append(args, q.PageSize+1)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			m, err := scan.Message(rows)
			if err != nil {
				return err
			}
			page.Items = append(page.Items, m)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		more := len(page.Items) > q.PageSize
		if more {
			page.Items = page.Items[:q.PageSize]
		}
		if !q.Forward {
			for i, j := 0, len(page.Items)-1; i < j; i, j = i+1, j-1 {
				page.Items[i], page.Items[j] = page.Items[j], page.Items[i]
			}
		}
		ptrs := make([]*wire.Message, len(page.Items))
		for i := range page.Items {
			ptrs[i] = &page.Items[i]
		}
		if err := loadMessageExtras(ctx, tx, ptrs); err != nil {
			return err
		}
		// The side the query walked towards is known from the extra row; look at the other.
		exists := func(cond string, idx int64) (bool, error) {
			var n int
			err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM messages WHERE conversation_sid = ? AND idx `+cond+` ? LIMIT 1) t`,
				q.ConversationSid, idx).Scan(&n)
			return n > 0, err
		}
		if q.Forward {
			page.HasNext = more
			if q.Anchor != nil {
				page.HasPrev, err = exists("<", *q.Anchor)
			}
		} else {
			page.HasPrev = more
			if q.Anchor != nil {
				page.HasNext, err = exists(">", *q.Anchor)
			}
		}
		return err
	})
	return page, err
}
