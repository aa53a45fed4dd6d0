//go:build js && wasm

package jsapi

import (
	"syscall/js"

	"github.com/convo-sdk/convo/core"
)

func newEmailRecipientClass() *class {
	return newRecordClass("EmailRecipientDescriptor", "type", "messageSid", "level", "name", "address")
}

func newUnknownRecipientClass() *class {
	return newRecordClass("UnknownRecipientDescriptor", "type", "messageSid", "rawData")
}

// recipientValue is an EmailRecipientDescriptor for an email recipient, otherwise an
// UnknownRecipientDescriptor.
func recipientValue(r core.Recipient) js.Value {
	if r.Type == "email" {
		return record(classes.emailRecipient, map[string]any{
			"type": r.Type, "messageSid": r.MessageSid, "level": r.Level, "name": r.Name, "address": r.Address,
		})
	}
	return record(classes.unknownRecipient, map[string]any{"type": r.Type, "messageSid": r.MessageSid, "rawData": jsonValue(r.RawData)})
}
