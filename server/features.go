package server

import (
	"context"
	"crypto/rand"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/convo-sdk/convo/wire"
)

// features holds the server state behind the client features: rate limiters, the typing
// throttle, the media URL key and the conversation lifecycle loop.
type features struct {
	reqRate   rate.Limit // per connection; 0: unlimited
	reqBurst  int
	convRate  rate.Limit // per conversation; 0: unlimited
	convBurst int
	mediaKey  []byte
	maxMedia  int64

	mu      sync.Mutex
	convLim map[string]*convLimiter
	typing  map[typingKey]time.Time

	stop      chan struct{}
	done      chan struct{}
	sweepDone chan struct{} // media sweeper (media_limits.go)
}

type convLimiter struct {
	lim  *rate.Limiter
	used time.Time
}

type typingKey struct{ conversation, identity string }

// sweepAt is the map size at which idle limiters and stale typing entries are dropped.
const sweepAt = 4096

// Defaults of the Config limits.
const (
	defaultMaxConnsPerIdentity = 20
	defaultRequestRate         = 50
	defaultRequestBurst        = 100
	defaultConversationRate    = 30
	defaultStateInterval       = 10 * time.Second
)

func (s *Server) initFeatures() {
	cfg := &s.cfg
	if cfg.MaxConnsPerIdentity <= 0 {
		cfg.MaxConnsPerIdentity = defaultMaxConnsPerIdentity
	}
	if cfg.RequestRate == 0 {
		cfg.RequestRate = defaultRequestRate
	}
	if cfg.RequestBurst <= 0 {
		cfg.RequestBurst = defaultRequestBurst
	}
	if cfg.ConversationWriteRate == 0 {
		cfg.ConversationWriteRate = defaultConversationRate
	}
	if cfg.MaxMediaBytes <= 0 {
		cfg.MaxMediaBytes = wire.DefaultMaxMediaBytes
	}
	if cfg.StateInterval <= 0 {
		cfg.StateInterval = defaultStateInterval
	}
	fx := &features{
		maxMedia:  cfg.MaxMediaBytes,
		mediaKey:  cfg.MediaKey,
		convLim:   make(map[string]*convLimiter),
		typing:    make(map[typingKey]time.Time),
		stop:      make(chan struct{}),
		done:      make(chan struct{}),
		sweepDone: make(chan struct{}),
	}
	if cfg.RequestRate > 0 {
		fx.reqRate, fx.reqBurst = rate.Limit(cfg.RequestRate), cfg.RequestBurst
	}
	if cfg.ConversationWriteRate > 0 {
		fx.convRate = rate.Limit(cfg.ConversationWriteRate)
		fx.convBurst = int(math.Ceil(cfg.ConversationWriteRate))
	}
	if len(fx.mediaKey) == 0 {
		fx.mediaKey = make([]byte, 32)
		_, _ = rand.Read(fx.mediaKey)
	}
	s.fx = fx
	s.mux.HandleFunc("POST /v1/media", s.serveMediaUpload)
	s.mux.HandleFunc("OPTIONS /v1/media", s.serveMediaPreflight)
	s.mux.HandleFunc("GET /v1/media/{sid}/content", s.serveMediaContent)
	go s.stateLoop()
	s.initMediaLimits()
	go s.mediaSweepLoop(fx.stop, fx.sweepDone)
}

func (s *Server) stopFeatures() {
	close(s.fx.stop)
	<-s.fx.done
	<-s.fx.sweepDone
}

// connLimiter returns a new connection's request limiter; nil when unlimited.
func (fx *features) connLimiter() *rate.Limiter {
	if fx.reqRate == 0 {
		return nil
	}
	return rate.NewLimiter(fx.reqRate, fx.reqBurst)
}

