//go:build js && wasm

package core

import (
	"errors"
	"strconv"
	"sync"
	"syscall/js"
)

// localStoreVersion is the IndexedDB schema version this code opens. A database of a newer
// version is left alone (a warning says so) and the client runs without persistence.
const localStoreVersion = 1

// idb wraps IndexedDB in promises. One database per scope, named after it, holds one
// object store "kv" whose keys are bucket + "\x00" + key and whose values are Uint8Arrays,
// and one record "scope" in "meta" naming whose it is. Writes use strict durability, so
// a batch that completes is on disk. A function rather than a sync.OnceValue variable, so
// that a build which never opens a store links none of it.
func idb() js.Value {
	idbOnce.Do(func() { idbHelpers = js.Global().Get("Function").New(idbSource).Invoke() })
	return idbHelpers
}

var (
	idbOnce    sync.Once
	idbHelpers js.Value
)

const idbSource = `
const req = (r) => new Promise((ok, fail) => { r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });
const done = (tx) => new Promise((ok, fail) => { tx.oncomplete = () => ok(); tx.onerror = tx.onabort = () => fail(tx.error || new Error("aborted")); });
return {
	available() { return typeof indexedDB === "object" && indexedDB !== null; },
	open(name, version) {
		return new Promise((ok, fail) => {
			const r = indexedDB.open(name, version);
			r.onupgradeneeded = () => { const db = r.result; if (!db.objectStoreNames.contains("kv")) db.createObjectStore("kv"); if (!db.objectStoreNames.contains("meta")) db.createObjectStore("meta"); };
			r.onsuccess = () => { const db = r.result; db.onversionchange = () => db.close(); ok(db); };
			r.onerror = (ev) => { if (r.error && r.error.name === "VersionError") { ev.preventDefault(); ok("newer"); } else fail(r.error); };
			r.onblocked = () => {};
		});
	},
	async meta(db, scope) {
		const tx = db.transaction("meta", "readwrite", { durability: "strict" });
		const s = tx.objectStore("meta");
		const have = await req(s.get("scope"));
		if (have === undefined) s.put(scope, "scope");
		await done(tx);
		return have === undefined || have === scope;
	},
	async scan(db, bucket) {
		const tx = db.transaction("kv", "readonly");
		const range = IDBKeyRange.bound(bucket + "\x00", bucket + "\x01", false, true);
		const s = tx.objectStore("kv");
		const [keys, values] = await Promise.all([req(s.getAllKeys(range)), req(s.getAll(range))]);
		// One buffer and two strings cross into Go, not a value per record: a store of
		// thousands of messages is read in a few calls.
		let total = 0;
		for (const v of values) total += v.length;
		const blob = new Uint8Array(total);
		let at = 0;
		for (const v of values) { blob.set(v, at); at += v.length; }
		return { keys: keys.map((k) => k.slice(bucket.length + 1)).join("\0"), lengths: values.map((v) => v.length).join(","), blob };
	},
	async apply(db, keys, values) {
		const tx = db.transaction("kv", "readwrite", { durability: "strict" });
		const s = tx.objectStore("kv");
		for (let i = 0; i < keys.length; i++) {
			if (values[i] === null) s.delete(keys[i]); else s.put(values[i], keys[i]);
		}
		await done(tx);
	},
	lock(name) {
		if (typeof navigator !== "object" || !navigator.locks) return Promise.resolve(null);
		return new Promise((ok) => {
			navigator.locks.request(name, { ifAvailable: true }, (l) => l ? new Promise((release) => ok(release)) : ok(null)).catch(() => ok(null));
		});
	},
	close(db) { db.close(); },
	remove(name) { return req(indexedDB.deleteDatabase(name)); },
};`

type indexedDBStore struct {
	mu sync.Mutex
	db js.Value // undefined once closed
	// release lets go of the store's Web Lock, held while the store is open by the one tab
	// that writes client state; undefined in the other tabs (see LocalStore.Exclusive).
	release js.Value
}

func indexedDBName(scope StoreScope) string {
	return "convo\x00" + scope.Server + "\x00" + scope.Identity
}

