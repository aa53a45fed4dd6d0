package sqlite

// 0007_streams_compact: the per-recipient rows every message writes, made cheaper for the
// single writer.
//
// user_events loses its foreign key to events: the check cost a lookup in events for every
// recipient of every message. The store keeps the reference valid without it:
// appendEventFor links only ids that the INSERT INTO events of the same transaction
// returned, and events are deleted only by PruneEvents (rows no user_events row
// references, checked in the same statement as the delete) and by the webhook dispatcher
// (webhook_only rows, which never get a stream link). Every write runs on the one writer
// connection, so nothing links an event between PruneEvents' check and its delete.
//
// user_events and streams become WITHOUT ROWID tables, stored in their primary key's
// b-tree: a row written or bumped touches one b-tree fewer (no separate rowid table
// beside the key's index). Nothing reads their rowids.
var _ = register("0007_streams_compact", `
CREATE TABLE user_events_new (
	identity      TEXT   NOT NULL,
	stream_offset BIGINT NOT NULL,
	event_id      BIGINT NOT NULL,
	PRIMARY KEY (identity, stream_offset)
) WITHOUT ROWID;
INSERT INTO user_events_new (identity, stream_offset, event_id)
	SELECT identity, stream_offset, event_id FROM user_events ORDER BY identity, stream_offset;
DROP TABLE user_events;
ALTER TABLE user_events_new RENAME TO user_events;
CREATE INDEX user_events_by_event ON user_events(event_id);
CREATE TABLE streams_new (
	identity    TEXT   PRIMARY KEY,
	epoch       TEXT   NOT NULL,
	next_offset BIGINT NOT NULL
) WITHOUT ROWID;
INSERT INTO streams_new (identity, epoch, next_offset)
	SELECT identity, epoch, next_offset FROM streams ORDER BY identity;
DROP TABLE streams;
ALTER TABLE streams_new RENAME TO streams;
`)
