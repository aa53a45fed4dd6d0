package core

import (
	"bytes"
	"strconv"
	"time"

	"github.com/convo-sdk/convo/wire"
)

// The client's state in the LocalStore (Options.Store), beside the outbox. Values are wire
// JSON, so a store outlives changes to the in-memory types:
//
//	state/pos      the stream position: epoch, a newline, the offset
//	state/me       the signed-in user
//	conv/<sid>     a joined conversation: its streamLast ("-" for none), a newline, its JSON
//	part/<cv>/<sid>  a participant of a stored conversation
//	msg/<cv>/<index> a cached message (the window the memory cache keeps), index zero-padded
//	user/<n>       the followed users in subscription order
//
// A flush takes a snapshot of the state on the event goroutine, at one stream position; a
// writer goroutine encodes it and writes what changed in batches of about writeChunk bytes,
// the position last. So the store is never behind the position it records: a client that
// starts from it resumes the stream there, and events it replays that the state already
// holds are idempotent (see flushState).
const (
	stateBucket = "state"
	convBucket  = "conv"
	partBucket  = "part"
	msgBucket   = "msg"
	userBucket  = "user"
)

// stateFormat is the version of the layout above, stored as state/format. A store of a
// newer format is neither read nor written (a newer convo wrote it); an older one would be
// converted here when it is read.
const stateFormat = 1

// PersistDelay is how long state changes gather before one batch writes them: a burst of
// messages costs one write, and at most this much is redone from the stream after a crash.
const PersistDelay = 250 * time.Millisecond

// writeChunk is about how many bytes of values one batch carries: a flush of a large state
// is written in several, so its encoding is never all in memory at once.
const writeChunk = 1 << 20

// persister writes the client's state to the LocalStore. Its fields are guarded by the
// client's mu, except held, which only the writer chain touches (see onWriter).
type persister struct {
	dirty     map[string]bool // conversations whose participants or messages changed
	scheduled bool
	// writing: a snapshot is with the writer chain. A flush meanwhile only sets again, and
	// the snapshot taken once that write ends carries both: at most one snapshot waits, so
	// a store slower than the changes (IndexedDB while 100,000 messages load) never queues
	// a copy of every conversation per PersistDelay.
	writing, again bool
	off            bool      // a write failed (quota, say): the client keeps its state in memory only
	at             streamPos // the position the state reflects, once atSet (a value: it is set per event)
	atSet          bool
	last           chan struct{} // closed when the newest job handed to the writer chain is done
	held           storeHeld
}

// storeHeld is what the store holds, as hashes of the values written, so that a flush writes
// only what changed.
type storeHeld struct {
	convRec   map[string]uint64            // conv/<sid>
	convParts map[string]map[string]uint64 // per conversation, by participant sid
	convMsgs  map[string]*heldMessages     // per conversation
	users     map[string]uint64            // user/<n>
	me        uint64
	pos       string // "" until a position was written (then the format is written too)
}

// heldMessages are the stored messages of one conversation: their indexes, ascending, and the
// hashes of their values. Two slices rather than a map keep 100,000 stored messages cheap.
type heldMessages struct {
	index []int64
	hash  []uint64
}

func newPersister() *persister {
	last := make(chan struct{})
	close(last)
	return &persister{dirty: map[string]bool{}, last: last, held: storeHeld{convRec: map[string]uint64{},
		convParts: map[string]map[string]uint64{}, convMsgs: map[string]*heldMessages{}, users: map[string]uint64{}}}
}

// persisting reports whether the client writes its state: with a store that no other client
// writes (LocalStore.Exclusive).
func (c *Client) persisting() bool { return c.persist != nil }

// touchLocked records that cv's participants or messages changed (any state when sid is "")
// and schedules a flush. c.mu must be held.
func (c *Client) touchLocked(sid string) {
	p := c.persist
	if p == nil || p.off {
		return
	}
	if sid != "" {
		p.dirty[sid] = true
	}
	if p.scheduled {
		return
	}
	p.scheduled = true
	time.AfterFunc(PersistDelay, func() { c.events.push(c.flushState) })
}

// streamAt records, on the event goroutine, that the state now reflects every event up to
// pos; the next flush stores that position.
func (c *Client) streamAt(pos streamPos) {
	if c.persist == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.persist.at, c.persist.atSet = pos, true
	c.touchLocked("")
}

// stateSnapshot is the state at one stream position, as flushState took it: every joined
// conversation's record, and the participants and messages of those that changed. Messages
// keep their compact form; the writer encodes them.
type stateSnapshot struct {
	at    streamPos
	convs []conversationSnapshot
	users []wire.User
	me    wire.User
}

