package sqlite

import (
	"context"
	"database/sql"

	"github.com/convo-sdk/convo/server/store/internal/storeutil"
)

// Removing a message or a conversation erases its content from every table in the
// transaction of the removal, not when retention gets to it: the stream events that
// carried the message (or the conversation's own fields and its participants') are
// redacted in place (their offsets stay, so resumes stay valid) and the webhook deliveries
// not yet made that carry it are given up (WebhookEnqueue queues none for a message or a
// conversation that is gone). secure_delete (open.go) zeroes what the rewritten and
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

// redactConversationEvents reduces the conversationCreated, conversationJoined and
// conversationUpdated events of the conversation named by ?1 to its sid and marks them
// redacted (wire.ConversationEvent); redactParticipantEvents does the same for the
// participant events, which keep the participant's sid, conversationSid, identity and type
// (wire.ParticipantEvent). Their WHERE clauses match the events_by_conversation and
// events_by_participant_conversation indexes (schema.go 0013).
const (
	redactConversationEvents = `UPDATE events SET payload = json_object(
		'conversation', json_object('sid', json_extract(payload, '$.conversation.sid')),
		'redacted', json('true'))
	WHERE name IN ('conversationCreated', 'conversationJoined', 'conversationUpdated')
		AND json_extract(payload, '$.conversation.sid') = ?1`
	redactParticipantEvents = `UPDATE events SET payload = json_object(
		'participant', json_object('sid', json_extract(payload, '$.participant.sid'),
			'conversationSid', json_extract(payload, '$.participant.conversationSid'),
			'identity', json_extract(payload, '$.participant.identity'),
			'type', json_extract(payload, '$.participant.type')),
		'redacted', json('true'))
	WHERE name IN ('participantJoined', 'participantLeft', 'participantUpdated')
		AND json_extract(payload, '$.participant.conversationSid') = ?1`
)

// messageWebhookTypes are the webhook deliveries that carry a message's content;
// conversationWebhookTypes are those a conversation's removal gives up: these and the ones
// that carry the conversation's or a participant's fields (server/webhook names them).
const (
	messageWebhookTypes      = `('message.added', 'message.updated', 'message.outbound', 'push.notification')`
	conversationWebhookTypes = `('conversation.added', 'conversation.updated', 'participant.added', 'participant.updated', 'participant.removed',
		'message.added', 'message.updated', 'message.outbound', 'push.notification')`
)

// eraseMessage redacts message sid's events and gives up its pending webhook deliveries.
func eraseMessage(ctx context.Context, tx *sql.Tx, sid string) error {
	if _, err := tx.ExecContext(ctx, redactMessageEvents+`json_extract(payload, '$.message.sid') = ?`, sid); err != nil {
		return err
	}
	return giveUpWebhooks(ctx, tx, messageWebhookTypes, sid)
}

// eraseConversation does what eraseMessage does for every message of conversation sid,
// redacts the conversation's and its participants' events and gives up the pending
// deliveries of them; it runs before the messages are deleted.
func eraseConversation(ctx context.Context, tx *sql.Tx, sid string) error {
	if _, err := tx.ExecContext(ctx, redactMessageEvents+`json_extract(payload, '$.message.sid') IN
		(SELECT sid FROM messages WHERE conversation_sid = ?)`, sid); err != nil {
		return err
	}
	for _, q := range []string{redactConversationEvents, redactParticipantEvents} {
		if _, err := tx.ExecContext(ctx, q, sid); err != nil {
			return err
		}
	}
	return giveUpWebhooks(ctx, tx, conversationWebhookTypes, sid)
}

// giveUpWebhooks ends the pending deliveries of the given types whose body names sid (a
// message's or a conversation's) as WebhookDone does, so that no node queues them again.
func giveUpWebhooks(ctx context.Context, tx *sql.Tx, types, sid string) error {
	match := `type IN ` + types + ` AND instr(body, '"' || ?1 || '"') > 0`
	if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_done (delivery_id, done_at)
		SELECT delivery_id, ?2 FROM webhook_outbox WHERE `+match+`
		ON CONFLICT (delivery_id) DO UPDATE SET done_at = excluded.done_at`, sid, storeutil.Now()); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM webhook_outbox WHERE `+match, sid)
	return err
}
