package core

import (
	"context"

	"github.com/convo-sdk/convo/wire"
)

// GetContentTemplates returns every content template of the server.
func (c *Client) GetContentTemplates(ctx context.Context) ([]wire.ContentTemplate, error) {
	if err := c.ready(ctx); err != nil {
		return nil, err
	}
	var all []wire.ContentTemplate
	args := wire.ListArgs{PageSize: wire.MaxPageSize}
	for {
		var page wire.ContentTemplatePage
		if err := c.call(ctx, wire.OpContentList, args, &page, true); err != nil {
			return nil, err
		}
		all = append(all, page.Items...)
		if page.Next == "" {
			return all, nil
		}
		args.After = page.Next
	}
}
