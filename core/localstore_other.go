//go:build !js

package core

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// The on-disk store is one append-only file per scope: a header (magic, schema version, the
// scope it belongs to), then one record per batch, each [length][CRC-32C][changes]. Opening
// replays the records into memory; a torn record at the end (a crash mid-write) is cut off,
// since its batch was never acknowledged. Once the file holds much more than the live data,
// it is rewritten as one batch and renamed over the old file.

const diskStoreMagic = "CVST"

// localStoreVersion is the schema version this code writes. A store written by a newer
// version is set aside, never read (a warning says so).
const localStoreVersion = 1

var crcTable = crc32.MakeTable(crc32.Castagnoli)

type diskStore struct {
	mu     sync.Mutex
	path   string
	scope  StoreScope
	f      *os.File
	unlock func()
	size   int64 // bytes in the file
	live   int64 // bytes a compacted file would hold
	data   map[string]map[string][]byte
	logf   func(string, ...any)
}

// OpenDiskStore opens (or creates) the store of scope in dir. A store file that is
// unreadable, belongs to another scope or was written by a newer version is renamed aside
// (its name gains ".corrupt-…" or ".newer-…") with a warning through logf, and an empty store
// takes its place; it is never read and never fails the open. logf may be nil.
func OpenDiskStore(dir string, scope StoreScope, logf func(string, ...any)) (LocalStore, error) {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(scope.Server + "\x00" + scope.Identity))
	s := &diskStore{path: filepath.Join(dir, hex.EncodeToString(sum[:16])+".convo-store"), scope: scope,
		data: map[string]map[string][]byte{}, logf: logf}
	f, err := os.OpenFile(s.path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	unlock, err := lockFile(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	s.f, s.unlock = f, unlock
	if err := s.load(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *diskStore) header() []byte {
	b := []byte(diskStoreMagic)
	b = binary.BigEndian.AppendUint32(b, localStoreVersion)
	b = appendBytes(b, []byte(s.scope.Server))
	return appendBytes(b, []byte(s.scope.Identity))
}

// load reads the file into memory, setting it aside first when it cannot be trusted.
func (s *diskStore) load() error {
	raw, err := io.ReadAll(s.f)
	if err != nil {
		return err
	}
	if len(raw) == 0 {
		return s.rewrite()
	}
	hdr := s.header()
	switch {
	case len(raw) < 8 || string(raw[:4]) != diskStoreMagic:
		return s.setAside("corrupt", "it is not a convo store")
	case binary.BigEndian.Uint32(raw[4:8]) > localStoreVersion:
		return s.setAside("newer", fmt.Sprintf("it was written by schema version %d (this is %d)", binary.BigEndian.Uint32(raw[4:8]), localStoreVersion))
	case !bytes.HasPrefix(raw, hdr):
		return s.setAside("corrupt", "its header names another server or identity")
	}
	off := len(hdr)
	for off < len(raw) {
		n, changes, ok := decodeRecord(raw[off:])
		if !ok {
			if err := os.WriteFile(s.path+".corrupt-"+stamp(), raw, 0o600); err != nil {
				return err
			}
			s.logf("convo: the local store %s ends in %d unreadable bytes (an interrupted write); a copy was kept and the store goes on from its last whole batch", s.path, len(raw)-off)
			if err := s.f.Truncate(int64(off)); err != nil {
				return err
			}
			break
		}
		s.applyMemory(changes)
		off += n
	}
	s.size = int64(off)
	if _, err := s.f.Seek(s.size, io.SeekStart); err != nil {
		return err
	}
	return nil
}

func stamp() string { return time.Now().UTC().Format("20060102T150405.000000000") }

// setAside renames the present file out of the way and starts an empty store.
func (s *diskStore) setAside(kind, why string) error {
	aside := s.path + "." + kind + "-" + stamp()
	if err := os.Rename(s.path, aside); err != nil {
		return err
	}
	s.logf("convo: the local store %s was set aside as %s because %s; starting empty", s.path, aside, why)
	// The old handle (and its lock) now belong to the renamed file.
	s.unlock()
	s.f.Close()
	f, err := os.OpenFile(s.path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	unlock, err := lockFile(f)
	if err != nil {
		f.Close()
		return err
	}
	s.f, s.unlock = f, unlock
	return s.rewrite()
}

func (s *diskStore) Scan(bucket string, fn func(key string, value []byte) error) error {
	s.mu.Lock()
	if s.f == nil {
		s.mu.Unlock()
		return ErrStoreClosed
	}
	b := s.data[bucket]
	keys := make([]string, 0, len(b))
	for k := range b {
		keys = append(keys, k)
	}
	values := make([][]byte, len(keys))
	slices.Sort(keys)
	for i, k := range keys {
		values[i] = b[k]
	}
	s.mu.Unlock()
	for i, k := range keys {
		if err := fn(k, values[i]); err != nil {
			return err
		}
	}
	return nil
}

// Exclusive is true: the file lock keeps other processes out.
func (s *diskStore) Exclusive() bool { return true }

func (s *diskStore) Apply(batch []StoreChange) error {
	if len(batch) == 0 {
		return nil
	}
	rec := encodeRecord(batch)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return ErrStoreClosed
	}
	if _, err := s.f.Write(rec); err != nil {
		// Cut off whatever part of the record reached the file, so the batch is wholly absent.
		s.f.Truncate(s.size)
		s.f.Seek(s.size, io.SeekStart)
		return fmt.Errorf("convo: writing the local store: %w", err)
	}
	if err := s.f.Sync(); err != nil {
		s.f.Truncate(s.size)
		s.f.Seek(s.size, io.SeekStart)
		return fmt.Errorf("convo: writing the local store: %w", err)
	}
	s.size += int64(len(rec))
	s.applyMemory(batch)
	if s.size > 2*s.live+1<<20 {
		if err := s.rewrite(); err != nil {
			s.logf("convo: compacting the local store %s: %v", s.path, err)
		}
	}
	return nil
}

func (s *diskStore) applyMemory(batch []StoreChange) {
	for _, c := range batch {
		b := s.data[c.Bucket]
		if old, ok := b[c.Key]; ok {
			s.live -= changeSize(c.Bucket, c.Key, old)
		}
		if c.Value == nil {
			delete(b, c.Key)
			continue
		}
		if b == nil {
			b = map[string][]byte{}
			s.data[c.Bucket] = b
		}
		b[c.Key] = bytes.Clone(c.Value)
		s.live += changeSize(c.Bucket, c.Key, c.Value)
	}
}

// rewrite replaces the file with the header and the live data as one batch: written to a
// temporary file, synced, then renamed over the store, so a crash leaves one or the other.
func (s *diskStore) rewrite() error {
	var all []StoreChange
	for bucket, b := range s.data {
		for k, v := range b {
			all = append(all, StoreChange{Bucket: bucket, Key: k, Value: v})
		}
	}
	content := s.header()
	if len(all) > 0 {
		content = append(content, encodeRecord(all)...)
	}
	tmp := s.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err = f.Write(content); err == nil {
		err = f.Sync()
	}
	if err == nil {
		var unlock func()
		if unlock, err = lockFile(f); err == nil {
			if err = os.Rename(tmp, s.path); err == nil {
				syncDir(filepath.Dir(s.path))
				s.unlock()
				s.f.Close()
				s.f, s.unlock, s.size = f, unlock, int64(len(content))
				return nil
			}
			unlock()
		}
	}
	f.Close()
	os.Remove(tmp)
	return err
}

func (s *diskStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	s.unlock()
	err := s.f.Close()
	s.f = nil
	return err
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// A record: [payload length uint32][CRC-32C of the payload uint32][payload]; the payload is
// the changes, each an op byte (1 put, 2 delete) and its bucket, key and (for a put) value,
// each prefixed by its length as a uvarint.
func encodeRecord(batch []StoreChange) []byte {
	var p []byte
	for _, c := range batch {
		if c.Value == nil {
			p = append(p, 2)
		} else {
			p = append(p, 1)
		}
		p = appendBytes(p, []byte(c.Bucket))
		p = appendBytes(p, []byte(c.Key))
		if c.Value != nil {
			p = appendBytes(p, c.Value)
		}
	}
	rec := binary.BigEndian.AppendUint32(nil, uint32(len(p)))
	rec = binary.BigEndian.AppendUint32(rec, crc32.Checksum(p, crcTable))
	return append(rec, p...)
}

// decodeRecord reads the record at the start of b: its length in bytes and its changes, or
// ok false when b does not start with a whole, intact record.
func decodeRecord(b []byte) (n int, batch []StoreChange, ok bool) {
	if len(b) < 8 {
		return 0, nil, false
	}
	size := int(binary.BigEndian.Uint32(b))
	if size > len(b)-8 || crc32.Checksum(b[8:8+size], crcTable) != binary.BigEndian.Uint32(b[4:]) {
		return 0, nil, false
	}
	p := b[8 : 8+size]
	for len(p) > 0 {
		op := p[0]
		p = p[1:]
		var bucket, key, value []byte
		if bucket, p, ok = readBytes(p); !ok {
			return 0, nil, false
		}
		if key, p, ok = readBytes(p); !ok {
			return 0, nil, false
		}
		c := StoreChange{Bucket: string(bucket), Key: string(key)}
		switch op {
		case 1:
			if value, p, ok = readBytes(p); !ok {
				return 0, nil, false
			}
			c.Value = value
		case 2:
		default:
			return 0, nil, false
		}
		batch = append(batch, c)
	}
	return 8 + size, batch, true
}

func appendBytes(b, v []byte) []byte {
	return append(binary.AppendUvarint(b, uint64(len(v))), v...)
}

func readBytes(p []byte) (v, rest []byte, ok bool) {
	n, k := binary.Uvarint(p)
	if k <= 0 || n > uint64(len(p)-k) {
		return nil, nil, false
	}
	return p[k : k+int(n)], p[k+int(n):], true
}

func changeSize(bucket, key string, value []byte) int64 {
	return int64(len(bucket) + len(key) + len(value) + 3*binary.MaxVarintLen32 + 1)
}
