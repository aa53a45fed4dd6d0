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
// Every batch written holds the state as the event goroutine saw it after the event at the
// position it records, so a client that starts from the store resumes the stream exactly
// there (see persister.flush).
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

// persister writes the client's state to the LocalStore. Its fields are guarded by the
// client's mu; writes run in order on goroutines of their own (see write).
type persister struct {
	dirty     map[string]bool // conversations whose participants or messages changed
	scheduled bool
	off       bool // a write failed (quota, say): the client keeps its state in memory only
	at        *streamPos
	// What the store holds, as hashes of the values written, so a flush writes only changes.
	convRec  map[string]uint64            // conv/<sid>
	convKeys map[string]map[string]uint64 // per conversation: "part/..." and "msg/..." keys
	users    map[string]uint64            // user/<n>
	me       uint64
	pos      string
	last     chan struct{} // closed when the newest batch handed to a writer is written
}

func newPersister() *persister {
	last := make(chan struct{})
	close(last)
	return &persister{dirty: map[string]bool{}, convRec: map[string]uint64{},
		convKeys: map[string]map[string]uint64{}, users: map[string]uint64{}, last: last}
}

// persisting reports whether the client writes its state: with a store that no other client
// writes (LocalStore.Exclusive).
func (c *Client) persisting() bool { return c.persist != nil }

// touchLocked records that cv's participants or messages changed and schedules a write.
// c.mu must be held.
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
// pos; the next batch stores that position.
func (c *Client) streamAt(pos streamPos) {
	if c.persist == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.persist.at = &pos
	c.touchLocked("")
}

// flushState writes what changed since the last batch. It runs on the event goroutine, so
// the batch is one moment of the state; the write itself goes to a goroutine.
func (c *Client) flushState() {
	c.mu.Lock()
	p := c.persist
	if p == nil {
		c.mu.Unlock()
		return
	}
	p.scheduled = false
	// While a resync has not finished, the conversations are ahead of the gap it fills: a
	// store written now would resume past messages never fetched. It is written after.
	if p.off || p.at == nil || !c.initialised() || c.resyncPending.Load() {
		c.mu.Unlock()
		return
	}
	batch := c.stateChangesLocked(p)
	c.mu.Unlock()
	c.write(batch)
}

// write hands batch to a goroutine that applies it after the batches before it.
func (c *Client) write(batch []StoreChange) {
	if len(batch) == 0 {
		return
	}
	c.mu.Lock()
	prev, done := c.persist.last, make(chan struct{})
	c.persist.last = done
	c.mu.Unlock()
	go func() {
		defer close(done)
		<-prev
		if err := c.opts.Store.Apply(batch); err != nil {
			c.mu.Lock()
			c.persist.off = true
			c.mu.Unlock()
			c.opts.Logf("convo: the local store cannot be written (%v); the client keeps its state in memory only from now on", err)
		}
	}()
}

// saveState writes the state now and waits until the store has it (Shutdown).
func (c *Client) saveState() {
	if !c.persisting() || !c.started.Load() {
		return
	}
	c.events.run1(c.ctx, c.flushState)
	c.mu.Lock()
	last := c.persist.last
	c.mu.Unlock()
	<-last
}

