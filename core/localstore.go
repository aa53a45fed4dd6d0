package core

import "errors"

// LocalStore keeps a client's state across restarts: named buckets of keyed values,
// changed in atomic batches. One store serves one server and identity (StoreScope); the
// implementations are OpenDiskStore natively (localstore_other.go) and
// OpenIndexedDBStore in browsers (localstore_js.go). A nil LocalStore means persistence is off.
type LocalStore interface {
	// Scan calls fn for every key of bucket in ascending key order (the same in every
	// implementation for ASCII keys, which is what convo writes). An error from fn ends the
	// scan and is returned.
	Scan(bucket string, fn func(key string, value []byte) error) error
	// Apply writes batch atomically and durably: once it returns nil, a crash or restart
	// keeps all of it; when it fails, none of it is applied.
	Apply(batch []StoreChange) error
	// Exclusive reports whether this handle is the store's only writer of client state: a
	// native store always is (a second process cannot open it); in a browser, the tab that
	// holds the store's Web Lock is, and the others only read it and keep their unsent
	// messages in it (see persist.go).
	Exclusive() bool
	// Close releases the store; the data stays.
	Close() error
}

// StoreChange is one write of a batch: Value replaces the key's value, or a nil Value
// deletes the key.
type StoreChange struct {
	Bucket, Key string
	Value       []byte
}

// StoreScope names whose state a store holds: a store opened for one scope never reads
// another's.
type StoreScope struct {
	Server   string // the server's WebSocket URL
	Identity string
}

var (
	// ErrStoreClosed is returned by a store used after Close.
	ErrStoreClosed = errors.New("convo: the local store is closed")
	// ErrStoreBusy is returned when another process holds the store open.
	ErrStoreBusy = errors.New("convo: the local store is open in another process")
)
