package store

// AdminStore is the part of Store behind the admin REST API and outbound webhooks.
//
// Add a method here only together with its implementation in every store (sqlite), so the
// tree always builds.
type AdminStore interface {
	// ContentTemplates lists content templates, oldest first, after the cursor.
	// (Implemented by the admin work; read by the client op content.list.)
	// ContentTemplates(ctx context.Context, after string, limit int) (items []wire.ContentTemplate, next string, err error)
}