// stateChangesLocked compares the state with what the store holds and returns the writes
// that bring the store up to date, updating p's record of it. c.mu must be held.
func (c *Client) stateChangesLocked(p *persister) []StoreChange {
	var batch []StoreChange
	put := func(bucket, key string, value []byte, have map[string]uint64, slot string) {
		h := hashBytes(value)
		if old, ok := have[slot]; ok && old == h {
			return
		}
		have[slot] = h
		batch = append(batch, StoreChange{Bucket: bucket, Key: key, Value: value})
	}
	kept := make(map[string]bool, len(c.conversations))
	for sid, cv := range c.conversations {
		if !cv.data.Joined || cv.left {
			continue
		}
		kept[sid] = true
		put(convBucket, sid, encodeConversationRecord(cv.streamLast, cv.data), p.convRec, sid)
		if !p.dirty[sid] && p.convKeys[sid] != nil {
			continue
		}
		old := p.convKeys[sid]
		now := make(map[string]uint64, len(cv.participants)+len(cv.byIndex))
		for psid, part := range cv.participants {
			key := sid + "/" + psid
			if h, ok := old[partBucket+key]; ok {
				now[partBucket+key] = h
			}
			put(partBucket, key, part.data.AppendJSON(nil), now, partBucket+key)
		}
		for _, m := range cv.byIndex {
			key := sid + "/" + padded(uint64(m.data.Index))
			if h, ok := old[msgBucket+key]; ok {
				now[msgBucket+key] = h
			}
			w := m.data.wire(m.sid, sid)
			put(msgBucket, key, w.AppendJSON(nil), now, msgBucket+key)
		}
		batch = appendRemoved(batch, old, now)
		p.convKeys[sid] = now
	}
	for sid := range p.convRec {
		if kept[sid] {
			continue
		}
		batch = append(batch, StoreChange{Bucket: convBucket, Key: sid})
		batch = appendRemoved(batch, p.convKeys[sid], nil)
		delete(p.convRec, sid)
		delete(p.convKeys, sid)
	}
	clear(p.dirty)

	users := make(map[string]uint64, len(c.subscriptions))
	for i, u := range c.subscriptions {
		key := padded(uint64(i))
		if h, ok := p.users[key]; ok {
			users[key] = h
		}
		put(userBucket, key, u.data.AppendJSON(nil), users, key)
	}
	for key := range p.users {
		if _, ok := users[key]; !ok {
			batch = append(batch, StoreChange{Bucket: userBucket, Key: key})
		}
	}
	p.users = users
	if me := c.user.data.AppendJSON(nil); hashBytes(me) != p.me {
		p.me = hashBytes(me)
		batch = append(batch, StoreChange{Bucket: stateBucket, Key: "me", Value: me})
	}
	if pos := p.at.epoch + "\n" + strconv.FormatUint(p.at.offset, 10); pos != p.pos || len(batch) > 0 {
		if p.pos == "" {
			batch = append(batch, StoreChange{Bucket: stateBucket, Key: "format", Value: strconv.AppendInt(nil, stateFormat, 10)})
		}
		p.pos = pos
		batch = append(batch, StoreChange{Bucket: stateBucket, Key: "pos", Value: []byte(pos)})
	}
	return batch
}