type conversationSnapshot struct {
	sid          string
	streamLast   *int64
	data         wire.Conversation
	detail       bool // participants and messages taken
	participants []wire.Participant
	// messages are the cached messages, in index order. The writer reads their data when it
	// gets to them: a message changed since is written as it is then, a state ahead of the
	// position, which is safe (replayed events are idempotent), and no copy of 100,000
	// messages is made per flush.
	messages []*Message
}

// flushState takes a snapshot of what changed and hands it to the writer chain. It runs on
// the event goroutine, so the snapshot is one moment of the state.
func (c *Client) flushState() { c.takeSnapshot() }

// takeSnapshot is flushState; it reports false when it left the flush to the end of the
// write in progress (see persister.writing).
func (c *Client) takeSnapshot() bool {
	c.mu.Lock()
	p := c.persist
	if p == nil {
		c.mu.Unlock()
		return true
	}
	p.scheduled = false
	// While a resync has not finished, the conversations are ahead of the gap it fills: a
	// store written now would resume past messages never fetched. It is written after.
	if p.off || !p.atSet || !c.initialised() || c.resyncPending.Load() {
		c.mu.Unlock()
		return true
	}
	if p.writing {
		p.again = true // p.dirty stays: the next snapshot takes it
		c.mu.Unlock()
		return false
	}
	p.writing, p.again = true, false
	snap := &stateSnapshot{at: p.at, me: c.user.data}
	for sid, cv := range c.conversations {
		if !cv.data.Joined || cv.left {
			continue
		}
		cs := conversationSnapshot{sid: sid, streamLast: cv.streamLast, data: cv.data, detail: p.dirty[sid]}
		if cs.detail {
			for _, part := range cv.participants {
				cs.participants = append(cs.participants, part.data)
			}
			cs.messages = append([]*Message(nil), cv.byIndex...)
		}
		snap.convs = append(snap.convs, cs)
	}
	clear(p.dirty)
	for _, u := range c.subscriptions {
		snap.users = append(snap.users, u.data)
	}
	c.mu.Unlock()
	c.onWriter(func(h *storeHeld) {
		c.writeSnapshot(h, snap)
		c.mu.Lock()
		p.writing = false
		again := p.again
		c.mu.Unlock()
		if again {
			c.events.push(c.flushState)
		}
	})
	return true
}

// onWriter runs fn on the writer chain: after every job handed to it before, on a goroutine
// of its own, so that a slow store never holds up the event goroutine.
func (c *Client) onWriter(fn func(h *storeHeld)) {
	c.mu.Lock()
	p := c.persist
	prev, done := p.last, make(chan struct{})
	p.last = done
	c.mu.Unlock()
	go func() {
		defer close(done)
		<-prev
		fn(&p.held)
	}()
}

// apply writes one batch; a failure turns persistence off for the client's life.
func (c *Client) apply(batch []StoreChange) bool {
	if len(batch) == 0 {
		return true
	}
	c.mu.Lock()
	off := c.persist.off
	c.mu.Unlock()
	if off {
		return false
	}
	if err := c.opts.Store.Apply(batch); err != nil {
		c.mu.Lock()
		c.persist.off = true
		c.mu.Unlock()
		c.opts.Logf("convo: the local store cannot be written (%v); the client keeps its state in memory only from now on", err)
		return false
	}
	return true
}

// saveState flushes now and waits until the store has it (Shutdown).
func (c *Client) saveState() {
	if !c.persisting() || !c.started.Load() {
		return
	}
	for {
		took := false
		if !c.events.run1(c.ctx, func() { took = c.takeSnapshot() }) {
			return
		}
		c.mu.Lock()
		last := c.persist.last
		c.mu.Unlock()
		<-last
		if took {
			return
		}
	}
}

