package sqlite

// The schema, one migration after another. Migrations are named; each is applied once, in
// name order, inside one transaction that records its name in schema_migrations
// (migrate.go). A name is recorded in every database that applied it, so it stays as it
// shipped, and so does the migration: never edit one, add another, NNNN_what, numbered after
// every existing one, with its entry in upgradeFixtures (upgrade_test.go).
//
// Times are Unix milliseconds (BIGINT) and attributes JSON text, so the queries stay close to
// what a PostgreSQL store would run. Integer "id" columns give a stable insertion order for
// cursors.

// 0001_base: conversations, participants, messages, users, and the per-user event streams.
var _ = register("0001_base", `
CREATE TABLE conversations (
	id                 INTEGER PRIMARY KEY,
	sid                TEXT    NOT NULL UNIQUE,
	unique_name        TEXT    UNIQUE,
	friendly_name      TEXT    NOT NULL DEFAULT '',
	attributes         TEXT    NOT NULL DEFAULT '{}',
	created_by         TEXT    NOT NULL,
	date_created       BIGINT  NOT NULL,
	date_updated       BIGINT  NOT NULL,
	last_message_index BIGINT,
	last_message_date  BIGINT
);
CREATE TABLE participants (
	id               INTEGER PRIMARY KEY,
	sid              TEXT   NOT NULL UNIQUE,
	conversation_sid TEXT   NOT NULL REFERENCES conversations(sid),
	identity         TEXT   NOT NULL,
	type             TEXT   NOT NULL,
	attributes       TEXT   NOT NULL DEFAULT '{}',
	date_created     BIGINT NOT NULL,
	date_updated     BIGINT NOT NULL,
	UNIQUE (conversation_sid, identity)
);
CREATE INDEX participants_by_identity ON participants(identity);
CREATE TABLE messages (
	sid              TEXT   PRIMARY KEY,
	conversation_sid TEXT   NOT NULL REFERENCES conversations(sid),
	idx              BIGINT NOT NULL,
	author           TEXT   NOT NULL,
	participant_sid  TEXT,
	body             TEXT,
	attributes       TEXT   NOT NULL DEFAULT '{}',
	date_created     BIGINT NOT NULL,
	date_updated     BIGINT NOT NULL,
	idempotency_key  TEXT,
	UNIQUE (conversation_sid, idx)
);
CREATE UNIQUE INDEX messages_idempotency ON messages(conversation_sid, author, idempotency_key)
	WHERE idempotency_key IS NOT NULL;
CREATE TABLE users (
	identity      TEXT   PRIMARY KEY,
	friendly_name TEXT   NOT NULL DEFAULT '',
	attributes    TEXT   NOT NULL DEFAULT '{}',
	date_created  BIGINT NOT NULL
);
-- Per-user event streams. An event's payload is stored once in events; user_events gives it
-- an offset in each recipient's stream.
CREATE TABLE streams (
	identity    TEXT   PRIMARY KEY,
	epoch       TEXT   NOT NULL,
	next_offset BIGINT NOT NULL
);
CREATE TABLE events (
	id      INTEGER PRIMARY KEY,
	name    TEXT NOT NULL,
	payload TEXT NOT NULL
);
CREATE TABLE user_events (
	identity      TEXT   NOT NULL,
	stream_offset BIGINT NOT NULL,
	event_id      BIGINT NOT NULL REFERENCES events(id),
	PRIMARY KEY (identity, stream_offset)
);
CREATE INDEX user_events_by_event ON user_events(event_id);
`)

