package sqlite

// 0002_features adds what the client API needs beyond the basics: conversation lifecycle
// state and timers, per-participant notification level and read horizon, non-chat
// participants, message subject/content/edits/channel metadata, media, detailed delivery
// receipts and push registrations. It also marks webhook-only events and per-recipient
// variants of one logical event (see store.FeatureStore).
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
