package postgres

import (
	"context"
	"encoding/json"

	"github.com/jackc/pgx/v5"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/server/store/internal/storeutil"
	"github.com/convo-sdk/convo/wire"
)

const receiptCols = storeutil.ReceiptCols

func (s *Store) Receipts(ctx context.Context, conv, msg string) ([]wire.DetailedReceipt, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+receiptCols+` FROM receipts WHERE conversation_sid = $1 AND message_sid = $2
		ORDER BY date_created, sid`, conv, msg)
	defer rows.Close()
	return storeutil.All(rows, storeutil.Receipt)
}

func (s *Store) UpsertReceipt(ctx context.Context, u store.ReceiptUpsert) (wire.DetailedReceipt, []store.Delivery, error) {
	var (
		rc wire.DetailedReceipt
		ds []store.Delivery
	)
	err := s.write(ctx, func(tx pgx.Tx) error {
		ds = nil
		if _, err := lockConversation(ctx, tx, u.ConversationSid); err != nil {
			return err
		}
		before, err := message(ctx, tx, u.ConversationSid, u.MessageSid)
		if err != nil {
			return err
		}
		var known bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM participants WHERE conversation_sid = $1 AND sid = $2)`,
			u.ConversationSid, u.ParticipantSid).Scan(&known); err != nil {
			return err
		}
		if !known {
			return store.ErrNotFound
		}
		t := storeutil.Now()
		if rc, err = storeutil.Receipt(tx.QueryRow(ctx, `INSERT INTO receipts AS r (sid, message_sid, conversation_sid, participant_sid,
				channel_message_sid, status, error_code, date_created, date_updated) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
			ON CONFLICT (message_sid, participant_sid) DO UPDATE SET
				channel_message_sid = CASE WHEN excluded.channel_message_sid = '' THEN r.channel_message_sid ELSE excluded.channel_message_sid END,
				status = excluded.status, error_code = excluded.error_code, date_updated = excluded.date_updated
			RETURNING `+receiptCols,
			store.NewSid(store.PrefixReceipt), u.MessageSid, u.ConversationSid, u.ParticipantSid,
			u.ChannelMessageSid, u.Status, u.ErrorCode, t)); err != nil {
			return err
		}
		m, err := message(ctx, tx, u.ConversationSid, u.MessageSid)
		if err != nil {
			return err
		}
		if before.Receipts != nil && m.Receipts != nil && *before.Receipts == *m.Receipts {
			return nil // the aggregate did not move: nothing for clients to see
		}
		ids, err := participantIdentities(ctx, tx, u.ConversationSid)
		if err != nil {
			return err
		}
		ds, err = s.events(tx).append(ctx, wire.EventMessageUpdated,
			wire.MessageUpdatedEvent{Message: m, UpdateReasons: []string{wire.ReasonDeliveryReceipt}}, ids)
		return err
	})
	return rc, ds, err
}

func (s *Store) ChannelMetadata(ctx context.Context, conv, msg string) (*wire.ChannelMetadata, error) {
	var raw *string
	err := s.pool.QueryRow(ctx, `SELECT channel_metadata FROM messages WHERE conversation_sid = $1 AND sid = $2`, conv, msg).Scan(&raw)
	if err != nil {
		return nil, notFound(err)
	}
	return storeutil.ChannelMetadata(raw)
}

func (s *Store) SetChannelMetadata(ctx context.Context, conv, msg string, meta wire.ChannelMetadata) error {
	b, err := json.Marshal(meta)
	if err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, `UPDATE messages SET channel_metadata = $1 WHERE conversation_sid = $2 AND sid = $3`, string(b), conv, msg)
	if err == nil && tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return err
}