// 0002_features: conversation lifecycle state and timers, per-participant notification level
// and read horizon, non-chat participants, message subject/content/edits/channel metadata,
// media, detailed delivery receipts and push registrations. It also marks webhook-only events
// and per-recipient variants of one logical event (the store package documents both).
var _ = register("0002_features", `
ALTER TABLE conversations ADD COLUMN state TEXT NOT NULL DEFAULT 'active';
ALTER TABLE conversations ADD COLUMN state_date BIGINT;         -- NULL: active since creation
ALTER TABLE conversations ADD COLUMN bindings TEXT;
ALTER TABLE conversations ADD COLUMN inactive_after_ms BIGINT;  -- timers: NULL when unset
ALTER TABLE conversations ADD COLUMN closed_after_ms BIGINT;
ALTER TABLE conversations ADD COLUMN inactive_at BIGINT;        -- deadlines derived from the timers
ALTER TABLE conversations ADD COLUMN closed_at BIGINT;
CREATE INDEX conversations_inactive_at ON conversations(inactive_at) WHERE inactive_at IS NOT NULL;
CREATE INDEX conversations_closed_at ON conversations(closed_at) WHERE closed_at IS NOT NULL;

-- Non-chat participants have no identity: their identity column holds NUL + their sid (a
-- value no real identity can take, since identities exclude control characters).
ALTER TABLE participants ADD COLUMN notification_level TEXT NOT NULL DEFAULT 'default';
ALTER TABLE participants ADD COLUMN last_read_index BIGINT;
ALTER TABLE participants ADD COLUMN last_read_date BIGINT;
ALTER TABLE participants ADD COLUMN address TEXT;
ALTER TABLE participants ADD COLUMN proxy_address TEXT;
ALTER TABLE participants ADD COLUMN bindings TEXT;
ALTER TABLE participants ADD COLUMN role_sid TEXT;
CREATE UNIQUE INDEX participants_address ON participants(conversation_sid, address, proxy_address)
	WHERE address IS NOT NULL;

ALTER TABLE messages ADD COLUMN subject TEXT;
ALTER TABLE messages ADD COLUMN content_sid TEXT;
ALTER TABLE messages ADD COLUMN content_variables TEXT;  -- JSON array of {name, value}
ALTER TABLE messages ADD COLUMN last_updated_by TEXT;
ALTER TABLE messages ADD COLUMN channel_metadata TEXT;   -- JSON wire.ChannelMetadata, written by the admin API

-- Media files live on disk under their sid; this is their metadata. A media is attached to
-- at most one message (message_sid, position), by its uploader.
CREATE TABLE media (
	sid              TEXT    PRIMARY KEY,
	owner            TEXT    NOT NULL,
	category         TEXT    NOT NULL,
	filename         TEXT    NOT NULL DEFAULT '',
	content_type     TEXT    NOT NULL,
	size             BIGINT  NOT NULL,
	conversation_sid TEXT,
	message_sid      TEXT,
	position         INTEGER,
	date_created     BIGINT  NOT NULL
);
CREATE INDEX media_by_message ON media(message_sid) WHERE message_sid IS NOT NULL;

-- Detailed delivery receipts of non-chat recipients; written by the admin API.
CREATE TABLE receipts (
	sid                 TEXT    PRIMARY KEY,
	message_sid         TEXT    NOT NULL,
	conversation_sid    TEXT    NOT NULL,
	participant_sid     TEXT    NOT NULL,
	channel_message_sid TEXT    NOT NULL DEFAULT '',
	status              TEXT    NOT NULL,
	error_code          INTEGER NOT NULL DEFAULT 0,
	date_created        BIGINT  NOT NULL,
	date_updated        BIGINT  NOT NULL,
	UNIQUE (message_sid, participant_sid)
);

CREATE TABLE push_registrations (
	identity        TEXT   NOT NULL,
	channel_type    TEXT   NOT NULL,
	registration_id TEXT   NOT NULL,
	date_created    BIGINT NOT NULL,
	PRIMARY KEY (identity, channel_type, registration_id)
);

-- webhook_only: recorded for the webhook dispatcher with no recipient stream; the stream
-- pruner leaves such rows alone. variant_of: when one logical event has per-recipient
-- payloads (conversationUpdated carries the recipient's own fields), the first row is the
-- event and the others name it here, so a dispatcher reports the event once.
ALTER TABLE events ADD COLUMN webhook_only INTEGER NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN variant_of BIGINT;
`)

// 0003_admin: content templates and the outbound webhook dispatcher's durable state.
//
// webhook_cursor has one row: the id of the newest event the dispatcher has turned into
// outbox rows, and whether dispatching is enabled (a webhook URL is configured). While it is,
// PruneEvents keeps every event after the cursor. webhook_outbox holds the requests not yet
// delivered, with their retry schedule.
var _ = register("0003_admin", `
CREATE TABLE content_templates (
	id            INTEGER PRIMARY KEY,
	sid           TEXT   NOT NULL UNIQUE,
	friendly_name TEXT   NOT NULL DEFAULT '',
	variables     TEXT   NOT NULL DEFAULT '[]',
	variants      TEXT   NOT NULL DEFAULT '{}',
	date_created  BIGINT NOT NULL,
	date_updated  BIGINT NOT NULL
);
CREATE TABLE webhook_cursor (
	id       INTEGER PRIMARY KEY CHECK (id = 1),
	event_id BIGINT  NOT NULL,
	enabled  INTEGER NOT NULL DEFAULT 0
);
INSERT INTO webhook_cursor (id, event_id, enabled) SELECT 1, COALESCE(MAX(id), 0), 0 FROM events;
CREATE TABLE webhook_outbox (
	seq          INTEGER PRIMARY KEY,
	delivery_id  TEXT    NOT NULL UNIQUE,
	type         TEXT    NOT NULL,
	body         TEXT    NOT NULL,
	attempts     INTEGER NOT NULL DEFAULT 0,
	next_attempt BIGINT  NOT NULL,
	created      BIGINT  NOT NULL
);
CREATE INDEX webhook_outbox_due ON webhook_outbox(next_attempt, seq);
`)

