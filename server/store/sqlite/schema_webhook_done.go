package sqlite

// 0005_webhook_done: the ids of webhook deliveries that left the outbox lately, so that a
// node reading the events log late does not queue them again (store.WebhookDoneKept).
var _ = register("0005_webhook_done", `
CREATE TABLE webhook_done (
	delivery_id TEXT   PRIMARY KEY,
	done_at     BIGINT NOT NULL
);
CREATE INDEX webhook_done_at ON webhook_done(done_at);
`)
