// Package mediastore keeps the content of uploaded media, named by sid, in a local folder
// (Local) or an S3-compatible object store (S3). The server keeps the records in its
// store.Store and the bytes here; every node of a cluster must reach the same media store.
package mediastore

import (
	"context"
	"errors"
	"io"
	"time"
)

var (
	// ErrNotFound: no object has that sid.
	ErrNotFound = errors.New("mediastore: not found")
	// ErrUnavailable: the media store cannot be reached or refused the operation; retrying
	// later may succeed.
	ErrUnavailable = errors.New("mediastore: unavailable")
	// ErrFull: the media folder's disk is full; nothing was stored, and the same upload
	// succeeds once space is freed.
	ErrFull = errors.New("mediastore: storage full")
)

// Store holds media content. Implementations are safe for concurrent use.
type Store interface {
	// Put stores r's content under sid and returns how many bytes it read. size is r's
	// length, or -1 when unknown. Content is never visible under sid until it is complete:
	// after an error (from r or the store) there is no object. Store failures wrap
	// ErrUnavailable; an error from r is returned as it is.
	Put(ctx context.Context, sid string, r io.Reader, size int64, contentType string) (int64, error)
	// Open returns the content of sid, ErrNotFound when there is none.
	Open(ctx context.Context, sid string) (Object, error)
	// Remove deletes the content of sid; an absent one is no error.
	Remove(ctx context.Context, sid string) error
	// URLKey returns the secret that signs media URLs, creating it on first use, the same for
	// every node that shares this media store.
	URLKey(ctx context.Context) ([]byte, error)
	// SweepIncomplete deletes what uploads that died before the given time left behind.
	SweepIncomplete(ctx context.Context, before time.Time) error
	// String describes the store for logs, without secrets.
	String() string
}

// Object is stored content, read (and seeked, for HTTP ranges) then closed.
type Object interface {
	io.ReadSeekCloser
}

// urlKeyBytes is the length of a generated media URL key.
const urlKeyBytes = 32