// 0004_bans: who was removed from a conversation by someone else (its creator, the admin
// API). Such an identity cannot join again by sid until the creator or the admin API adds it,
// which deletes the row. Leaving on one's own records nothing.
var _ = register("0004_bans", `
CREATE TABLE participant_bans (
	conversation_sid TEXT   NOT NULL,
	identity         TEXT   NOT NULL,
	date_created     BIGINT NOT NULL,
	PRIMARY KEY (conversation_sid, identity)
);
`)

// 0005_webhook_done: the ids of webhook deliveries that left the outbox lately, so that a
// node reading the events log late does not queue them again (store.WebhookDoneKept).
var _ = register("0005_webhook_done", `
CREATE TABLE webhook_done (
	delivery_id TEXT   PRIMARY KEY,
	done_at     BIGINT NOT NULL
);
CREATE INDEX webhook_done_at ON webhook_done(done_at);
`)

// 0006_participants_chat: every message reads its conversation's chat participants, in
// order, inside the write transaction (participantIdentities); this index answers that
// from the index alone, without a table lookup per participant and a sort.
var _ = register("0006_participants_chat", `
CREATE INDEX participants_chat ON participants(conversation_sid, type, id, identity);
`)

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

// 0009_stream_floors changes no table: it marks the file as one whose streams.next_offset is
// a floor that only link moves raise (heads.go), not a count kept at every commit. A program
// from before it would count on from a stale floor while links are still pending, handing
// offsets out twice; it knows no 0009 and so refuses the file. Written by such a program,
// the counts are exact floors already.
var _ = register("0009_stream_floors", `SELECT 1;`)

// 0010_limits: what the nodes of a cluster count together (limits.go). rate_buckets: a
// token bucket per key, its tokens as of at. leases: one row per held lease.
var _ = register("0010_limits", `
CREATE TABLE rate_buckets (
	key    TEXT   PRIMARY KEY,
	tokens REAL   NOT NULL,
	at     BIGINT NOT NULL
) WITHOUT ROWID;
CREATE TABLE leases (
	key     TEXT   NOT NULL,
	holder  TEXT   NOT NULL,
	node    TEXT   NOT NULL,
	expires BIGINT NOT NULL,
	PRIMARY KEY (key, holder)
) WITHOUT ROWID;
CREATE INDEX leases_node ON leases(node);
CREATE INDEX leases_expires ON leases(expires);
`)

// 0011_restore_marks: a backup's copy holds one row (Backup writes it into the copy, never
// into the live database); the first Open of a restored copy changes every stream's epoch
// and deletes the row (backup.go).
var _ = register("0011_restore_marks", `
CREATE TABLE restore_marks (
	id    INTEGER PRIMARY KEY,
	taken BIGINT NOT NULL
);
`)

// 0012_events_by_message: removing a message redacts the messageAdded and messageUpdated
// events that carried it (erase.go); this finds them by the message's sid.
var _ = register("0012_events_by_message", `
CREATE INDEX events_by_message ON events(json_extract(payload, '$.message.sid'))
	WHERE name IN ('messageAdded', 'messageUpdated');
`)

// 0013_events_by_conversation: removing a conversation redacts the events that carried its
// own content and its participants' (erase.go); these find them by the conversation's sid.
var _ = register("0013_events_by_conversation", `
CREATE INDEX events_by_conversation ON events(json_extract(payload, '$.conversation.sid'))
	WHERE name IN ('conversationCreated', 'conversationJoined', 'conversationUpdated');
CREATE INDEX events_by_participant_conversation ON events(json_extract(payload, '$.participant.conversationSid'))
	WHERE name IN ('participantJoined', 'participantLeft', 'participantUpdated');
`)
