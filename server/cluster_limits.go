// Cluster-wide limits: when the bus links nodes, an identity's connection cap and a
// conversation's write rate are counted in the shared store, so N nodes allow what one
// promises. A node alone (bus.Local) counts in memory only and pays nothing.
//
// Media uploads per identity and the typing throttle take from buckets there too, each after
// the node's own check, so only what a node would allow costs a round trip.
//
// Connections hold leases (store.LimitStore.AcquireLease): one transaction per connect and
// one delete per disconnect; each node renews its leases every leaseTTL/3, so the leases of
// a node that died expire within leaseTTL. A write takes a token from the conversation's
// bucket in the store, one upsert per write, after the node's own bucket: a conversation
// flooded through one node is refused there without a round trip.

package server

import (
	"context"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/convo-sdk/convo/server/bus"
	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/wire"
)

// leaseTTL is how long a connection's lease outlives its node's last renewal.
const leaseTTL = 30 * time.Second

// bucketIdle is how long a conversation's bucket in the store may stay unused before it is
// forgotten: far longer than any bucket takes to fill again.
const bucketIdle = time.Hour

// clusterLimits is the shared half of the limits; nil for a node alone.
type clusterLimits struct {
	node string // this process, unique among the nodes
	seq  atomic.Uint64
}

func newClusterLimits(b bus.Bus) *clusterLimits {
	if _, alone := b.(bus.Local); alone {
		return nil
	}
	return &clusterLimits{node: store.NewEpoch()}
}

// connKey and convKey name an identity's leases and a conversation's bucket in the store.
func connKey(identity string) string { return "conn:" + identity }
func convKey(sid string) string      { return "conv:" + sid }

// acquireConn takes one of identity's MaxConnsPerIdentity leases across the cluster. It
// returns the lease's release, or the error to say bye with.
func (s *Server) acquireConn(ctx context.Context, identity string) (release func(), _ *wire.Error) {
	cl := s.cluster
	if cl == nil {
		return func() {}, nil
	}
	holder := cl.node + "/" + strconv.FormatUint(cl.seq.Add(1), 10)
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	ok, err := s.cfg.Store.AcquireLease(ctx, connKey(identity), holder, cl.node, s.cfg.MaxConnsPerIdentity, time.Now().Add(leaseTTL))
	if err != nil {
		s.log.Warn("acquiring a connection lease failed", "identity", identity, "err", err)
		return nil, wire.Errorf(wire.CodeUnavailable, "the database is unreachable; reconnect shortly")
	}
	if !ok {
		return nil, wire.Errorf(wire.CodeTooManySessions, "%q already has %d connections across the cluster, the limit; close one first",
			identity, s.cfg.MaxConnsPerIdentity)
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		defer cancel()
		if err := s.cfg.Store.ReleaseLease(ctx, connKey(identity), holder); err != nil {
			s.log.Warn("releasing a connection lease failed; it expires by itself", "identity", identity, "err", err)
		}
	}, nil
}

// leaseLoop renews this node's connection leases until the server closes.
func (s *Server) leaseLoop() {
	if s.cluster == nil {
		s.loops.Done()
		return
	}
	s.every(leaseTTL/3, func(now time.Time) {
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		defer cancel()
		if err := s.cfg.Store.RenewLeases(ctx, s.cluster.node, now.Add(leaseTTL), now.Add(-bucketIdle)); err != nil {
			s.log.Warn("renewing connection leases failed", "err", err)
		}
	})
}

// takeConvToken takes one write of the conversation's budget in the store.
func (s *Server) takeConvToken(ctx context.Context, sid string) error {
	ok, err := s.clusterTake(ctx, convKey(sid), float64(s.limits.convRate), s.limits.convBurst)
	if err != nil {
		return err
	}
	if !ok {
		return convRateError(sid, float64(s.limits.convRate))
	}
	return nil
}

// clusterTake takes a token of the bucket key in the store; true, without asking, for a
// node alone.
func (s *Server) clusterTake(ctx context.Context, key string, rate float64, burst int) (bool, error) {
	if s.cluster == nil {
		return true, nil
	}
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	return s.cfg.Store.TakeToken(ctx, key, rate, burst)
}

// typingBucket and uploadBucket name the buckets of the typing throttle (one signal per identity
// and conversation every wire.TypingThrottle) and of an identity's media uploads.
func typingBucket(conv, identity string) string { return "typing:" + conv + "/" + identity }
func uploadBucket(identity string) string       { return "upload:" + identity }

func convRateError(sid string, rate float64) *wire.Error {
	return wire.Errorf(wire.CodeRateLimited, "conversation %q takes at most %g write actions a second; retry in a moment", sid, rate)
}
