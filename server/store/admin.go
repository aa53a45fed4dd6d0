package store

// AdminStore is the part of Store behind the admin REST API and outbound webhooks.
type AdminStore interface {
}