// appendRemoved adds a deletion for every key of old missing from now; keys carry their
// bucket's name in front (see stateChangesLocked).
func appendRemoved(batch []StoreChange, old, now map[string]uint64) []StoreChange {
	for k := range old {
		if _, ok := now[k]; ok {
			continue
		}
		bucket, key := msgBucket, k[len(msgBucket):]
		if len(k) >= len(partBucket) && k[:len(partBucket)] == partBucket {
			bucket, key = partBucket, k[len(partBucket):]
		}
		batch = append(batch, StoreChange{Bucket: bucket, Key: key})
	}
	return batch
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

// storedState is what loadState read: one moment of an earlier client's state.
type storedState struct {
	pos   streamPos
	me    wire.User
	convs []storedConversation
	users []wire.User
}

type storedConversation struct {
	data         wire.Conversation
	streamLast   *int64
	participants []wire.Participant
}

// loadState reads the state an earlier client stored, and notes it as written so the first
// batch writes only what changed. It returns nil when there is none, or when it cannot be
// read whole: then the client starts as if there were none, and overwrites it.
func (c *Client) loadState() *storedState {
	st := c.opts.Store
	var s storedState
	var havePos bool
	bad := func(what string, err error) error {
		return wire.Errorf(wire.CodeInternal, "%s: %v", what, err)
	}
	format := 0
	err := st.Scan(stateBucket, func(key string, v []byte) error {
		switch key {
		case "format":
			n, err := strconv.Atoi(string(v))
			if err != nil {
				return bad("the state's format", err)
			}
			format = n
		case "pos":
			epoch, off, ok := bytes.Cut(v, []byte{'\n'})
			n, err := strconv.ParseUint(string(off), 10, 64)
			if !ok || err != nil {
				return bad("the stream position", err)
			}
			s.pos, havePos = streamPos{epoch: string(epoch), offset: n}, true
		case "me":
			if err := wire.Unmarshal(v, &s.me); err != nil {
				return bad("the signed-in user", err)
			}
		}
		return nil
	})
	if err == nil && format > stateFormat {
		c.opts.Logf("convo: the local store's state was written by a newer convo (format %d, this one reads %d); it is left as it is and the client keeps its state in memory", format, stateFormat)
		c.mu.Lock()
		if c.persist != nil {
			c.persist.off = true
		}
		c.mu.Unlock()
		return nil
	}
	if err == nil && !havePos {
		return nil
	}
	byConv := map[string]*storedConversation{}
	if err == nil {
		err = st.Scan(convBucket, func(key string, v []byte) error {
			last, body, ok := bytes.Cut(v, []byte{'\n'})
			sc := &storedConversation{}
			if !ok {
				return bad("conversation "+key, nil)
			}
			if string(last) != "-" {
				n, err := strconv.ParseInt(string(last), 10, 64)
				if err != nil {
					return bad("conversation "+key, err)
				}
				sc.streamLast = &n
			}
			if err := wire.Unmarshal(body, &sc.data); err != nil || sc.data.Sid != key {
				return bad("conversation "+key, err)
			}
			byConv[key] = sc
			s.convs = append(s.convs, *sc)
			return nil
		})
	}
	if err == nil {
		err = st.Scan(partBucket, func(key string, v []byte) error {
			var d wire.Participant
			if err := wire.Unmarshal(v, &d); err != nil {
				return bad("participant "+key, err)
			}
			if sc := byConv[d.ConversationSid]; sc != nil {
				sc.participants = append(sc.participants, d)
			}
			return nil
		})
	}
	if err == nil {
		err = st.Scan(userBucket, func(key string, v []byte) error {
			var d wire.User
			if err := wire.Unmarshal(v, &d); err != nil {
				return bad("user "+key, err)
			}
			s.users = append(s.users, d)
			return nil
		})
	}
	if err != nil {
		c.opts.Logf("convo: the local store's state cannot be read (%v); it is discarded and the client starts from the server", err)
		if c.persisting() {
			c.discardState()
		}
		return nil
	}
	for i := range s.convs {
		s.convs[i] = *byConv[s.convs[i].data.Sid]
	}
	return &s
}

// loadMessages reads the stored messages of the conversations in s, which restoreMessages
// puts in place after initialized: the server's start does not load messages either, so the
// app's list is ready as soon. An unreadable message is skipped with a warning.
func (c *Client) loadMessages(s *storedState) map[string][]wire.Message {
	known := make(map[string]bool, len(s.convs))
	for _, sc := range s.convs {
		known[sc.data.Sid] = true
	}
	out := make(map[string][]wire.Message, len(s.convs))
	err := c.opts.Store.Scan(msgBucket, func(key string, v []byte) error {
		var d wire.Message
		if err := wire.Unmarshal(v, &d); err != nil {
			c.opts.Logf("convo: the local store's message %s cannot be read (%v); it is skipped", key, err)
			return nil
		}
		if known[d.ConversationSid] {
			out[d.ConversationSid] = append(out[d.ConversationSid], d)
		}
		return nil
	})
	if err != nil {
		c.opts.Logf("convo: the local store's messages cannot be read (%v); the conversations start without them", err)
	}
	return out
}

// restoreMessages puts the stored messages in place, as history (announced by the earlier
// client). It runs on the event goroutine, before the first connection's events.
func (c *Client) restoreMessages(msgs map[string][]wire.Message) {
	for sid, list := range msgs {
		conv := c.conversation(sid)
		if conv == nil {
			continue
		}
		for _, m := range list {
			msg, _ := conv.upsertMessageLocked(m)
			c.mu.Lock()
			msg.announced = true
			c.mu.Unlock()
		}
		c.mu.Lock()
		if p := c.persist; p != nil {
			keys := p.convKeys[sid]
			if keys == nil {
				keys = map[string]uint64{}
				p.convKeys[sid] = keys
			}
			for _, d := range list {
				keys[msgBucket+sid+"/"+padded(uint64(d.Index))] = hashBytes(d.AppendJSON(nil))
			}
		}
		c.mu.Unlock()
	}
}

// discardState deletes the stored state (not the outbox).
func (c *Client) discardState() {
	var batch []StoreChange
	for _, bucket := range []string{stateBucket, convBucket, partBucket, msgBucket, userBucket} {
		err := c.opts.Store.Scan(bucket, func(key string, _ []byte) error {
			batch = append(batch, StoreChange{Bucket: bucket, Key: key})
			return nil
		})
		if err != nil {
			c.opts.Logf("convo: the local store cannot be read: %v", err)
		}
	}
	c.write(batch)
}

// restoreState puts a stored state in place and announces it as an initialisation from the
// server would: the signed-in user, initialized, then each conversation. It runs on the event
// goroutine, before the first connection's events; connectionState is still "connecting".
func (c *Client) restoreState(s *storedState) {
	if c.initialised() {
		return
	}
	convs := make([]*Conversation, 0, len(s.convs))
	for _, sc := range s.convs {
		conv, _ := c.upsertConversation(sc.data)
		c.mu.Lock()
		conv.streamLast = sc.streamLast
		c.mu.Unlock()
		for _, p := range sc.participants {
			conv.upsertParticipant(p)
		}
		convs = append(convs, conv)
	}
	c.mu.Lock()
	if s.me.Identity == c.claims.Identity {
		c.user.data = s.me
	}
	for _, d := range s.users {
		if d.Identity == "" || d.Identity == c.claims.Identity || c.users[d.Identity] != nil {
			continue
		}
		u := newUser(c, d)
		u.subscribed = true
		c.users[d.Identity] = u
		c.subscriptions = append(c.subscriptions, u)
	}
	if p := c.persist; p != nil {
		p.at = &s.pos
		c.markStoredLocked(p, s)
	}
	c.mu.Unlock()
	sortByCreation(convs)
	c.announceOwnUser()
	for _, u := range c.subscriptions {
		EventUserSubscribed.emit(c.emitter, u)
	}
	c.succeedInit()
	for _, conv := range convs {
		c.announceConversation(conv)
	}
}

// markStoredLocked records what the store holds after loading s, so the first batch writes
// only what changed since. c.mu must be held.
func (c *Client) markStoredLocked(p *persister, s *storedState) {
	for _, sc := range s.convs {
		p.convRec[sc.data.Sid] = hashBytes(encodeConversationRecord(sc.streamLast, sc.data))
		keys := make(map[string]uint64, len(sc.participants))
		for _, d := range sc.participants {
			keys[partBucket+sc.data.Sid+"/"+d.Sid] = hashBytes(d.AppendJSON(nil))
		}
		p.convKeys[sc.data.Sid] = keys
	}
	for i, d := range s.users {
		p.users[padded(uint64(i))] = hashBytes(d.AppendJSON(nil))
	}
	p.me = hashBytes(s.me.AppendJSON(nil))
	p.pos = s.pos.epoch + "\n" + strconv.FormatUint(s.pos.offset, 10)
}

// StoreScope is whose state this client's store holds: its server and identity.
func (c *Client) StoreScope() StoreScope {
	return StoreScope{Server: c.serverURL(), Identity: c.claims.Identity}
}

// UseStore sets Options.Store after New, for bindings that open the store asynchronously
// (a browser's IndexedDB); it must be called before Start, and does nothing after.
func (c *Client) UseStore(st LocalStore) {
	if !c.started.Load() {
		c.opts.Store = st
	}
}
