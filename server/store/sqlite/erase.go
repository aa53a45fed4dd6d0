package sqlite

import (
	"context"
	"database/sql"

	"github.com/convo-sdk/convo/server/store/internal/storeutil"
)

// Removing a message or a conversation erases its content from every table in the
// transaction of the removal, not when retention gets to it: the stream events that
// carried the message are redacted in place (their offsets stay, so resumes stay valid)
// and the webhook deliveries not yet made that carry it are given up (WebhookEnqueue queues
// none for a message that is gone). secure_delete (open.go) zeroes what the rewritten and
// deleted rows leave in the file's pages.

// redactMessageEvents is the SQL that reduces a messageAdded or messageUpdated payload to
// wire.Message.Redacted's fields and marks it redacted (wire.MessageEvent). The WHERE
// clause that selects the events must repeat redactableEvent, so that it uses the
// events_by_message index (schema.go 0012).
const redactMessageEvents = `UPDATE events SET payload = json_set(json_remove(payload,
		'$.message.body', '$.message.subject', '$.message.attributes', '$.message.media',
		'$.message.contentSid', '$.message.contentVariables', '$.message.receipts'),
	'$.message.body', json('null'), '$.redacted', json('true'))
	WHERE ` + redactableEvent + ` AND `

const redactableEvent = `name IN ('messageAdded', 'messageUpdated')`

// messageWebhookTypes are the webhook deliveries that carry a message's content
// (server/webhook names them).
const messageWebhookTypes = `('message.added', 'message.updated', 'message.outbound', 'push.notification')`

// eraseMessage redacts message sid's events and gives up its pending webhook deliveries.
func eraseMessage(ctx context.Context, tx *sql.Tx, sid string) error {
	if _, err := tx.ExecContext(ctx, redactMessageEvents+`json_extract(payload, '$.message.sid') = ?`, sid); err != nil {
		return err
	}
	return giveUpWebhooks(ctx, tx, sid)
}

// eraseConversationMessages does what eraseMessage does for every message of conversation
// sid; it runs before the messages are deleted.
func eraseConversationMessages(ctx context.Context, tx *sql.Tx, sid string) error {
	if _, err := tx.ExecContext(ctx, redactMessageEvents+`json_extract(payload, '$.message.sid') IN
		(SELECT sid FROM messages WHERE conversation_sid = ?)`, sid); err != nil {
		return err
	}
	return giveUpWebhooks(ctx, tx, sid)
}

// giveUpWebhooks ends the pending message deliveries whose body names sid (a message's or a
// conversation's) as WebhookDone does, so that no node queues them again.
func giveUpWebhooks(ctx context.Context, tx *sql.Tx, sid string) error {
	match := `type IN ` + messageWebhookTypes + ` AND instr(body, '"' || ?1 || '"') > 0`
	if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_done (delivery_id, done_at)
		SELECT delivery_id, ?2 FROM webhook_outbox WHERE `+match+`
		ON CONFLICT (delivery_id) DO UPDATE SET done_at = excluded.done_at`, sid, storeutil.Now()); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM webhook_outbox WHERE `+match, sid)
	return err
}
