package storetest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var _ = register(
	test{"TokenBucketSharedByTwoStores", testTokenBucketShared},
	test{"LeasesCappedAcrossTwoStores", testLeasesCapped},
)

// Two stores on one database stand for two nodes.
func testTokenBucketShared(t *testing.T, h *harness) {
	ctx, a := h.begin()
	b := h.store(Options{})
	// 5 a second, burst 4: from both stores together, 4 at once, then none.
	var taken atomic.Int64
	var wg sync.WaitGroup
	for i := range 10 {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Go(func() {
			ok, err := s.TakeToken(ctx, "conv:x", 5, 4)
			assert.NoError(t, err)
			if ok {
				taken.Add(1)
			}
		})
	}
	wg.Wait()
	assert.EqualValues(t, 4, taken.Load(), "the burst, from both stores together")
	ok, err := b.TakeToken(ctx, "conv:other", 5, 4)
	require.NoError(t, err)
	assert.True(t, ok, "another key has its own bucket")
	// It refills at the rate: one token every 200 ms.
	require.Eventually(t, func() bool {
		ok, err := a.TakeToken(ctx, "conv:x", 5, 4)
		return err == nil && ok
	}, 5*time.Second, 20*time.Millisecond)
	ok, err = b.TakeToken(ctx, "conv:x", 5, 4)
	require.NoError(t, err)
	assert.False(t, ok, "the refilled token was taken")
}

func testLeasesCapped(t *testing.T, h *harness) {
	ctx, a := h.begin()
	b := h.store(Options{})
	later := time.Now().Add(time.Minute)
	var granted atomic.Int64
	var wg sync.WaitGroup
	for i := range 8 {
		s, node := a, "A"
		if i%2 == 1 {
			s, node = b, "B"
		}
		wg.Go(func() {
			ok, err := s.AcquireLease(ctx, "conn:alice", fmt.Sprintf("%s/%d", node, i), node, 3, later)
			assert.NoError(t, err)
			if ok {
				granted.Add(1)
			}
		})
	}
	wg.Wait()
	require.EqualValues(t, 3, granted.Load(), "at most 3, from both stores together")
	ok, err := a.AcquireLease(ctx, "conn:bob", "A/x", "A", 3, later)
	require.NoError(t, err)
	assert.True(t, ok, "another key has its own leases")

	// A released lease makes room; releasing one not held is no error.
	require.NoError(t, a.ReleaseLease(ctx, "conn:alice", "nobody"))
	for i := range 8 {
		require.NoError(t, a.ReleaseLease(ctx, "conn:alice", fmt.Sprintf("A/%d", i)))
		require.NoError(t, a.ReleaseLease(ctx, "conn:alice", fmt.Sprintf("B/%d", i)))
	}
	for i := range 3 {
		ok, err := b.AcquireLease(ctx, "conn:alice", fmt.Sprintf("B/n%d", i), "B", 3, later)
		require.NoError(t, err)
		require.True(t, ok)
	}
	ok, err = a.AcquireLease(ctx, "conn:alice", "A/late", "A", 3, later)
	require.NoError(t, err)
	assert.False(t, ok)
	ok, err = b.AcquireLease(ctx, "conn:alice", "B/n0", "B", 3, later)
	require.NoError(t, err)
	assert.True(t, ok, "a holder renews its own lease at the cap")

	// Leases of a node that stops renewing expire; the renewing node's stay.
	soon := time.Now().Add(300 * time.Millisecond)
	require.NoError(t, a.RenewLeases(ctx, "B", soon, time.Now().Add(-time.Hour)))
	ok, err = a.AcquireLease(ctx, "conn:alice", "A/late", "A", 3, later)
	require.NoError(t, err)
	assert.False(t, ok, "not expired yet")
	time.Sleep(400 * time.Millisecond)
	ok, err = a.AcquireLease(ctx, "conn:alice", "A/late", "A", 3, later)
	require.NoError(t, err)
	assert.True(t, ok, "node B's leases expired")
	require.NoError(t, b.RenewLeases(ctx, "A", time.Now().Add(time.Minute), time.Now().Add(-time.Hour)))
	ok, err = b.AcquireLease(ctx, "conn:alice", "B/again", "B", 1, later)
	require.NoError(t, err)
	assert.False(t, ok, "node A's renewed lease still counts")
}
