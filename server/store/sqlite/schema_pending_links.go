package sqlite

// 0008_pending_links: stream links not yet moved into user_events (links.go). Keyed by
// shard, then event id, so that a commit appends to a few tail pages.
var _ = register("0008_pending_links", `
CREATE TABLE pending_links (
	shard         INTEGER NOT NULL,
	event_id      BIGINT  NOT NULL,
	identity      TEXT    NOT NULL,
	stream_offset BIGINT  NOT NULL,
	PRIMARY KEY (shard, event_id, identity)
) WITHOUT ROWID;
`)
