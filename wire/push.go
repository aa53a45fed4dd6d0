package wire

// Push notification types, with the vendor SDK's NotificationTypes values (two of them keep
// the vendor's older prefixes).
const (
	PushTypingIndicator         = "twilio.ipmsg.typing_indicator"
	PushNewMessage              = "twilio.conversations.new_message"
	PushAddedToConversation     = "twilio.conversations.added_to_conversation"
	PushRemovedFromConversation = "twilio.conversations.removed_from_conversation"
	PushConsumptionUpdate       = "twilio.channel.consumption_update"
)

// PushPayload is the push notification payload convo's server hands to the push webhook for
// delivery to a device (through FCM or APNs, by the app's backend). On the device the app
// passes what it received to Client.parsePushNotification / handlePushNotification. The
// fields mirror what the vendor SDK exposes on PushNotification; Data carries the ids.
type PushPayload struct {
	Type   string   `json:"type"`
	Title  string   `json:"title,omitempty"`
	Body   string   `json:"body,omitempty"`
	Sound  string   `json:"sound,omitempty"`
	Badge  *int     `json:"badge,omitempty"`
	Action string   `json:"action,omitempty"`
	Data   PushData `json:"data"`
}

// PushData identifies what a push notification is about.
type PushData struct {
	ConversationSid   string `json:"conversationSid,omitempty"`
	ConversationTitle string `json:"conversationTitle,omitempty"`
	MessageSid        string `json:"messageSid,omitempty"`
	MessageIndex      *int64 `json:"messageIndex,omitempty"`
	MediaCount        int    `json:"mediaCount,omitempty"`
	Author            string `json:"author,omitempty"`
}