// OpenIndexedDBStore opens (or creates) the browser's store of scope. It returns a nil store
// and no error, after a warning through logf, when persistence cannot be trusted here: no
// IndexedDB, a database written by a newer schema, or one that names another scope. Call it
// from a goroutine, never from a JS callback: it waits for IndexedDB's events.
func OpenIndexedDBStore(scope StoreScope, logf func(string, ...any)) (LocalStore, error) {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	h := idb()
	if !h.Call("available").Bool() {
		logf("convo: this environment has no IndexedDB; the client keeps its state in memory only")
		return nil, nil
	}
	db, err := awaitPromise(h.Call("open", indexedDBName(scope), localStoreVersion))
	if err != nil {
		return nil, errors.New("convo: opening the local store: " + err.Error())
	}
	if db.Type() == js.TypeString {
		logf("convo: the local store was written by a newer version of convo (schema above " + strconv.Itoa(localStoreVersion) + "); it is left as it is and the client keeps its state in memory only")
		return nil, nil
	}
	scopeKey := indexedDBName(scope)
	same, err := awaitPromise(h.Call("meta", db, scopeKey))
	if err != nil {
		h.Call("close", db)
		return nil, errors.New("convo: opening the local store: " + err.Error())
	}
	if !same.Bool() {
		h.Call("close", db)
		logf("convo: the local store names another server or identity; it is not read and the client keeps its state in memory only")
		return nil, nil
	}
	// One tab writes the client state: the first to take the lock, until it closes the store.
	release, err := awaitPromise(h.Call("lock", scopeKey))
	if err != nil || release.Type() != js.TypeFunction {
		logf("convo: another tab of this identity writes the local store (or this page cannot take a Web Lock); this client reads it at the start and keeps its own state in memory")
		release = js.Undefined()
	}
	return &indexedDBStore{db: db, release: release}, nil
}

func (s *indexedDBStore) Exclusive() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.release.Type() == js.TypeFunction
}

// EraseIndexedDBStore deletes the browser's store of scope (for log-out).
func EraseIndexedDBStore(scope StoreScope) error {
	if !idb().Call("available").Bool() {
		return nil
	}
	_, err := awaitPromise(idb().Call("remove", indexedDBName(scope)))
	return err
}

func (s *indexedDBStore) handle() (js.Value, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db.IsUndefined() {
		return js.Value{}, ErrStoreClosed
	}
	return s.db, nil
}

func (s *indexedDBStore) Scan(bucket string, fn func(key string, value []byte) error) error {
	db, err := s.handle()
	if err != nil {
		return err
	}
	res, err := awaitPromise(idb().Call("scan", db, bucket))
	if err != nil {
		return errors.New("convo: reading the local store: " + err.Error())
	}
	jsBlob := res.Get("blob")
	blob := make([]byte, jsBlob.Get("length").Int())
	js.CopyBytesToGo(blob, jsBlob)
	keys, lengths := res.Get("keys").String(), res.Get("lengths").String()
	at := 0
	for lengths != "" {
		var l, key string
		l, lengths, _ = cut(lengths, ',')
		key, keys, _ = cut(keys, 0)
		n, err := strconv.Atoi(l)
		if err != nil || n < 0 || at+n > len(blob) {
			return errors.New("convo: reading the local store: a malformed scan")
		}
		if err := fn(key, blob[at:at+n:at+n]); err != nil {
			return err
		}
		at += n
	}
	return nil
}

// cut splits s around the first sep (strings.Cut for one byte).
func cut(s string, sep byte) (before, after string, found bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == sep {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

func (s *indexedDBStore) Apply(batch []StoreChange) error {
	if len(batch) == 0 {
		return nil
	}
	db, err := s.handle()
	if err != nil {
		return err
	}
	keys, values := make([]any, len(batch)), make([]any, len(batch))
	u8 := js.Global().Get("Uint8Array")
	for i, c := range batch {
		keys[i] = c.Bucket + "\x00" + c.Key
		if c.Value == nil {
			values[i] = nil
			continue
		}
		a := u8.New(len(c.Value))
		js.CopyBytesToJS(a, c.Value)
		values[i] = a
	}
	if _, err := awaitPromise(idb().Call("apply", db, keys, values)); err != nil {
		return errors.New("convo: writing the local store: " + err.Error())
	}
	return nil
}

func (s *indexedDBStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.db.IsUndefined() {
		idb().Call("close", s.db)
		s.db = js.Undefined()
	}
	if s.release.Type() == js.TypeFunction {
		s.release.Invoke()
		s.release = js.Undefined()
	}
	return nil
}
