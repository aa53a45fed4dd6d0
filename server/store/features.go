package store

// FeatureStore is the part of Store behind the client API's features: updates and removal,
// read horizons, notification levels, users, media, push registrations, receipts.
type FeatureStore interface {
}
