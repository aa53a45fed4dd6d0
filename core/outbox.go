package core

import (
	"bytes"
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/convo-sdk/convo/wire"
)

// outbox sends requests that must reach the server in the order they were made, even across
// disconnections, throttling, short database outages and a full server disk: message sends. One request is in
// flight at a time, kept until its reply; after a reconnect it is written again, and a
// throttled one (or one the server could not store yet) is retried after a backoff before
// anything behind it goes. Each carries an idempotency key, so a request
// written twice is stored once. (One at a time costs little: the server takes 30 writes a
// second per conversation.)
//
// With a LocalStore (Options.Store) every queued request is also stored, in bucket
// "outbox" under its position in the queue, until its outcome is known, and a client opened
// on the same store sends what an earlier one left, in order, with the same idempotency
// keys: a send made offline survives a restart and is stored once.
type outbox struct {
	c      *Client
	mu     sync.Mutex
	queue  []*outItem
	wakeup chan struct{}
	// Stored keys are the client's start time and a counter, both zero-padded: a later
	// client's sort after an earlier one's, and restore never races a new send for a key.
	started int64
	seq     uint64
	// mediaBytes is what the stored files of unsent messages take (MaxStoredOutboxMedia).
	mediaBytes int64
}

// outboxBucket is the LocalStore bucket of stored requests (key: see outbox.started; value:
// the op, a newline and the arguments' JSON).
const outboxBucket = "outbox"

type outItem struct {
	op        string
	args      wire.Encoder
	out       wire.Decodable
	done      chan error // receives the outcome once
	session   *session   // where it was last written; nil when it must be (re)written
	replyCh   chan reply
	gone      bool      // the caller stopped waiting before it was written
	throttled int       // how many times the server said "too fast", "unavailable" or "storage full"
	notBefore time.Time // when a throttled request may go again
	stored    string    // its key in the LocalStore's outbox, if it is stored
	restored  bool      // left by an earlier client: nobody waits for its outcome
	// media are files to upload before the request goes (a send made offline, see
	// outbox_media.go); each upload adds its sid to the request's MediaSids.
	media     []MediaUpload
	mediaKeys []string // the stored keys of media, when stored
}

func newOutbox(c *Client) *outbox {
	return &outbox{c: c, wakeup: make(chan struct{}, 1), started: time.Now().UnixNano()}
}

func (o *outbox) wake() {
	select {
	case o.wakeup <- struct{}{}:
	default:
	}
}

// submit queues a request and waits for its outcome. If ctx ends before the request was
// written it is withdrawn; after that the outcome is unknown and reported as such.
func (o *outbox) submit(ctx context.Context, op string, args wire.Encoder, out wire.Decodable) error {
	return o.submitItem(ctx, &outItem{op: op, args: args, out: out, done: make(chan error, 1)})
}

func (o *outbox) submitItem(ctx context.Context, it *outItem) error {
	op := it.op
	o.mu.Lock()
	o.store(it)
	o.queue = append(o.queue, it)
	o.mu.Unlock()
	o.wake()
	select {
	case err := <-it.done:
		return err
	case <-ctx.Done():
		o.mu.Lock()
		written := it.session != nil
		if !written {
			it.gone = true
			o.unstore(it)
		}
		o.mu.Unlock()
		o.wake()
		if written {
			return wire.Errorf(CodeClientTimeout, "%s: no reply in time; it may still be applied", op)
		}
		return o.c.callError(op, ctx.Err())
	case <-o.c.ctx.Done():
		return errShutdown
	}
}

// run writes queued requests in order whenever a connection is live and completes them as
// replies arrive. It ends with the client.
func (o *outbox) run() {
	ctx := o.c.ctx
	o.restore()
	for {
		s, err := o.c.currentSession(ctx, "")
		if err != nil {
			o.failAll(errShutdown)
			return
		}
		for o.uploadNext() {
		}
		o.flush(s)
		select {
		case <-o.wakeup:
		case <-s.lost:
		case <-ctx.Done():
			o.failAll(errShutdown)
			return
		}
		o.collect()
	}
}

// flush writes the first queued request, unless it is in flight on s already or must wait
// out a throttling backoff.
func (o *outbox) flush(s *session) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, it := range o.queue {
		if it.gone {
			continue
		}
		if it.session == s {
			return // in flight: its reply comes first
		}
		if len(it.media) > 0 {
			return // its files go first (uploadNext)
		}
		if wait := time.Until(it.notBefore); wait > 0 {
			time.AfterFunc(wait, o.wake)
			return
		}
		id := o.c.nextID.Add(1)
		ch, err := s.send(o.c.ctx, id, it.op, it.args)
		if err == errLost {
			return // the connection broke: everything from here goes out after reconnecting
		}
		if err != nil {
			it.done <- err // refused before sending (too large): the next one may go
			it.gone = true
			o.unstore(it)
			continue
		}
		it.session, it.replyCh = s, ch
		go func(ch chan reply) { // forward the reply as a wake-up; the item keeps its channel
			r := <-ch
			ch <- r
			o.wake()
		}(ch)
		return
	}
}

