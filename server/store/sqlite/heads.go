package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
)

// Stream heads, kept by the writer.
//
// Every event takes the next offset of each recipient's stream. Counted in streams rows at
// every commit, a message to ten people dirtied up to ten pages of that table, rewritten
// into the WAL by every commit. So the writer hands offsets out from memory, and a streams
// row holds a floor: a stream's next offset is the greater of streams.next_offset and one
// past its newest pending link (links.go). Every offset handed out is in a pending link
// until a move files it in user_events, and the move raises the floor in the same
// transaction; so the rule holds in every snapshot, and readers (streamLast) need nothing
// from the writer's memory.
//
// The memory is the writer goroutine's alone. It follows the transaction: changes made by a
// write that rolls back to its savepoint, or by a batch that fails, are undone. Another
// process writing to the same file (PRAGMA data_version moves) makes it start over.

// maxHeads bounds the heads kept; past it they are dropped between batches and reloaded as
// they are needed.
const maxHeads = 1 << 17

type streamHeads struct {
	next    map[string]uint64 // identity's next offset, as of the open transaction
	journal []headChange      // changes of the open transaction, oldest first
	mark    int               // where the current write's changes start in journal
	version int64             // PRAGMA data_version when this connection last looked
}

// headChange is a head as it was before a change: absent (not loaded) or at next.
type headChange struct {
	identity string
	next     uint64
	present  bool
}

func newStreamHeads() *streamHeads {
	return &streamHeads{next: map[string]uint64{}, version: -1}
}

// begin starts a transaction: heads another connection may have moved since are forgotten.
func (h *streamHeads) begin(ctx context.Context, tx *sql.Tx) error {
	var v int64
	if err := tx.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&v); err != nil {
		return fmt.Errorf("reading the data version: %w", err)
	}
	if v != h.version || len(h.next) > maxHeads {
		clear(h.next)
	}
	h.version = v
	h.journal, h.mark = h.journal[:0], 0
	return nil
}

// savepoint starts a write within the transaction.
func (h *streamHeads) savepoint() { h.mark = len(h.journal) }

// rollbackWrite undoes the current write's changes (ROLLBACK TO its savepoint).
func (h *streamHeads) rollbackWrite() { h.undoTo(h.mark) }

// rollback undoes the whole transaction's changes.
func (h *streamHeads) rollback() { h.undoTo(0) }

// forget drops every head: they are reloaded as they are needed.
func (h *streamHeads) forget() { clear(h.next) }

// commit keeps the transaction's changes.
func (h *streamHeads) commit() { h.journal, h.mark = h.journal[:0], 0 }

func (h *streamHeads) undoTo(mark int) {
	for i := len(h.journal) - 1; i >= mark; i-- {
		c := h.journal[i]
		if c.present {
			h.next[c.identity] = c.next
		} else {
			delete(h.next, c.identity)
		}
	}
	h.journal = h.journal[:mark]
	h.mark = min(h.mark, mark)
}

func (h *streamHeads) set(identity string, next uint64) {
	old, ok := h.next[identity]
	h.journal = append(h.journal, headChange{identity: identity, next: old, present: ok})
	h.next[identity] = next
}

// take hands out the next offset of each recipient's stream (distinct identities), in
// order, creating the streams that do not exist yet.
func (h *streamHeads) take(ctx context.Context, tx *sql.Tx, recipients []string) ([]uint64, error) {
	var missing []string
	for _, id := range recipients {
		if _, ok := h.next[id]; !ok {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		if err := h.load(ctx, tx, missing); err != nil {
			return nil, err
		}
	}
	offsets := make([]uint64, len(recipients))
	for i, id := range recipients {
		offsets[i] = h.next[id]
		h.set(id, offsets[i]+1)
	}
	return offsets, nil
}

// load reads the heads of identities from the database: the streams row's floor, raised
// past their pending links; a stream that does not exist yet is created at offset 1.
func (h *streamHeads) load(ctx context.Context, tx *sql.Tx, identities []string) error {
	list, err := json.Marshal(identities)
	if err != nil {
		return err
	}
	shards := map[int]bool{}
	for _, id := range identities {
		shards[linkShard(id)] = true
	}
	shardList := make([]int, 0, len(shards))
	for sh := range shards {
		shardList = append(shardList, sh)
	}
	sl, err := json.Marshal(shardList)
	if err != nil {
		return err
	}
	found := make(map[string]uint64, len(identities))
	rows, err := tx.QueryContext(ctx, `SELECT st.identity, max(st.next_offset, 1 + COALESCE(p.last, 0))
		FROM streams st LEFT JOIN (
			SELECT identity, MAX(stream_offset) AS last FROM pending_links
			WHERE shard IN (SELECT value FROM json_each(?2)) AND identity IN (SELECT value FROM json_each(?1))
			GROUP BY identity) p ON p.identity = st.identity
		WHERE st.identity IN (SELECT value FROM json_each(?1))`, string(list), string(sl))
	if err := scanNext(found, rows, err); err != nil {
		return fmt.Errorf("loading stream heads: %w", err)
	}
	var created []string
	for _, id := range identities {
		if next, ok := found[id]; ok {
			h.set(id, next)
		} else {
			created = append(created, id)
		}
	}
	if len(created) == 0 {
		return nil
	}
	cl, err := json.Marshal(created)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO streams (identity, epoch, next_offset)
		SELECT value, lower(hex(randomblob(8))), 1 FROM json_each(?) WHERE true`, string(cl)); err != nil {
		return fmt.Errorf("creating streams: %w", err)
	}
	for _, id := range created {
		h.set(id, 1)
	}
	return nil
}

// scanNext reads the (identity, next_offset) rows a streams statement returned into next.
func scanNext(next map[string]uint64, rows *sql.Rows, err error) error {
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var n uint64
		if err := rows.Scan(&id, &n); err != nil {
			return err
		}
		next[id] = n
	}
	return rows.Err()
}
