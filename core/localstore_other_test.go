//go:build !js

package core

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var testScope = StoreScope{Server: "ws://127.0.0.1:1/v1", Identity: "alice"}

type warnings struct {
	mu   sync.Mutex
	list []string
}

func (w *warnings) logf(format string, args ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.list = append(w.list, fmt.Sprintf(format, args...))
}

func openTestStore(t *testing.T, dir string, scope StoreScope) (*diskStore, *warnings) {
	t.Helper()
	w := &warnings{}
	s, err := OpenDiskStore(dir, scope, w.logf)
	require.NoError(t, err)
	return s.(*diskStore), w
}

func scanAll(t *testing.T, s LocalStore, bucket string) map[string]string {
	t.Helper()
	got := map[string]string{}
	var order []string
	require.NoError(t, s.Scan(bucket, func(k string, v []byte) error {
		got[k] = string(v)
		order = append(order, k)
		return nil
	}))
	assert.IsNonDecreasing(t, order)
	return got
}

func TestDiskStoreKeepsBatchesAcrossReopen(t *testing.T) {
	dir := t.TempDir()
	s, _ := openTestStore(t, dir, testScope)
	require.NoError(t, s.Apply([]StoreChange{
		{Bucket: "messages", Key: "c1/0002", Value: []byte(`{"body":"two"}`)},
		{Bucket: "messages", Key: "c1/0001", Value: []byte(`{"body":"one"}`)},
		{Bucket: "stream", Key: "position", Value: []byte(`{"epoch":"e","offset":7}`)},
	}))
	require.NoError(t, s.Apply([]StoreChange{{Bucket: "messages", Key: "c1/0002"}, {Bucket: "outbox", Key: "k1", Value: []byte{}}}))
	require.NoError(t, s.Close())
	assert.ErrorIs(t, s.Apply([]StoreChange{{Bucket: "b", Key: "k", Value: []byte("v")}}), ErrStoreClosed)

	s, w := openTestStore(t, dir, testScope)
	defer s.Close()
	assert.Equal(t, map[string]string{"c1/0001": `{"body":"one"}`}, scanAll(t, s, "messages"))
	assert.Equal(t, map[string]string{"position": `{"epoch":"e","offset":7}`}, scanAll(t, s, "stream"))
	assert.Equal(t, map[string]string{"k1": ""}, scanAll(t, s, "outbox"), "an empty value is a value, not a delete")
	assert.Empty(t, scanAll(t, s, "users"))
	assert.Empty(t, w.list)
}

func TestDiskStoreCutsATornBatchWhole(t *testing.T) {
	dir := t.TempDir()
	s, _ := openTestStore(t, dir, testScope)
	require.NoError(t, s.Apply([]StoreChange{{Bucket: "outbox", Key: "a", Value: []byte("first")}}))
	sizeBefore := s.size
	require.NoError(t, s.Apply([]StoreChange{
		{Bucket: "outbox", Key: "b", Value: []byte(strings.Repeat("x", 100))},
		{Bucket: "outbox", Key: "c", Value: []byte("third")},
	}))
	path := s.path
	require.NoError(t, s.Close())
	// A crash in the middle of the second batch's write.
	require.NoError(t, os.Truncate(path, sizeBefore+40))

	s, w := openTestStore(t, dir, testScope)
	assert.Equal(t, map[string]string{"a": "first"}, scanAll(t, s, "outbox"), "none of the torn batch is applied")
	require.Len(t, w.list, 1)
	assert.Contains(t, w.list[0], "unreadable bytes")
	copies, _ := filepath.Glob(path + ".corrupt-*")
	assert.Len(t, copies, 1, "the damaged file is kept beside the store")

	// The store goes on from there, and the next reopen is clean.
	require.NoError(t, s.Apply([]StoreChange{{Bucket: "outbox", Key: "d", Value: []byte("after")}}))
	require.NoError(t, s.Close())
	s, w = openTestStore(t, dir, testScope)
	defer s.Close()
	assert.Equal(t, map[string]string{"a": "first", "d": "after"}, scanAll(t, s, "outbox"))
	assert.Empty(t, w.list)
}

func TestDiskStoreRefusesAFlippedBit(t *testing.T) {
	dir := t.TempDir()
	s, _ := openTestStore(t, dir, testScope)
	require.NoError(t, s.Apply([]StoreChange{{Bucket: "b", Key: "k", Value: []byte("value")}}))
	path := s.path
	require.NoError(t, s.Close())
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	raw[len(raw)-2] ^= 0x01
	require.NoError(t, os.WriteFile(path, raw, 0o600))

	s, w := openTestStore(t, dir, testScope)
	defer s.Close()
	assert.Empty(t, scanAll(t, s, "b"), "a record whose checksum fails is not read")
	assert.Len(t, w.list, 1)
}

