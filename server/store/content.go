package store

import (
	"context"

	"github.com/convo-sdk/convo/wire"
)

// ContentTemplateStore keeps content templates, written by the admin API and read by the
// client op content.list and by message sends that name one.
type ContentTemplateStore interface {
	// ContentTemplates lists content templates, oldest first, after the cursor.
	ContentTemplates(ctx context.Context, after string, limit int) (items []wire.ContentTemplate, next string, err error)
	// ContentTemplate returns ErrNotFound when there is none.
	ContentTemplate(ctx context.Context, sid string) (wire.ContentTemplate, error)
	CreateContentTemplate(ctx context.Context, t NewContentTemplate) (wire.ContentTemplate, error)
	// UpdateContentTemplate changes the fields that are set; ErrNotFound when there is none.
	UpdateContentTemplate(ctx context.Context, sid string, u ContentTemplateUpdate) (wire.ContentTemplate, error)
	DeleteContentTemplate(ctx context.Context, sid string) error
}

// NewContentTemplate are the fields of a content template to create.
type NewContentTemplate struct {
	FriendlyName string
	Variables    []wire.ContentVariable
	Variants     wire.RawJSON // empty: {}
}

// ContentTemplateUpdate changes the fields that are non-nil.
type ContentTemplateUpdate struct {
	FriendlyName *string
	Variables    *[]wire.ContentVariable
	Variants     wire.RawJSON
}
