package server

import (
	"errors"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/wire"
)

// contentList lists the content templates; any authenticated user.
func (s *Server) contentList(c *call, a wire.ListArgs) (any, error) {
	size, err := pageSize(a.PageSize, wire.DefaultConversationPerPage)
	if err != nil {
		return nil, err
	}
	items, next, err := s.cfg.Store.ContentTemplates(c.ctx, a.After, size)
	if errors.Is(err, store.ErrBadCursor) {
		return nil, badCursor(a.After)
	}
	if err != nil {
		return nil, err
	}
	if items == nil {
		items = []wire.ContentTemplate{}
	}
	return wire.ContentTemplatePage{Items: items, Next: next}, nil
}
