// The media sweeper deletes media nobody attached to a message (and temporary files of
// uploads that never finished), so that uploads cannot fill the disk.

package server

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"time"
)

const (
	// staleUploadAge is the age after which a temporary ".upload-*" file is abandoned: an
	// upload that took this long has been cut by the server's read deadline long before.
	staleUploadAge = time.Hour
	// sweepBatch is how many media records one sweep transaction deletes.
	sweepBatch = 500
)

// mediaSweepLoop runs sweepMedia every MediaSweepInterval until the server closes.
func (s *Server) mediaSweepLoop() {
	if s.cfg.MediaDir == "" {
		s.loops.Done()
		return
	}
	s.every(s.cfg.MediaSweepInterval, func(now time.Time) { s.sweepMedia(now, s.stop) })
}

// sweepMedia deletes media unattached for longer than UnattachedMediaTTL (records, then
// files) and stale temporary upload files.
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
	entries, err := os.ReadDir(s.cfg.MediaDir)
	if err != nil {
		s.log.Warn("listing the media directory failed", "err", err)
		return
	}
	for _, e := range entries {
		if !e.Type().IsRegular() || !strings.HasPrefix(e.Name(), ".upload-") {
			continue
		}
		info, err := e.Info()
		if err != nil || now.Sub(info.ModTime()) < staleUploadAge {
			continue
		}
		if err := os.Remove(filepath.Join(s.cfg.MediaDir, e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
			s.log.Warn("removing a stale upload file failed", "file", e.Name(), "err", err)
		}
	}
}
