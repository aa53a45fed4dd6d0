package core

import (
	"bytes"
	"context"
	"strconv"
	"time"

	"github.com/convo-sdk/convo/wire"
)

// A message with files sent while offline waits in the outbox with its files: when its turn
// comes and a connection is up, they are uploaded one by one, each sid added to the send,
// and then the send goes. With a LocalStore the files are stored beside the send (bucket
// "outmedia", key: the send's key, "/", the file's position), so a reload keeps them too, up
// to MaxStoredOutboxMedia in all; a send whose files do not fit is kept in memory only.

// MaxStoredOutboxMedia is how many bytes of files of unsent messages the local store keeps.
const MaxStoredOutboxMedia = 64 << 20

const outboxMediaBucket = "outmedia"

func mediaKey(itemKey string, i int) string { return itemKey + "/" + padded(uint64(i)) }

func mediaSize(files []MediaUpload) int64 {
	var n int64
	for _, f := range files {
		n += int64(len(f.Data))
	}
	return n
}

// mediaChanges are the writes that store files under itemKey, and false when they would take
// the stored files over MaxStoredOutboxMedia. o.mu must be held.
func (o *outbox) mediaChanges(itemKey string, files []MediaUpload) ([]StoreChange, bool) {
	if len(files) == 0 {
		return nil, true
	}
	if o.mediaBytes+mediaSize(files) > MaxStoredOutboxMedia {
		return nil, false
	}
	out := make([]StoreChange, len(files))
	for i, f := range files {
		out[i] = StoreChange{Bucket: outboxMediaBucket, Key: mediaKey(itemKey, i), Value: encodeStoredMedia(f)}
	}
	return out, true
}

// encodeStoredMedia is a file as stored: category, content type and filename, each on its
// own line (the filename after its length, since it may hold anything), then the bytes.
func encodeStoredMedia(f MediaUpload) []byte {
	b := make([]byte, 0, len(f.Data)+len(f.ContentType)+len(f.Filename)+32)
	b = append(append(b, f.Category...), '\n')
	b = append(append(b, f.ContentType...), '\n')
	b = append(strconv.AppendInt(b, int64(len(f.Filename)), 10), '\n')
	b = append(b, f.Filename...)
	return append(b, f.Data...)
}

func decodeStoredMedia(v []byte) (MediaUpload, bool) {
	var f MediaUpload
	cat, rest, ok1 := bytes.Cut(v, []byte{'\n'})
	ct, rest, ok2 := bytes.Cut(rest, []byte{'\n'})
	l, rest, ok3 := bytes.Cut(rest, []byte{'\n'})
	n, err := strconv.Atoi(string(l))
	if !ok1 || !ok2 || !ok3 || err != nil || n < 0 || n > len(rest) {
		return f, false
	}
	f.Category, f.ContentType, f.Filename = string(cat), string(ct), string(rest[:n])
	f.Data = bytes.Clone(rest[n:])
	return f, true
}

// storedFile is a file of an unsent message read from the store, with its key there.
type storedFile struct {
	key  string
	file MediaUpload
}

// storedMedia reads the stored files of unsent messages, by the key of their send.
func (o *outbox) storedMedia(st LocalStore) map[string][]storedFile {
	out := map[string][]storedFile{}
	err := st.Scan(outboxMediaBucket, func(key string, v []byte) error {
		item, _, ok := bytes.Cut([]byte(key), []byte{'/'})
		f, good := decodeStoredMedia(v)
		if !ok || !good {
			o.c.opts.Logf("convo: the local store holds an unreadable file of an unsent message (%q); it is dropped", key)
			st.Apply([]StoreChange{{Bucket: outboxMediaBucket, Key: key}})
			return nil
		}
		out[string(item)] = append(out[string(item)], storedFile{key, f}) // keys scan in order
		return nil
	})
	if err != nil {
		o.c.opts.Logf("convo: reading the files of unsent messages: %v", err)
	}
	return out
}

// uploadNext uploads the next file of the first queued request, and reports whether one was
// uploaded (so another may follow). A failure that may pass (no network, the server busy or
// its disk full) is retried after a backoff; any other fails the request.
func (o *outbox) uploadNext() bool {
	o.mu.Lock()
	var it *outItem
	for _, x := range o.queue {
		if !x.gone {
			it = x
			break
		}
	}
	if it == nil || len(it.media) == 0 {
		o.mu.Unlock()
		return false
	}
	if wait := time.Until(it.notBefore); wait > 0 {
		time.AfterFunc(wait, o.wake)
		o.mu.Unlock()
		return false
	}
	file := it.media[0]
	o.mu.Unlock()

	md, err := o.c.UploadMedia(o.c.ctx, file, nil)

	o.mu.Lock()
	defer o.mu.Unlock()
	if it.gone {
		return true
	}
	if err != nil {
		if code := wire.CodeOf(err); code.IsRetryable() || code == CodeClientOffline || code == CodeClientTimeout {
			it.notBefore = time.Now().Add(throttleBackoff(it.throttled))
			it.throttled++
			time.AfterFunc(time.Until(it.notBefore), o.wake)
			return false
		}
		if o.c.ctx.Err() != nil {
			return false
		}
		if it.restored {
			o.c.opts.Logf("convo: a file of a message left by an earlier session could not be uploaded: %v", err)
		}
		it.gone = true
		o.unstore(it)
		it.done <- err
		return true
	}
	args := it.args.(*wire.SendMessageArgs)
	args.MediaSids = append(args.MediaSids, md.Sid())
	it.media = it.media[1:]
	it.throttled = 0
	if it.stored != "" && len(it.mediaKeys) > 0 {
		// The send now names the file's sid; the stored file is no longer needed.
		batch := []StoreChange{
			{Bucket: outboxBucket, Key: it.stored, Value: args.AppendJSON(append([]byte(it.op), '\n'))},
			{Bucket: outboxMediaBucket, Key: it.mediaKeys[0]},
		}
		it.mediaKeys = it.mediaKeys[1:]
		if err := o.c.opts.Store.Apply(batch); err != nil {
			o.c.opts.Logf("convo: the local store keeps an uploaded file of an unsent message: %v", err)
		} else {
			o.mediaBytes -= int64(len(file.Data))
		}
	}
	return true
}

// sendWithFiles queues args with files still to upload, and waits for the outcome.
func (cv *Conversation) sendWithFiles(ctx context.Context, args wire.SendMessageArgs, files []MediaUpload) (int64, error) {
	var m wire.Message
	err := cv.client.thenEvents(func() error {
		it := &outItem{op: wire.OpMessageSend, args: &args, out: &m, done: make(chan error, 1), media: files}
		if err := cv.client.outbox.submitItem(ctx, it); err != nil {
			return err
		}
		cv.upsertMessage(m)
		return nil
	})
	return m.Index, err
}
