//go:build js && wasm

package jsapi

import (
	"syscall/js"

	"github.com/convo-sdk/convo/core"
)

func newAggregatedReceiptClass() *class {
	return newRecordClass("AggregatedDeliveryReceipt", "total", "sent", "delivered", "read", "undelivered", "failed")
}

func newDetailedReceiptClass() *class {
	return newRecordClass("DetailedDeliveryReceipt", "sid", "messageSid", "conversationSid",
		"channelMessageSid", "participantSid", "status", "errorCode", "dateCreated", "dateUpdated")
}

// aggregatedReceiptValue is a message's AggregatedDeliveryReceipt, or null.
func aggregatedReceiptValue(r *core.AggregatedDeliveryReceipt) any {
	if r == nil {
		return js.Null()
	}
	return record(classes.aggregatedReceipt, map[string]any{
		"total": r.Total, "sent": r.Sent, "delivered": r.Delivered, "read": r.Read,
		"undelivered": r.Undelivered, "failed": r.Failed,
	})
}

func detailedReceiptValue(r core.DetailedDeliveryReceipt) js.Value {
	return record(classes.detailedReceipt, map[string]any{
		"sid": r.Sid, "messageSid": r.MessageSid, "conversationSid": r.ConversationSid,
		"channelMessageSid": r.ChannelMessageSid, "participantSid": r.ParticipantSid, "status": r.Status,
		"errorCode": r.ErrorCode, "dateCreated": dateValue(r.DateCreated), "dateUpdated": dateValue(r.DateUpdated),
	})
}
