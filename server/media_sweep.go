// The media sweeper deletes media nobody attached to a message (and what uploads that never
// finished left in the media store), so that uploads cannot fill the disk.

package server

import (
	"context"
	"time"
)

const (
	// staleUploadAge is the age after which what an unfinished upload left (a temporary
	// file, an incomplete multipart upload) is abandoned: an upload that took this long has
	// been cut by the server's read deadline long before.
	staleUploadAge = time.Hour
	// sweepBatch is how many media records one sweep transaction deletes.
	sweepBatch = 500
)

// mediaSweepLoop runs sweepMedia every MediaSweepInterval until the server closes.
func (s *Server) mediaSweepLoop() {
	if s.cfg.Media == nil {
		s.loops.Done()
		return
	}
	s.every(s.cfg.MediaSweepInterval, func(now time.Time) { s.sweepMedia(now, s.stop) })
}

// sweepMedia deletes media unattached for longer than UnattachedMediaTTL (records, then
// content) and what stale unfinished uploads left.
func (s *Server) sweepMedia(now time.Time, stop <-chan struct{}) {
	for {
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		sids, err := s.cfg.Store.DeleteUnattachedMedia(ctx, now.Add(-s.cfg.UnattachedMediaTTL), sweepBatch)
		cancel()
		if err != nil {
			s.log.Warn("sweeping unattached media failed", "err", err)
			break
		}
		s.removeMediaFiles(sids)
		if len(sids) > 0 {
			s.log.Info("deleted unattached media", "count", len(sids))
		}
		select {
		case <-stop:
			return
		default:
		}
		if len(sids) < sweepBatch {
			break
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	if err := s.cfg.Media.SweepIncomplete(ctx, now.Add(-staleUploadAge)); err != nil {
		s.log.Warn("sweeping incomplete uploads failed", "store", s.cfg.Media.String(), "err", err)
	}
}
