package sqlite

// Migrations are named; each is applied once, in name order, inside one transaction that
// records its name in schema_migrations. Files register theirs with register, so features
// can own their tables without editing one shared list. Never edit one that has shipped: add
// another. Name them NNNN_what, with a number that sorts after every existing one.
//
// Times are Unix milliseconds (BIGINT) and attributes JSON text, so the queries stay close to
// what a PostgreSQL store would run. Integer "id" columns give a stable insertion order for
// cursors.
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
