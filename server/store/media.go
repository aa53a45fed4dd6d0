package store

import (
	"context"
	"time"

	"github.com/convo-sdk/convo/wire"
)

// MediaStore keeps the records of uploaded media; their files are the caller's.
type MediaStore interface {
	// CreateMedia records an uploaded file (its content is stored by the caller under sid).
	CreateMedia(ctx context.Context, m MediaRecord) error
	// Media returns a media record; ErrNotFound when absent.
	Media(ctx context.Context, sid string) (MediaRecord, error)
	// DeleteMedia removes media records (not files).
	DeleteMedia(ctx context.Context, sids []string) error
	// DeleteUnattachedMedia removes up to limit records of media created before the time
	// and never attached to a message, and returns their sids so the caller deletes the
	// files. A media attached meanwhile is not removed (one transaction).
	DeleteUnattachedMedia(ctx context.Context, before time.Time, limit int) ([]string, error)
}

// MediaRecord is a stored media's metadata, with who uploaded it and where it is attached.
type MediaRecord struct {
	wire.Media
	Owner           string
	ConversationSid string // empty until attached
	MessageSid      string // empty until attached
	DateCreated     time.Time
}
