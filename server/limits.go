// Rate limits: requests per connection, write actions per conversation, typing signals per
// participant, media uploads per identity.

package server

import (
	"context"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/convo-sdk/convo/wire"
)

// limits holds the request and conversation write budgets and the typing throttle.
type limits struct {
	reqRate   rate.Limit // per connection; 0: unlimited
	reqBurst  int
	convRate  rate.Limit // per conversation; 0: unlimited
	convBurst int

	mu      sync.Mutex
	convLim map[string]*bucket
	typing  map[typingKey]time.Time
}

func newLimits(cfg Config) *limits {
	l := &limits{convLim: make(map[string]*bucket), typing: make(map[typingKey]time.Time)}
	if cfg.RequestRate > 0 {
		l.reqRate, l.reqBurst = rate.Limit(cfg.RequestRate), cfg.RequestBurst
	}
	if cfg.ConversationWriteRate > 0 {
		l.convRate = rate.Limit(cfg.ConversationWriteRate)
		l.convBurst = int(math.Ceil(cfg.ConversationWriteRate))
	}
	return l
}

// bucket is a token bucket of one conversation or identity, with when it was last used.
type bucket struct {
	lim  *rate.Limiter
	used time.Time
}

type typingKey struct{ conversation, identity string }

// sweepAt is the map size at which idle limiters and stale typing entries are dropped.
const sweepAt = 4096

// connLimiter returns a new connection's request limiter; nil when unlimited.
func (l *limits) connLimiter() *rate.Limiter {
	if l.reqRate == 0 {
		return nil
	}
	return rate.NewLimiter(l.reqRate, l.reqBurst)
}

// convWrite takes one write action of a conversation's budget, shared by all its users: on
// this node, then, in a cluster, in the store (cluster_limits.go).
func (s *Server) convWrite(ctx context.Context, sid string) error {
	lm := s.limits
	if lm.convRate == 0 {
		return nil
	}
	now := time.Now()
	lm.mu.Lock()
	l := lm.convLim[sid]
	if l == nil {
		if len(lm.convLim) >= sweepAt {
			for k, v := range lm.convLim {
				// Idle this long, a limiter is full again: forgetting it changes nothing.
				if now.Sub(v.used) > time.Duration(float64(lm.convBurst)/float64(lm.convRate)*float64(time.Second))+time.Second {
					delete(lm.convLim, k)
				}
			}
		}
		l = &bucket{lim: rate.NewLimiter(lm.convRate, lm.convBurst)}
		lm.convLim[sid] = l
	}
	l.used = now
	ok := l.lim.AllowN(now, 1)
	lm.mu.Unlock()
	if !ok {
		return convRateError(sid, float64(lm.convRate))
	}
	if s.cluster != nil {
		return s.takeConvToken(ctx, sid)
	}
	return nil
}

// typingAllowed reports whether identity may signal typing in a conversation now: at most
// once per wire.TypingThrottle.
func (l *limits) typingAllowed(conv, identity string) bool {
	now := time.Now()
	k := typingKey{conv, identity}
	l.mu.Lock()
	defer l.mu.Unlock()
	if last, ok := l.typing[k]; ok && now.Sub(last) < wire.TypingThrottle {
		return false
	}
	if len(l.typing) >= sweepAt {
		for k, t := range l.typing {
			if now.Sub(t) >= wire.TypingThrottle {
				delete(l.typing, k)
			}
		}
	}
	l.typing[k] = now
	return true
}

// uploadLimits holds the per-identity upload token buckets.
type uploadLimits struct {
	rate  rate.Limit // 0: unlimited
	burst int

	mu   sync.Mutex
	lims map[string]*bucket
}

func newUploadLimits(cfg Config) *uploadLimits {
	u := &uploadLimits{lims: make(map[string]*bucket)}
	if cfg.MediaUploadsPerMinute > 0 {
		u.rate, u.burst = rate.Limit(cfg.MediaUploadsPerMinute/60), cfg.MediaUploadBurst
	}
	return u
}

// allow takes one upload of identity's budget; false when it is spent.
func (u *uploadLimits) allow(identity string) bool {
	if u.rate == 0 {
		return true
	}
	now := time.Now()
	// Idle this long, a bucket is full again: forgetting it changes nothing.
	refill := time.Duration(float64(u.burst)/float64(u.rate)*float64(time.Second)) + time.Second
	u.mu.Lock()
	defer u.mu.Unlock()
	l := u.lims[identity]
	if l == nil {
		if len(u.lims) >= sweepAt {
			for k, v := range u.lims {
				if now.Sub(v.used) > refill {
					delete(u.lims, k)
				}
			}
		}
		l = &bucket{lim: rate.NewLimiter(u.rate, u.burst)}
		u.lims[identity] = l
	}
	l.used = now
	return l.lim.AllowN(now, 1)
}
