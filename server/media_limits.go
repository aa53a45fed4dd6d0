package server

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Media housekeeping: a per-identity upload rate limit, and a sweeper that deletes media
// nobody attached to a message (and temporary files of uploads that never finished), so that
// uploads cannot fill the disk.

// Defaults of the media Config fields.
const (
	defaultMediaUploadsPerMinute = 10
	defaultMediaUploadBurst      = 10 // a message's worth (wire.MaxMediaPerMessage) at once
	defaultUnattachedMediaTTL    = 24 * time.Hour
	defaultMediaSweepInterval    = 5 * time.Minute
	// staleUploadAge is the age after which a temporary ".upload-*" file is abandoned: an
	// upload that took this long has been cut by the server's read deadline long before.
	staleUploadAge = time.Hour
	// sweepBatch is how many media records one sweep transaction deletes.
	sweepBatch = 500
)

// uploadLimits holds the per-identity upload token buckets.
type uploadLimits struct {
	rate  rate.Limit // 0: unlimited
	burst int

	mu   sync.Mutex
	lims map[string]*convLimiter
}

func (s *Server) initMediaLimits() {
	cfg := &s.cfg
	if cfg.MediaUploadsPerMinute == 0 {
		cfg.MediaUploadsPerMinute = defaultMediaUploadsPerMinute
	}
	if cfg.MediaUploadBurst <= 0 {
		cfg.MediaUploadBurst = defaultMediaUploadBurst
	}
	if cfg.UnattachedMediaTTL <= 0 {
		cfg.UnattachedMediaTTL = defaultUnattachedMediaTTL
	}
	if cfg.MediaSweepInterval <= 0 {
		cfg.MediaSweepInterval = defaultMediaSweepInterval
	}
	s.uploads = &uploadLimits{lims: make(map[string]*convLimiter)}
	if cfg.MediaUploadsPerMinute > 0 {
		s.uploads.rate, s.uploads.burst = rate.Limit(cfg.MediaUploadsPerMinute/60), cfg.MediaUploadBurst
	}
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
		l = &convLimiter{lim: rate.NewLimiter(u.rate, u.burst)}
		u.lims[identity] = l
	}
	l.used = now
	return l.lim.AllowN(now, 1)
}

// mediaSweepLoop runs sweepMedia every MediaSweepInterval until the server closes.
func (s *Server) mediaSweepLoop(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	if s.cfg.MediaDir == "" {
		return
	}
	t := time.NewTicker(s.cfg.MediaSweepInterval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			s.sweepMedia(now, stop)
		}
	}
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
