package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// writeReq is one write waiting for the committer.
type writeReq struct {
	ctx  context.Context
	fn   func(ctx context.Context, tx *sql.Tx) error
	done chan error
}

// maxBatch bounds the writes one transaction commits together.
const maxBatch = 256

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
	return s.full(<-req.done)
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
		// A COMMIT that fails on a full disk or an I/O error can leave SQLite's
		// transaction open; the driver rolls it back before returning, so the writer's
		// connection is clean for the next write (TestWritesResumeAfterAFullDisk). The
		// heads cannot tell from data_version what happened: every one is forgotten.
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
