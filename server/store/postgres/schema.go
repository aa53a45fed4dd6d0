package postgres

// Migrations are named; each is applied once, in name order (migrate.go). Never edit one
// that has shipped: add another, NNNN_what, numbered after every existing one, with its
// entry in upgradeFixtures (upgrade_test.go).
//
// The tables mirror the sqlite store's (times are Unix milliseconds, JSON is kept as the
// text the client sent), so both stores answer alike. Integer "id" columns give the
// insertion order that paging cursors use.
var _ = register("0001_base", `
CREATE TABLE conversations (
	id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	sid                TEXT   NOT NULL UNIQUE,
	unique_name        TEXT   UNIQUE,
	friendly_name      TEXT   NOT NULL DEFAULT '',
	attributes         TEXT   NOT NULL DEFAULT '{}',
	created_by         TEXT   NOT NULL,
	date_created       BIGINT NOT NULL,
	date_updated       BIGINT NOT NULL,
	last_message_index BIGINT,
	last_message_date  BIGINT,
	state              TEXT   NOT NULL DEFAULT 'active',
	state_date         BIGINT,          -- NULL: active since creation
	bindings           TEXT,
	inactive_after_ms  BIGINT,          -- lifecycle timers: NULL when unset
	closed_after_ms    BIGINT,
	inactive_at        BIGINT,          -- deadlines derived from the timers
	closed_at          BIGINT
);
CREATE INDEX conversations_inactive_at ON conversations(inactive_at) WHERE inactive_at IS NOT NULL;
CREATE INDEX conversations_closed_at ON conversations(closed_at) WHERE closed_at IS NOT NULL;

-- Non-chat participants have no identity: their identity column holds U+0001 + their sid, a
-- value no real identity takes (identities exclude control characters; PostgreSQL text
-- cannot hold the NUL the sqlite store uses).
CREATE TABLE participants (
	id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	sid                TEXT   NOT NULL UNIQUE,
	conversation_sid   TEXT   NOT NULL REFERENCES conversations(sid),
	identity           TEXT   NOT NULL,
	type               TEXT   NOT NULL,
	attributes         TEXT   NOT NULL DEFAULT '{}',
	date_created       BIGINT NOT NULL,
	date_updated       BIGINT NOT NULL,
	notification_level TEXT   NOT NULL DEFAULT 'default',
	last_read_index    BIGINT,
	last_read_date     BIGINT,
	address            TEXT,
	proxy_address      TEXT,
	bindings           TEXT,
	role_sid           TEXT,
	UNIQUE (conversation_sid, identity)
);
CREATE INDEX participants_by_identity ON participants(identity);
CREATE UNIQUE INDEX participants_address ON participants(conversation_sid, address, proxy_address)
	WHERE address IS NOT NULL;

-- Who was removed from a conversation by someone else, and may not join again on their own.
CREATE TABLE participant_bans (
	conversation_sid TEXT   NOT NULL,
	identity         TEXT   NOT NULL,
	date_created     BIGINT NOT NULL,
	PRIMARY KEY (conversation_sid, identity)
);

CREATE TABLE messages (
	sid               TEXT   PRIMARY KEY,
	conversation_sid  TEXT   NOT NULL REFERENCES conversations(sid),
	idx               BIGINT NOT NULL,
	author            TEXT   NOT NULL,
	participant_sid   TEXT,
	body              TEXT,
	attributes        TEXT   NOT NULL DEFAULT '{}',
	date_created      BIGINT NOT NULL,
	date_updated      BIGINT NOT NULL,
	idempotency_key   TEXT,
	subject           TEXT,
	content_sid       TEXT,
	content_variables TEXT,  -- JSON array of {name, value}
	last_updated_by   TEXT,
	channel_metadata  TEXT,  -- JSON wire.ChannelMetadata, written by the admin API
	UNIQUE (conversation_sid, idx)
);
CREATE UNIQUE INDEX messages_idempotency ON messages(conversation_sid, author, idempotency_key)
	WHERE idempotency_key IS NOT NULL;

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
CREATE INDEX media_by_conversation ON media(conversation_sid) WHERE conversation_sid IS NOT NULL;
CREATE INDEX media_unattached ON media(date_created) WHERE message_sid IS NULL;

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
CREATE INDEX receipts_by_conversation ON receipts(conversation_sid);

CREATE TABLE users (
	identity      TEXT   PRIMARY KEY,
	friendly_name TEXT   NOT NULL DEFAULT '',
	attributes    TEXT   NOT NULL DEFAULT '{}',
	date_created  BIGINT NOT NULL
);

-- seq orders an identity's registrations by their last registration: the oldest go first.
CREATE SEQUENCE push_registrations_seq;
CREATE TABLE push_registrations (
	identity        TEXT   NOT NULL,
	channel_type    TEXT   NOT NULL,
	registration_id TEXT   NOT NULL,
	date_created    BIGINT NOT NULL,
	seq             BIGINT NOT NULL DEFAULT nextval('push_registrations_seq'),
	PRIMARY KEY (identity, channel_type, registration_id)
);

-- Per-user event streams. An event's payload is stored once in events; user_events gives it
-- an offset in each recipient's stream. next_offset is taken under the stream row's lock;
-- the row is updated with every event, so its pages keep room for in-place (HOT) updates.
CREATE TABLE streams (
	identity    TEXT   PRIMARY KEY,
	epoch       TEXT   NOT NULL,
	next_offset BIGINT NOT NULL
) WITH (fillfactor = 50);
-- webhook_only: recorded for the webhook dispatcher, in no stream. variant_of: a
-- per-recipient copy of the event in that row (store.StreamStore). pos: the event's
-- position in the webhook dispatcher's log, assigned after commit (webhooks.go).
CREATE TABLE events (
	id           BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name         TEXT    NOT NULL,
	payload      TEXT    NOT NULL,
	webhook_only BOOLEAN NOT NULL DEFAULT false,
	variant_of   BIGINT,
	pos          BIGINT
);
CREATE INDEX events_pos ON events(pos) WHERE pos IS NOT NULL;
CREATE INDEX events_unsequenced ON events(id) WHERE pos IS NULL;
CREATE INDEX events_webhook_only ON events(id) WHERE webhook_only;
-- No foreign key to events: a check per recipient of every event would cost more than the
-- rest of the append. Rows are linked in the transaction that inserts the event, and the
-- pruner deletes only events nothing links to.
CREATE TABLE user_events (
	identity      TEXT   NOT NULL,
	stream_offset BIGINT NOT NULL,
	event_id      BIGINT NOT NULL,
	PRIMARY KEY (identity, stream_offset)
);
CREATE INDEX user_events_by_event ON user_events(event_id);

CREATE TABLE content_templates (
	id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	sid           TEXT   NOT NULL UNIQUE,
	friendly_name TEXT   NOT NULL DEFAULT '',
	variables     TEXT   NOT NULL DEFAULT '[]',
	variants      TEXT   NOT NULL DEFAULT '{}',
	date_created  BIGINT NOT NULL,
	date_updated  BIGINT NOT NULL
);

-- The webhook dispatcher's state (webhooks.go). webhook_log: the newest position handed
-- out, and the newest event id sealed (never to be dispatched). webhook_cursor: the newest
-- position turned into outbox rows, and whether dispatching is enabled.
CREATE TABLE webhook_log (
	id        INTEGER PRIMARY KEY CHECK (id = 1),
	head      BIGINT  NOT NULL,
	sealed_id BIGINT  NOT NULL
);
INSERT INTO webhook_log (id, head, sealed_id) VALUES (1, 0, 0);
CREATE TABLE webhook_cursor (
	id      INTEGER PRIMARY KEY CHECK (id = 1),
	pos     BIGINT  NOT NULL,
	enabled BOOLEAN NOT NULL
);
INSERT INTO webhook_cursor (id, pos, enabled) VALUES (1, 0, false);
-- done_at: delivered or given up. The row stays a while (store.WebhookDoneKept), body
-- emptied, so that a node queueing the same id late finds it there.
CREATE TABLE webhook_outbox (
	seq          BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	delivery_id  TEXT    NOT NULL UNIQUE,
	type         TEXT    NOT NULL,
	body         TEXT    NOT NULL,
	attempts     INTEGER NOT NULL DEFAULT 0,
	next_attempt BIGINT  NOT NULL,
	created      BIGINT  NOT NULL,
	done_at      BIGINT
);
CREATE INDEX webhook_outbox_due ON webhook_outbox(next_attempt, seq) WHERE done_at IS NULL;
CREATE INDEX webhook_outbox_done ON webhook_outbox(done_at) WHERE done_at IS NOT NULL;
`)

