package sqlite

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
