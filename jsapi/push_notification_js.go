//go:build js && wasm

package jsapi

import (
	"syscall/js"

	"github.com/convo-sdk/convo/core"
	"github.com/convo-sdk/convo/wire"
)

func newPushNotificationClass() *class {
	return newRecordClass("PushNotification", "title", "body", "sound", "badge", "action", "type", "data")
}

// newNotificationTypesClass builds NotificationTypes: the push notification types as statics.
func newNotificationTypesClass() *class {
	c := newClass("NotificationTypes", nil)
	c.static("TYPING_INDICATOR", wire.PushTypingIndicator)
	c.static("NEW_MESSAGE", wire.PushNewMessage)
	c.static("ADDED_TO_CONVERSATION", wire.PushAddedToConversation)
	c.static("REMOVED_FROM_CONVERSATION", wire.PushRemovedFromConversation)
	c.static("CONSUMPTION_UPDATE", wire.PushConsumptionUpdate)
	return c
}

func pushNotificationValue(n core.PushNotification) js.Value {
	badge := any(js.Null())
	if n.Badge != nil {
		badge = *n.Badge
	}
	data := map[string]any{}
	if n.Data.ConversationSid != "" {
		data["conversationSid"] = n.Data.ConversationSid
	}
	if n.Data.ConversationTitle != "" {
		data["conversationTitle"] = n.Data.ConversationTitle
	}
	if n.Data.MessageSid != "" {
		data["messageSid"] = n.Data.MessageSid
	}
	if n.Data.MessageIndex != nil {
		data["messageIndex"] = *n.Data.MessageIndex
	}
	if n.Data.MediaCount > 0 {
		data["mediaCount"] = n.Data.MediaCount
	}
	return record(classes.pushNotification, map[string]any{
		"title": optString(n.Title), "body": optString(n.Body), "sound": optString(n.Sound), "badge": badge,
		"action": optString(n.Action), "type": n.Type, "data": data,
	})
}