func TestDiskStoreSetsAsideWhatItCannotTrust(t *testing.T) {
	cases := map[string]struct {
		content func(own []byte) []byte
		aside   string
	}{
		"not a store": {func([]byte) []byte { return []byte("garbage that is not a store") }, ".corrupt-"},
		"newer schema": {func(own []byte) []byte {
			b := append([]byte(nil), own...)
			binary.BigEndian.PutUint32(b[4:8], localStoreVersion+1)
			return b
		}, ".newer-"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			s, _ := openTestStore(t, dir, testScope)
			require.NoError(t, s.Apply([]StoreChange{{Bucket: "b", Key: "k", Value: []byte("v")}}))
			path := s.path
			require.NoError(t, s.Close())
			own, err := os.ReadFile(path)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(path, tc.content(own), 0o600))

			s, w := openTestStore(t, dir, testScope)
			assert.Empty(t, scanAll(t, s, "b"))
			require.Len(t, w.list, 1)
			assert.Contains(t, w.list[0], "set aside")
			aside, _ := filepath.Glob(path + tc.aside + "*")
			require.Len(t, aside, 1)
			kept, err := os.ReadFile(aside[0])
			require.NoError(t, err)
			assert.Equal(t, tc.content(own), kept, "the set-aside file is left as it was")

			require.NoError(t, s.Apply([]StoreChange{{Bucket: "b", Key: "k2", Value: []byte("v2")}}))
			require.NoError(t, s.Close())
			s, _ = openTestStore(t, dir, testScope)
			defer s.Close()
			assert.Equal(t, map[string]string{"k2": "v2"}, scanAll(t, s, "b"))
		})
	}
}

func TestDiskStoreNeverShowsAnotherIdentitysState(t *testing.T) {
	dir := t.TempDir()
	alice, _ := openTestStore(t, dir, testScope)
	require.NoError(t, alice.Apply([]StoreChange{{Bucket: "messages", Key: "k", Value: []byte("alice's")}}))
	require.NoError(t, alice.Close())

	bobScope := StoreScope{Server: testScope.Server, Identity: "bob"}
	bob, _ := openTestStore(t, dir, bobScope)
	assert.Empty(t, scanAll(t, bob, "messages"))
	bobPath := bob.path
	require.NoError(t, bob.Close())
	assert.NotEqual(t, alice.path, bobPath)

	// Even alice's file under bob's name is not read as bob's.
	raw, err := os.ReadFile(alice.path)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(bobPath, raw, 0o600))
	bob, w := openTestStore(t, dir, bobScope)
	defer bob.Close()
	assert.Empty(t, scanAll(t, bob, "messages"))
	require.Len(t, w.list, 1)
	assert.Contains(t, w.list[0], "another server or identity")
}

func TestDiskStoreIsOpenOnceAtATime(t *testing.T) {
	dir := t.TempDir()
	s, _ := openTestStore(t, dir, testScope)
	_, err := OpenDiskStore(dir, testScope, nil)
	assert.ErrorIs(t, err, ErrStoreBusy)
	require.NoError(t, s.Close())
	s2, err := OpenDiskStore(dir, testScope, nil)
	require.NoError(t, err)
	require.NoError(t, s2.Close())
}

func TestDiskStoreCompactsOverwrites(t *testing.T) {
	dir := t.TempDir()
	s, _ := openTestStore(t, dir, testScope)
	value := []byte(strings.Repeat("p", 1000))
	for i := range 5000 {
		require.NoError(t, s.Apply([]StoreChange{
			{Bucket: "stream", Key: "position", Value: []byte(fmt.Sprint(i))},
			{Bucket: "messages", Key: fmt.Sprintf("m%02d", i%50), Value: value},
		}))
	}
	st, err := os.Stat(s.path)
	require.NoError(t, err)
	assert.Less(t, st.Size(), int64(4<<20), "5 MB of overwrites of 50 KB of live data")
	require.NoError(t, s.Close())
	leftovers, _ := filepath.Glob(filepath.Join(dir, "*.tmp"))
	assert.Empty(t, leftovers)

	s, _ = openTestStore(t, dir, testScope)
	defer s.Close()
	assert.Equal(t, map[string]string{"position": "4999"}, scanAll(t, s, "stream"))
	assert.Len(t, scanAll(t, s, "messages"), 50)
}
