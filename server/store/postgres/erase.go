package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/convo-sdk/convo/server/store/internal/storeutil"
)

// Removing a message or a conversation erases its content from every table in the
// transaction of the removal, not when retention gets to it: the stream events that
// carried the message (or the conversation's own fields and its participants') are
// redacted in place (their offsets stay, so resumes stay valid) and the webhook deliveries
// not yet made that carry it are given up (WebhookEnqueue queues none for a message or a
// conversation that is gone). The rows' old
// versions stay in the table files as dead tuples until vacuum reclaims their space.

// redactMessageEvents is the SQL that reduces a messageAdded or messageUpdated payload to
// wire.Message.Redacted's fields and marks it redacted (wire.MessageEvent). The WHERE
// clause that selects the events must repeat redactableEvent and messageSidOf, so that it
// uses the events_by_message index (schema.go 0012).
const redactMessageEvents = `UPDATE events SET payload = (jsonb_set(payload::jsonb
		#- '{message,subject}' #- '{message,attributes}' #- '{message,media}'
		#- '{message,contentSid}' #- '{message,contentVariables}' #- '{message,receipts}',
	'{message,body}', 'null') || '{"redacted": true}')::text
	WHERE ` + redactableEvent + ` AND ` + messageSidOf + ` `

const (
	redactableEvent = `name IN ('messageAdded', 'messageUpdated')`
	messageSidOf    = `(payload::jsonb -> 'message' ->> 'sid')`
)

// redactConversationEvents reduces the conversationCreated, conversationJoined and
// conversationUpdated events of the conversation named by $1 to its sid and marks them
// redacted (wire.ConversationEvent); redactParticipantEvents does the same for the
// participant events, which keep the participant's sid, conversationSid, identity and type
// (wire.ParticipantEvent). Their WHERE clauses match the events_by_conversation and
// events_by_participant_conversation indexes (schema.go 0013).
const (
	redactConversationEvents = `UPDATE events SET payload = jsonb_build_object(
		'conversation', jsonb_build_object('sid', payload::jsonb -> 'conversation' -> 'sid'),
		'redacted', true)::text
	WHERE name IN ('conversationCreated', 'conversationJoined', 'conversationUpdated')
		AND (payload::jsonb -> 'conversation' ->> 'sid') = $1`
	redactParticipantEvents = `UPDATE events SET payload = jsonb_build_object(
		'participant', jsonb_strip_nulls(jsonb_build_object('sid', payload::jsonb -> 'participant' -> 'sid',
			'conversationSid', payload::jsonb -> 'participant' -> 'conversationSid',
			'identity', payload::jsonb -> 'participant' -> 'identity',
			'type', payload::jsonb -> 'participant' -> 'type')),
		'redacted', true)::text
	WHERE name IN ('participantJoined', 'participantLeft', 'participantUpdated')
		AND (payload::jsonb -> 'participant' ->> 'conversationSid') = $1`
)

// messageWebhookTypes are the webhook deliveries that carry a message's content;
// conversationWebhookTypes are those a conversation's removal gives up: these and the ones
// that carry the conversation's or a participant's fields (server/webhook names them).
const (
	messageWebhookTypes      = `('message.added', 'message.updated', 'message.outbound', 'push.notification')`
	conversationWebhookTypes = `('conversation.added', 'conversation.updated', 'participant.added', 'participant.updated', 'participant.removed',
		'message.added', 'message.updated', 'message.outbound', 'push.notification')`
)

// redactMessage redacts message sid's events.
func redactMessage(ctx context.Context, tx pgx.Tx, sid string) error {
	_, err := tx.Exec(ctx, redactMessageEvents+`= $1`, sid)
	return err
}

// redactConversation redacts the events of every message of conversation sid and those of
// the conversation and its participants; it runs before the messages are deleted.
func redactConversation(ctx context.Context, tx pgx.Tx, sid string) error {
	for _, q := range []string{redactMessageEvents + `IN (SELECT sid FROM messages WHERE conversation_sid = $1)`,
		redactConversationEvents, redactParticipantEvents} {
		if _, err := tx.Exec(ctx, q, sid); err != nil {
			return err
		}
	}
	return nil
}

// giveUpWebhooks ends the pending deliveries of the given types whose body names sid (a
// message's or a conversation's) as WebhookDone does, body emptied, so that no node queues them again. It
// runs after the messages' rows (and the conversation's) are deleted: the delete waited for
// any WebhookEnqueue that had found them (FOR SHARE, FOR KEY SHARE), and this statement's
// snapshot, taken after, sees what that enqueue queued.
func giveUpWebhooks(ctx context.Context, tx pgx.Tx, types, sid string) error {
	_, err := tx.Exec(ctx, `UPDATE webhook_outbox SET done_at = $2, body = ''
		WHERE done_at IS NULL AND type IN `+types+` AND strpos(body, '"' || $1 || '"') > 0`,
		sid, storeutil.Now())
	return err
}
