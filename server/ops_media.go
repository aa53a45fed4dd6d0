package server

import (
	"errors"
	"time"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/wire"
)

// mediaURLs returns signed content URLs for media the caller uploaded or that is attached to
// a message of a conversation the caller participates in.
func (s *Server) mediaURLs(c *call, a wire.MediaURLsArgs) (any, error) {
	if len(a.MediaSids) == 0 {
		return nil, wire.Errorf(wire.CodeBadRequest, "mediaSids is required")
	}
	if len(a.MediaSids) > wire.MaxMediaSidsPerURLRequest {
		return nil, wire.Errorf(wire.CodeTooLarge, "at most %d mediaSids a request, got %d", wire.MaxMediaSidsPerURLRequest, len(a.MediaSids))
	}
	expires := time.Now().Add(MediaURLTTL).Truncate(time.Second)
	out := wire.MediaURLs{URLs: make(map[string]string, len(a.MediaSids)), Expires: expires.UTC()}
	member := map[string]bool{}
	for _, sid := range a.MediaSids {
		m, err := s.cfg.Store.Media(c.ctx, sid)
		if errors.Is(err, store.ErrNotFound) {
			return nil, errMediaNotFound(sid)
		}
		if err != nil {
			return nil, err
		}
		if m.Owner != c.identity {
			ok, known := member[m.ConversationSid]
			if !known && m.ConversationSid != "" {
				_, err := s.cfg.Store.Participant(c.ctx, m.ConversationSid, c.identity)
				if err != nil && !errors.Is(err, store.ErrNotFound) {
					return nil, err
				}
				ok = err == nil
				member[m.ConversationSid] = ok
			}
			if !ok {
				return nil, wire.Errorf(wire.CodeForbidden, "media %q is not yours nor in a conversation you participate in", sid)
			}
		}
		out.URLs[sid] = s.mediaURL(c.conn.base, sid, expires.Unix())
	}
	return out, nil
}