// 0010_limits: what the nodes of a cluster count together (limits.go). rate_buckets: a
// token bucket per key, its tokens as of at. leases: one row per held lease. UNLOGGED: a
// commit that touches only these waits for no WAL flush (a write's limit check costs a round
// trip, not a disk sync); a crash empties them, which frees every limit for a moment.
var _ = register("0010_limits", `
CREATE UNLOGGED TABLE rate_buckets (
	key    TEXT             PRIMARY KEY,
	tokens DOUBLE PRECISION NOT NULL,
	at     BIGINT           NOT NULL
);
CREATE UNLOGGED TABLE leases (
	key     TEXT   NOT NULL,
	holder  TEXT   NOT NULL,
	node    TEXT   NOT NULL,
	expires BIGINT NOT NULL,
	PRIMARY KEY (key, holder)
);
CREATE INDEX leases_node ON leases(node);
CREATE INDEX leases_expires ON leases(expires);
`)

// 0012_events_by_message: removing a message redacts the messageAdded and messageUpdated
// events that carried it (erase.go); this finds them by the message's sid.
var _ = register("0012_events_by_message", `
CREATE INDEX events_by_message ON events ((payload::jsonb -> 'message' ->> 'sid'))
	WHERE name IN ('messageAdded', 'messageUpdated');
`)

// 0013_events_by_conversation: removing a conversation redacts the events that carried its
// own content and its participants' (erase.go); these find them by the conversation's sid.
var _ = register("0013_events_by_conversation", `
CREATE INDEX events_by_conversation ON events ((payload::jsonb -> 'conversation' ->> 'sid'))
	WHERE name IN ('conversationCreated', 'conversationJoined', 'conversationUpdated');
CREATE INDEX events_by_participant_conversation ON events ((payload::jsonb -> 'participant' ->> 'conversationSid'))
	WHERE name IN ('participantJoined', 'participantLeft', 'participantUpdated');
`)
