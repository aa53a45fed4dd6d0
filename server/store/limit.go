package store

import (
	"context"
	"time"
)

// LimitStore keeps the limits that the nodes of a cluster share, so that N nodes allow what
// one promises: token buckets (a conversation's write rate) and leases (an identity's live
// connections). Times are the calling node's clock.
type LimitStore interface {
	// TakeToken takes one token from the bucket key, which holds at most burst tokens and
	// gains rate tokens a second; false when it has none. A bucket never used is full.
	TakeToken(ctx context.Context, key string, rate float64, burst int) (bool, error)
	// AcquireLease gives holder one of at most max leases on key, held by node until
	// expires; false when max unexpired leases on key are held already. Acquiring a lease
	// the holder has renews it.
	AcquireLease(ctx context.Context, key, holder, node string, max int, expires time.Time) (bool, error)
	// RenewLeases extends every lease node holds to expires, and forgets expired leases and
	// buckets idle since before idleBefore (full again, so forgetting changes nothing).
	RenewLeases(ctx context.Context, node string, expires, idleBefore time.Time) error
	// ReleaseLease gives holder's lease on key back; releasing one not held is no error.
	ReleaseLease(ctx context.Context, key, holder string) error
}