// convWrite takes one write action of a conversation's budget, shared by all its users.
func (s *Server) convWrite(sid string) error {
	fx := s.fx
	if fx.convRate == 0 {
		return nil
	}
	now := time.Now()
	fx.mu.Lock()
	l := fx.convLim[sid]
	if l == nil {
		if len(fx.convLim) >= sweepAt {
			for k, v := range fx.convLim {
				// Idle this long, a limiter is full again: forgetting it changes nothing.
				if now.Sub(v.used) > time.Duration(float64(fx.convBurst)/float64(fx.convRate)*float64(time.Second))+time.Second {
					delete(fx.convLim, k)
				}
			}
		}
		l = &convLimiter{lim: rate.NewLimiter(fx.convRate, fx.convBurst)}
		fx.convLim[sid] = l
	}
	l.used = now
	ok := l.lim.AllowN(now, 1)
	fx.mu.Unlock()
	if !ok {
		return wire.Errorf(wire.CodeRateLimited, "conversation %q takes at most %g write actions a second; retry in a moment", sid, float64(fx.convRate))
	}
	return nil
}

// typingAllowed reports whether identity may signal typing in a conversation now: at most
// once per wire.TypingThrottle.
func (fx *features) typingAllowed(conv, identity string) bool {
	now := time.Now()
	k := typingKey{conv, identity}
	fx.mu.Lock()
	defer fx.mu.Unlock()
	if last, ok := fx.typing[k]; ok && now.Sub(last) < wire.TypingThrottle {
		return false
	}
	if len(fx.typing) >= sweepAt {
		for k, t := range fx.typing {
			if now.Sub(t) >= wire.TypingThrottle {
				delete(fx.typing, k)
			}
		}
	}
	fx.typing[k] = now
	return true
}

// stateLoop moves conversations whose lifecycle timers passed to inactive or closed.
func (s *Server) stateLoop() {
	defer close(s.fx.done)
	t := time.NewTicker(s.cfg.StateInterval)
	defer t.Stop()
	for {
		select {
		case <-s.fx.stop:
			return
		case now := <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
			ds, err := s.cfg.Store.AdvanceConversationStates(ctx, now)
			cancel()
			if err != nil {
				s.log.Warn("advancing conversation states failed", "err", err)
				continue
			}
			s.hub.deliver(ds)
		}
	}
}

// userRecord returns identity's public record with both reachability flags.
func (s *Server) userRecord(ctx context.Context, identity string) (wire.User, error) {
	u, err := s.cfg.Store.User(ctx, identity)
	if err != nil {
		return u, err
	}
	u.IsOnline = s.hub.online(identity)
	return u, nil
}

// userUpdated signals a user's new record to its subscribers and its own connections on
// every node. IsOnline is set here, so callers holding a bare store record need not.
func (s *Server) userUpdated(u wire.User, reasons []string, except *conn) {
	u.IsOnline = s.hub.online(u.Identity)
	s.hub.signalUser(u.Identity, userUpdatedFrame(u, reasons), except)
}

func userUpdatedFrame(u wire.User, reasons []string) *wire.Frame {
	return &wire.Frame{Type: wire.TypeSignal, Event: wire.SignalUserUpdated,
		Data: mustJSON(wire.UserUpdatedSignal{User: u, UpdateReasons: reasons})}
}

// reachabilityChanged signals that identity came online (its first connection in the
// cluster) or went offline (its last one closed, or its node died), to this node's
// connections only (except one, the connection that just came online and has the record
// in its welcome): every node learns the same transition from the bus and tells its own.
func (s *Server) reachabilityChanged(identity string, online bool, except *conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	u, err := s.cfg.Store.User(ctx, identity)
	if err != nil {
		s.log.Warn("loading user for a reachability signal failed", "identity", identity, "err", err)
		return
	}
	if u.IsOnline = s.hub.online(identity); u.IsOnline != online {
		return // it flipped back meanwhile; that transition signals for itself
	}
	s.hub.signalUserHere(identity, userUpdatedFrame(u, []string{wire.ReasonReachabilityOnline}), except)
}
