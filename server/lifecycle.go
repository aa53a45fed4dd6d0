// Conversation lifecycle: the loop that applies the timers set through the admin API.

package server

import (
	"context"
	"time"
)

// stateLoop moves conversations whose lifecycle timers passed to inactive or closed.
func (s *Server) stateLoop() {
	s.every(s.cfg.StateInterval, func(now time.Time) {
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		ds, err := s.cfg.Store.AdvanceConversationStates(ctx, now)
		cancel()
		if err != nil {
			s.log.Warn("advancing conversation states failed", "err", err)
			return
		}
		s.hub.deliver(ds)
	})
}

// every runs f every interval until the server closes; it is one of the background loops
// Close waits for.
func (s *Server) every(interval time.Duration, f func(now time.Time)) {
	defer s.loops.Done()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case now := <-t.C:
			f(now)
		}
	}
}