// collect completes the requests whose replies arrived and marks the lost ones for rewriting.
func (o *outbox) collect() {
	o.mu.Lock()
	defer o.mu.Unlock()
	kept := o.queue[:0]
	for _, it := range o.queue {
		if it.gone {
			continue
		}
		if it.replyCh == nil {
			kept = append(kept, it)
			continue
		}
		select {
		case r := <-it.replyCh:
			if r.err == errLost {
				it.session, it.replyCh = nil, nil
				kept = append(kept, it)
				continue
			}
			// Throttled, or the server could not store it yet (its database out of reach,
			// its disk full): the same request (same idempotency key) goes again after a
			// backoff, so it is stored once.
			if wire.CodeOf(r.err).IsRetryable() {
				it.session, it.replyCh = nil, nil
				it.notBefore = time.Now().Add(throttleBackoff(it.throttled))
				it.throttled++
				kept = append(kept, it)
				continue
			}
			err := r.err
			if err == nil {
				err = decodeResult(it.op, r.data, it.out)
			}
			o.unstore(it)
			if it.restored && err != nil {
				o.c.opts.Logf("convo: a %s left by an earlier session failed: %v", it.op, err)
			}
			it.done <- err
		default:
			kept = append(kept, it)
		}
	}
	o.queue = kept
}

func (o *outbox) failAll(err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, it := range o.queue {
		if !it.gone {
			it.done <- err
		}
	}
	o.queue = nil
}

// store writes it to the LocalStore, if there is one; a store that fails leaves the request
// in memory only, with a warning. o.mu must be held.
func (o *outbox) store(it *outItem) {
	st := o.c.opts.Store
	if st == nil {
		return
	}
	key := padded(uint64(o.started)) + "-" + padded(o.seq)
	value := it.args.AppendJSON(append([]byte(it.op), '\n'))
	batch := []StoreChange{{Bucket: outboxBucket, Key: key, Value: value}}
	media, ok := o.mediaChanges(key, it.media)
	if !ok {
		o.c.opts.Logf("convo: %s is kept in memory only: its files are over the %d bytes the local store keeps for unsent media", it.op, MaxStoredOutboxMedia)
		return
	}
	if err := st.Apply(append(batch, media...)); err != nil {
		o.c.opts.Logf("convo: %s is kept in memory only, the local store failed: %v", it.op, err)
		return
	}
	o.seq++
	it.stored = key
	for i := range it.media {
		it.mediaKeys = append(it.mediaKeys, mediaKey(key, i))
	}
	o.mediaBytes += mediaSize(it.media)
}

// unstore removes it from the LocalStore once its outcome is known (or it was withdrawn).
// o.mu must be held.
func (o *outbox) unstore(it *outItem) {
	if it.stored == "" {
		return
	}
	batch := []StoreChange{{Bucket: outboxBucket, Key: it.stored}}
	for _, k := range it.mediaKeys {
		batch = append(batch, StoreChange{Bucket: outboxMediaBucket, Key: k})
	}
	o.mediaBytes -= mediaSize(it.media[len(it.media)-len(it.mediaKeys):])
	it.mediaKeys = nil
	if err := o.c.opts.Store.Apply(batch); err != nil {
		// Sent again by the next client on this store: its idempotency key keeps it single.
		o.c.opts.Logf("convo: the local store keeps a finished %s: %v", it.op, err)
	}
	it.stored = ""
}

func padded(n uint64) string {
	s := strconv.FormatUint(n, 10)
	return "00000000000000000000"[len(s):] + s
}

// restore queues the requests earlier clients left in the LocalStore ahead of any made
// since this one started. Nobody waits for their outcome: it reaches the app as the events
// it causes (messageAdded for a send). It runs on the outbox's goroutine, since a browser's
// store answers through JS events.
func (o *outbox) restore() {
	st := o.c.opts.Store
	if st == nil || !st.Exclusive() {
		return // another tab owns what is stored: it sends it
	}
	var restored []*outItem
	media := o.storedMedia(st)
	err := st.Scan(outboxBucket, func(key string, value []byte) error {
		op, args, ok := bytes.Cut(value, []byte{'\n'})
		if !ok || len(op) == 0 {
			o.c.opts.Logf("convo: the local store's outbox holds an unreadable entry %q; it is dropped", key)
			st.Apply([]StoreChange{{Bucket: outboxBucket, Key: key}})
			return nil
		}
		if key > padded(uint64(o.started)) {
			return nil // this client's own, stored before the scan: queued already
		}
		it := &outItem{op: string(op), args: wire.RawJSON(bytes.Clone(args)), done: make(chan error, 1), stored: key, restored: true}
		if files := media[key]; len(files) > 0 {
			for _, f := range files {
				it.media = append(it.media, f.file)
				it.mediaKeys = append(it.mediaKeys, f.key)
			}
			o.mediaBytes += mediaSize(it.media)
			var a wire.SendMessageArgs
			if wire.Unmarshal(args, &a) != nil {
				o.c.opts.Logf("convo: the local store's outbox holds an unreadable send %q; it is dropped", key)
				o.unstore(it)
				return nil
			}
			it.args = &a
		}
		restored = append(restored, it)
		return nil
	})
	if err != nil {
		o.c.opts.Logf("convo: reading the local store's outbox: %v", err)
	}
	var orphans []StoreChange // files whose send is gone
	for _, it := range restored {
		delete(media, it.stored)
	}
	for item, files := range media {
		if item > padded(uint64(o.started)) {
			continue // this client's own
		}
		for _, f := range files {
			orphans = append(orphans, StoreChange{Bucket: outboxMediaBucket, Key: f.key})
		}
	}
	if len(orphans) > 0 {
		st.Apply(orphans)
	}
	o.mu.Lock()
	o.queue = append(restored, o.queue...)
	o.mu.Unlock()
}
