package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
	"strings"
	"time"
)

// Stream links, filed late.
//
// Every event is linked into each recipient's stream: a user_events row keyed by
// (identity, stream_offset). Filed at once, a message to ten people dirties ten leaf pages
// of that b-tree, one per recipient's stream, and the single writer rewrites each of them
// into the WAL at every commit: most of the writer's time under fan-out.
//
// So a commit files its links in pending_links instead, in the same transaction as the
// event (durable and atomic with it), keyed by (shard, event_id, identity): event ids only
// grow, so new links land on the tail page of their shard's key range, a handful of pages
// per commit whatever the number of recipients. A background tick (linkLoop) moves one
// shard's links into user_events, sorted by key: a user's links of the last round land
// together on that user's leaf. Reads look in both tables in one snapshot, where a link is
// in exactly one of them. A crash leaves the pending rows where they are, still read and
// later moved.

const (
	// linkShards splits the identities: a move takes one shard's links.
	linkShards = 8
	// linkTick is how often a shard moves; each shard moves every linkShards ticks.
	linkTick = 100 * time.Millisecond
)

// linkShard is identity's shard: stored in rows, so the same in every process and version.
func linkShard(identity string) int {
	h := fnv.New32a()
	h.Write([]byte(identity))
	return int(h.Sum32() % linkShards)
}

// fileLinks files [identity, stream offset, event id] links as pending.
func fileLinks(ctx context.Context, tx *sql.Tx, links [][3]any) error {
	args := make([]any, 0, 4*len(links))
	for _, l := range links {
		args = append(args, linkShard(l[0].(string)), l[2], l[0], l[1])
	}
	return insertValues(ctx, tx, `INSERT INTO pending_links (shard, event_id, identity, stream_offset) VALUES `, 4, args)
}

// insertValues runs insert (which ends in VALUES) for rows of `cols` arguments each, bound
// as parameters: several rows a statement, in a few fixed sizes so that the statement
// cache holds few texts. Binding beats passing a JSON array and taking it apart in SQL.
func insertValues(ctx context.Context, tx *sql.Tx, insert string, cols int, args []any) error {
	for rows := len(args) / cols; rows > 0; {
		n := 1
		for _, size := range []int{64, 16, 4} {
			if rows >= size {
				n = size
				break
			}
		}
		if _, err := tx.ExecContext(ctx, valuesSQL(insert, cols, n), args[:n*cols]...); err != nil {
			return err
		}
		args, rows = args[n*cols:], rows-n
	}
	return nil
}

// valuesSQL is insert followed by n rows of cols placeholders.
func valuesSQL(insert string, cols, n int) string {
	row := "(?" + strings.Repeat(", ?", cols-1) + ")"
	return insert + row + strings.Repeat(", "+row, n-1)
}

// moveLinks moves shard's pending links into user_events and deletes the rows of those
// streams that fell out of retention.
func (s *Store) moveLinks(ctx context.Context, tx *sql.Tx, shard int) error {
	// The streams' floors first: the offsets leaving pending_links must stay counted
	// (heads.go), and retention below counts from them.
	if _, err := tx.ExecContext(ctx, `UPDATE streams SET next_offset = p.last + 1
		FROM (SELECT identity, MAX(stream_offset) AS last FROM pending_links WHERE shard = ? GROUP BY identity) AS p
		WHERE streams.identity = p.identity AND streams.next_offset <= p.last`, shard); err != nil {
		return fmt.Errorf("raising stream heads: %w", err)
	}
	// OR IGNORE: a link is in one table or the other, but a move never fails a write.
	if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO user_events (identity, stream_offset, event_id)
		SELECT identity, stream_offset, event_id FROM pending_links WHERE shard = ?
		ORDER BY identity, stream_offset`, shard); err != nil {
		return fmt.Errorf("moving stream links: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM user_events WHERE (identity, stream_offset) IN (
		SELECT ue.identity, ue.stream_offset
		FROM (SELECT DISTINCT identity FROM pending_links WHERE shard = ?1) p
		JOIN streams st ON st.identity = p.identity
		JOIN user_events ue ON ue.identity = p.identity AND ue.stream_offset <= st.next_offset - 1 - ?2)`,
		shard, s.retention); err != nil {
		return fmt.Errorf("pruning streams: %w", err)
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM pending_links WHERE shard = ?`, shard)
	return err
}

// moveAllLinks moves every shard's pending links.
func (s *Store) moveAllLinks(ctx context.Context, tx *sql.Tx) error {
	for shard := range linkShards {
		if err := s.moveLinks(ctx, tx, shard); err != nil {
			return err
		}
	}
	return nil
}

// linkLoop moves one shard's pending links every tick, when it has any.
func (s *Store) linkLoop(tick time.Duration) {
	defer close(s.linkDone)
	if tick < 0 {
		<-s.stop
		return
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	for shard := 0; ; shard = (shard + 1) % linkShards {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		var pending bool
		if err := s.r.QueryRow(`SELECT EXISTS (SELECT 1 FROM pending_links WHERE shard = ?)`, shard).Scan(&pending); err != nil || !pending {
			continue
		}
		err := s.write(context.Background(), func(ctx context.Context, tx *sql.Tx) error {
			return s.moveLinks(ctx, tx, shard)
		})
		if err != nil && err != errStoreClosed {
			s.log.Warn("moving stream links failed; the next round retries", "err", err)
		}
	}
}

// retainedAfter is the offset after which a stream whose newest offset is last keeps its
// events: older ones are out of retention even while their rows wait for a move.
func (s *Store) retainedAfter(last uint64) uint64 {
	if last > s.retention {
		return last - s.retention
	}
	return 0
}