// writeSnapshot writes what differs between snap and what the store holds (h), in batches
// of about writeChunk bytes, the stream position in the last one. It runs on the writer chain.
func (c *Client) writeSnapshot(h *storeHeld, snap *stateSnapshot) {
	var batch []StoreChange
	size := 0
	add := func(ch StoreChange) {
		batch = append(batch, ch)
		size += len(ch.Key) + len(ch.Value)
		if size >= writeChunk {
			c.apply(batch)
			batch, size = nil, 0
		}
	}
	put := func(bucket, key string, value []byte, have map[string]uint64, slot string) {
		if hash := hashBytes(value); !has(have, slot) || have[slot] != hash {
			have[slot] = hash
			add(StoreChange{Bucket: bucket, Key: key, Value: value})
		}
	}
	kept := make(map[string]bool, len(snap.convs))
	for i := range snap.convs {
		cs := &snap.convs[i]
		kept[cs.sid] = true
		put(convBucket, cs.sid, encodeConversationRecord(cs.streamLast, cs.data), h.convRec, cs.sid)
		if !cs.detail && h.convParts[cs.sid] != nil {
			continue
		}
		old := h.convParts[cs.sid]
		parts := make(map[string]uint64, len(cs.participants))
		for _, d := range cs.participants {
			if hash, ok := old[d.Sid]; ok {
				parts[d.Sid] = hash
			}
			put(partBucket, cs.sid+"/"+d.Sid, d.AppendJSON(nil), parts, d.Sid)
		}
		for psid := range old {
			if !has(parts, psid) {
				add(StoreChange{Bucket: partBucket, Key: cs.sid + "/" + psid})
			}
		}
		h.convParts[cs.sid] = parts
		c.writeMessages(h, cs, add)
		cs.messages = nil // written: let the collector have them
	}
	for sid := range h.convRec {
		if kept[sid] {
			continue
		}
		add(StoreChange{Bucket: convBucket, Key: sid})
		for psid := range h.convParts[sid] {
			add(StoreChange{Bucket: partBucket, Key: sid + "/" + psid})
		}
		if held := h.convMsgs[sid]; held != nil {
			for _, i := range held.index {
				add(StoreChange{Bucket: msgBucket, Key: sid + "/" + padded(uint64(i))})
			}
		}
		delete(h.convRec, sid)
		delete(h.convParts, sid)
		delete(h.convMsgs, sid)
	}

	users := make(map[string]uint64, len(snap.users))
	for i, d := range snap.users {
		key := padded(uint64(i))
		if hash, ok := h.users[key]; ok {
			users[key] = hash
		}
		put(userBucket, key, d.AppendJSON(nil), users, key)
	}
	for key := range h.users {
		if !has(users, key) {
			add(StoreChange{Bucket: userBucket, Key: key})
		}
	}
	h.users = users
	if me := snap.me.AppendJSON(nil); hashBytes(me) != h.me {
		h.me = hashBytes(me)
		add(StoreChange{Bucket: stateBucket, Key: "me", Value: me})
	}
	pos := snap.at.epoch + "\n" + strconv.FormatUint(snap.at.offset, 10)
	if pos != h.pos || len(batch) > 0 {
		if h.pos == "" {
			batch = append(batch, StoreChange{Bucket: stateBucket, Key: "format", Value: strconv.AppendInt(nil, stateFormat, 10)})
		}
		h.pos = pos
		batch = append(batch, StoreChange{Bucket: stateBucket, Key: "pos", Value: []byte(pos)})
	}
	c.apply(batch)
}

// writeMessages writes the messages of cs that changed and deletes the stored ones it no
// longer holds, walking both lists in index order.
func (c *Client) writeMessages(h *storeHeld, cs *conversationSnapshot, add func(StoreChange)) {
	old := h.convMsgs[cs.sid]
	if old == nil {
		old = &heldMessages{}
	}
	now := &heldMessages{index: make([]int64, 0, len(cs.messages)), hash: make([]uint64, 0, len(cs.messages))}
	var scratch []byte // one encoding buffer; a value is copied only when it is written
	j := 0
	for _, m := range cs.messages {
		c.mu.Lock()
		w := m.data.wire(m.Sid(), cs.sid)
		c.mu.Unlock()
		for ; j < len(old.index) && old.index[j] < w.Index; j++ {
			add(StoreChange{Bucket: msgBucket, Key: cs.sid + "/" + padded(uint64(old.index[j]))})
		}
		scratch = w.AppendJSON(scratch[:0])
		hash := hashBytes(scratch)
		if j >= len(old.index) || old.index[j] != w.Index || old.hash[j] != hash {
			add(StoreChange{Bucket: msgBucket, Key: cs.sid + "/" + padded(uint64(w.Index)), Value: bytes.Clone(scratch)})
		}
		if j < len(old.index) && old.index[j] == w.Index {
			j++
		}
		now.index, now.hash = append(now.index, w.Index), append(now.hash, hash)
	}
	for ; j < len(old.index); j++ {
		add(StoreChange{Bucket: msgBucket, Key: cs.sid + "/" + padded(uint64(old.index[j]))})
	}
	h.convMsgs[cs.sid] = now
}

func has(m map[string]uint64, key string) bool {
	_, ok := m[key]
	return ok
}

func encodeConversationRecord(streamLast *int64, d wire.Conversation) []byte {
	var b []byte
	if streamLast == nil {
		b = append(b, '-')
	} else {
		b = strconv.AppendInt(b, *streamLast, 10)
	}
	return d.AppendJSON(append(b, '\n'))
}

// hashBytes is 64-bit FNV-1a: enough to tell a changed value from an unchanged one.
func hashBytes(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}
