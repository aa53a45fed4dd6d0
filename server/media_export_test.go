package server

import "time"

// MediaURLForTest signs a content URL for media sid under base that expires at exp, so
// tests can make expired URLs.
func (s *Server) MediaURLForTest(base, sid string, exp time.Time) string {
	return s.mediaURL(base, sid, exp.Unix())
}
