package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/server/store/internal/storeutil"
	"github.com/convo-sdk/convo/wire"
)

func (s *Store) Receipts(ctx context.Context, conv, msg string) ([]wire.DetailedReceipt, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+storeutil.ReceiptCols+` FROM receipts WHERE conversation_sid = ? AND message_sid = ?
		ORDER BY date_created, sid`, conv, msg)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return storeutil.All(rows, storeutil.Receipt)
}

func (s *Store) UpsertReceipt(ctx context.Context, u store.ReceiptUpsert) (wire.DetailedReceipt, []store.Delivery, error) {
	var (
		rc wire.DetailedReceipt
		ds []store.Delivery
	)
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		before, err := s.message(ctx, tx, u.ConversationSid, u.MessageSid)
		if err != nil {
			return err
		}
		var ptype string
		if err := tx.QueryRowContext(ctx, `SELECT type FROM participants WHERE conversation_sid = ? AND sid = ?`,
			u.ConversationSid, u.ParticipantSid).Scan(&ptype); err != nil {
			return notFound(err)
		}
		t := storeutil.Now()
		if _, err := tx.ExecContext(ctx, `INSERT INTO receipts (sid, message_sid, conversation_sid, participant_sid,
			channel_message_sid, status, error_code, date_created, date_updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (message_sid, participant_sid) DO UPDATE SET
				channel_message_sid = CASE WHEN excluded.channel_message_sid = '' THEN receipts.channel_message_sid ELSE excluded.channel_message_sid END,
				status = excluded.status, error_code = excluded.error_code, date_updated = excluded.date_updated`,
			store.NewSid(store.PrefixReceipt), u.MessageSid, u.ConversationSid, u.ParticipantSid,
			u.ChannelMessageSid, u.Status, u.ErrorCode, t, t); err != nil {
			return err
		}
		if rc, err = storeutil.Receipt(tx.QueryRowContext(ctx, `SELECT `+storeutil.ReceiptCols+` FROM receipts
			WHERE message_sid = ? AND participant_sid = ?`, u.MessageSid, u.ParticipantSid)); err != nil {
			return err
		}
		m, err := s.message(ctx, tx, u.ConversationSid, u.MessageSid)
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
		ds, err = s.appendEvent(ctx, tx, wire.EventMessageUpdated,
			wire.MessageUpdatedEvent{Message: m, UpdateReasons: []string{wire.ReasonDeliveryReceipt}}, ids)
		return err
	})
	return rc, ds, err
}

func (s *Store) ChannelMetadata(ctx context.Context, conv, msg string) (*wire.ChannelMetadata, error) {
	var raw *string
	err := s.r.QueryRowContext(ctx, `SELECT channel_metadata FROM messages WHERE conversation_sid = ? AND sid = ?`, conv, msg).Scan(&raw)
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
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE messages SET channel_metadata = ? WHERE conversation_sid = ? AND sid = ?`, string(b), conv, msg)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		return nil
	})
}
