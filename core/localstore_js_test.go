//go:build js && wasm

package core

import (
	"strconv"
	"syscall/js"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIndexedDBStoreKeepsBatchesAcrossReopen(t *testing.T) {
	scope := StoreScope{Server: "ws://127.0.0.1:1/v1", Identity: "alice-" + strconv.FormatInt(time.Now().UnixNano(), 36)}
	defer EraseIndexedDBStore(scope)
	s, err := OpenIndexedDBStore(scope, t.Logf)
	require.NoError(t, err)
	require.NotNil(t, s)
	require.NoError(t, s.Apply([]StoreChange{
		{Bucket: "messages", Key: "c1/0002", Value: []byte("two")},
		{Bucket: "messages", Key: "c1/0001", Value: []byte("one")},
		{Bucket: "messagesX", Key: "k", Value: []byte("another bucket")},
		{Bucket: "outbox", Key: "k1", Value: []byte{}},
	}))
	require.NoError(t, s.Apply([]StoreChange{{Bucket: "messages", Key: "c1/0003", Value: []byte("three")}, {Bucket: "messages", Key: "c1/0002"}}))
	require.NoError(t, s.Close())
	assert.ErrorIs(t, s.Apply([]StoreChange{{Bucket: "b", Key: "k", Value: []byte("v")}}), ErrStoreClosed)

	s, err = OpenIndexedDBStore(scope, t.Logf)
	require.NoError(t, err)
	got := func(bucket string) (keys, values []string) {
		require.NoError(t, s.Scan(bucket, func(k string, v []byte) error {
			keys, values = append(keys, k), append(values, string(v))
			return nil
		}))
		return keys, values
	}
	keys, values := got("messages")
	assert.Equal(t, []string{"c1/0001", "c1/0003"}, keys)
	assert.Equal(t, []string{"one", "three"}, values)
	keys, values = got("outbox")
	assert.Equal(t, []string{"k1"}, keys)
	assert.Equal(t, []string{""}, values)
	keys, _ = got("users")
	assert.Empty(t, keys)

	// Another identity on the same server sees nothing of alice's.
	bob := StoreScope{Server: scope.Server, Identity: scope.Identity + "-bob"}
	defer EraseIndexedDBStore(bob)
	b, err := OpenIndexedDBStore(bob, t.Logf)
	require.NoError(t, err)
	n := 0
	require.NoError(t, b.Scan("messages", func(string, []byte) error { n++; return nil }))
	assert.Zero(t, n)
	require.NoError(t, b.Close())

	// Erasing (log-out) leaves an empty store.
	require.NoError(t, s.Close())
	require.NoError(t, EraseIndexedDBStore(scope))
	s, err = OpenIndexedDBStore(scope, t.Logf)
	require.NoError(t, err)
	keys, _ = got("messages")
	assert.Empty(t, keys)
	require.NoError(t, s.Close())
}

func TestIndexedDBStoreLeavesANewerSchemaAlone(t *testing.T) {
	scope := StoreScope{Server: "ws://127.0.0.1:1/v1", Identity: "newer-" + strconv.FormatInt(time.Now().UnixNano(), 36)}
	defer EraseIndexedDBStore(scope)
	// A later convo created the database at a higher version.
	open := js.Global().Get("Function").New("name", "version", `return new Promise((ok, fail) => {
		const r = indexedDB.open(name, version);
		r.onsuccess = () => { r.result.close(); ok(); };
		r.onerror = () => fail(r.error);
	});`)
	_, err := awaitPromise(open.Invoke(indexedDBName(scope), localStoreVersion+1))
	require.NoError(t, err)

	var warned []string
	s, err := OpenIndexedDBStore(scope, func(f string, a ...any) { warned = append(warned, f) })
	require.NoError(t, err, "a newer store is no failure: the client runs in memory")
	assert.Nil(t, s)
	require.Len(t, warned, 1)
	assert.Contains(t, warned[0], "newer version")
}
