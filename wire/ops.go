package wire

import "time"

// Operation names (Frame.Op). The comment gives the argument and result types. Who may call
// each op is documented in docs/PROTOCOL.md and enforced by the server.
const (
	OpConversationCreate    = "conversation.create"          // CreateConversationArgs → Conversation
	OpConversationGet       = "conversation.get"             // GetConversationArgs → Conversation (participants only)
	OpConversationPeek      = "conversation.peek"            // GetConversationArgs → Conversation (any user who knows the sid)
	OpConversationList      = "conversation.list"            // ListArgs → ConversationPage (the caller's conversations)
	OpConversationJoin      = "conversation.join"            // ConversationRef → Participant
	OpConversationLeave     = "conversation.leave"           // ConversationRef → Empty
	OpConversationUpdate    = "conversation.update"          // UpdateConversationArgs → Conversation
	OpConversationDelete    = "conversation.delete"          // ConversationRef → Empty
	OpConversationNotify    = "conversation.setNotification" // NotificationLevelArgs → Conversation
	OpConversationRead      = "conversation.read"            // ReadArgs → ReadResult
	OpConversationCounts    = "conversation.counts"          // ConversationRef → Counts
	OpConversationTyping    = "conversation.typing"          // ConversationRef → Empty; signals SignalTyping to the others
	OpParticipantAdd        = "participant.add"              // AddParticipantArgs → Participant
	OpParticipantAddNonChat = "participant.addNonChat"       // AddNonChatParticipantArgs → Participant
	OpParticipantList       = "participant.list"             // ConversationRef → ParticipantPage
	OpParticipantUpdate     = "participant.update"           // UpdateParticipantArgs → Participant
	OpParticipantRemove     = "participant.remove"           // RemoveParticipantArgs → Empty
	OpMessageSend           = "message.send"                 // SendMessageArgs → Message
	OpMessageList           = "message.list"                 // ListMessagesArgs → MessagePage
	OpMessageUpdate         = "message.update"               // UpdateMessageArgs → Message
	OpMessageRemove         = "message.remove"               // MessageRef → Empty
	OpMessageReceipts       = "message.receipts"             // MessageRef → ReceiptPage
	OpMessageRecipients     = "message.recipients"           // MessageRef → RecipientPage
	OpMessageChannelMeta    = "message.channelMetadata"      // MessageRef → ChannelMetadata (or null)
	OpUserSubscribe         = "user.subscribe"               // UserRef → User; then SignalUserUpdated for that user
	OpUserUnsubscribe       = "user.unsubscribe"             // UserRef → Empty
	OpUserUpdate            = "user.update"                  // UpdateUserArgs → User (the caller's own record)
	OpMediaURLs             = "media.urls"                   // MediaURLsArgs → MediaURLs
	OpPushRegister          = "push.register"                // PushRegistrationArgs → Empty
	OpPushUnregister        = "push.unregister"              // PushRegistrationArgs → Empty
	OpContentList           = "content.list"                 // ListArgs → ContentTemplatePage
	OpSessionUpdateToken    = "session.updateToken"          // UpdateTokenArgs → UpdateTokenResult
)

// Event names (Frame.Event of TypeEvent frames). They match the vendor SDK's client event
// names where one exists.
const (
	EventConversationJoined  = "conversationJoined"  // ConversationEvent: the stream's user joined or was added
	EventConversationLeft    = "conversationLeft"    // ConversationRefEvent: the stream's user left or was removed
	EventConversationUpdated = "conversationUpdated" // ConversationUpdatedEvent
	EventConversationRemoved = "conversationRemoved" // ConversationRefEvent: the conversation was deleted
	EventParticipantJoined   = "participantJoined"   // ParticipantEvent
	EventParticipantLeft     = "participantLeft"     // ParticipantEvent
	EventParticipantUpdated  = "participantUpdated"  // ParticipantUpdatedEvent
	EventMessageAdded        = "messageAdded"        // MessageEvent
	EventMessageUpdated      = "messageUpdated"      // MessageUpdatedEvent
	EventMessageRemoved      = "messageRemoved"      // MessageEvent (the message as it was)
)

// Signal names (Frame.Event of TypeSignal frames): ephemeral news, never replayed. A client
// that reconnects refreshes what signals describe (subscribed users) with requests.
const (
	SignalTyping      = "typing"      // TypingSignal, to the conversation's other participants
	SignalUserUpdated = "userUpdated" // UserUpdatedSignal, to connections subscribed to that user and the user's own
)

// Update reasons carried by *Updated events, with the vendor SDK's names.
const (
	ReasonAttributes           = "attributes"
	ReasonFriendlyName         = "friendlyName"
	ReasonUniqueName           = "uniqueName"
	ReasonDateUpdated          = "dateUpdated"
	ReasonState                = "state"
	ReasonLastMessage          = "lastMessage"
	ReasonLastReadMessageIndex = "lastReadMessageIndex"
	ReasonLastReadTimestamp    = "lastReadTimestamp"
	ReasonNotificationLevel    = "notificationLevel"
	ReasonBody                 = "body"
	ReasonLastUpdatedBy        = "lastUpdatedBy"
	ReasonDeliveryReceipt      = "deliveryReceipt"
	ReasonRoleSid              = "roleSid"
	ReasonReachabilityOnline   = "reachabilityOnline"
	ReasonReachabilityNotify   = "reachabilityNotifiable"
)

// Limits, enforced by the server and checked early by the client.
const (
	MaxFriendlyNameChars       = 256
	MaxUniqueNameChars         = 256
	MaxIdentityChars           = 256
	MaxConversationAttrsBytes  = 16 << 10
	MaxMessageBodyBytes        = 32 << 10
	MaxMessageAttrsBytes       = 4 << 10
	MaxParticipantAttrsBytes   = 4 << 10
	MaxUserAttrsBytes          = 16 << 10
	MaxParticipantsPerConv     = 1000
	MaxPageSize                = 100
	DefaultMessagePageSize     = 30
	DefaultConversationPerPage = 50
	MaxIdempotencyKeyChars     = 64
	MaxMediaPerMessage         = 10
	DefaultMaxMediaBytes       = 16 << 20 // per file; the server may be configured otherwise
	MaxSubjectChars            = 256
	MaxAddressChars            = 256
	MaxMediaSidsPerURLRequest  = 100
	// TypingThrottle is how often a client sends conversation.typing at most, and
	// TypingTimeout how long receivers show a participant typing after the last signal.
	TypingThrottle = 5 * time.Second
	TypingTimeout  = 6 * time.Second
)

// Empty is the result of ops that return nothing.
type Empty struct{}

// Conversation is a conversation as seen by one user: the shared fields plus that user's
// status, notification level and read horizon.
type Conversation struct {
	Sid          string    `json:"sid"`
	UniqueName   string    `json:"uniqueName,omitempty"`
	FriendlyName string    `json:"friendlyName,omitempty"`
	Attributes   RawJSON   `json:"attributes,omitempty"`
	CreatedBy    string    `json:"createdBy"`
	DateCreated  time.Time `json:"dateCreated"`
	DateUpdated  time.Time `json:"dateUpdated"`
	// State is the lifecycle state; nil means active since creation.
	State *ConversationState `json:"state,omitempty"`
	// Bindings describes non-chat channels (email, sms) as the vendor's ConversationBindings.
	Bindings RawJSON `json:"bindings,omitempty"`
	// LastMessage is absent while the conversation has no message.
	LastMessage *LastMessage `json:"lastMessage,omitempty"`
	// Joined tells whether the requesting user is a participant.
	Joined bool `json:"joined"`
	// NotificationLevel is "default" or "muted" for the requesting user.
	NotificationLevel string `json:"notificationLevel,omitempty"`
	// LastReadMessageIndex is the requesting user's read horizon; nil until first set.
	LastReadMessageIndex *int64 `json:"lastReadMessageIndex,omitempty"`
}

// ConversationState is a conversation's lifecycle state: "active", "inactive" or "closed".
type ConversationState struct {
	Current     string    `json:"current"`
	DateUpdated time.Time `json:"dateUpdated"`
}

// Conversation lifecycle states.
const (
	StateActive   = "active"
	StateInactive = "inactive"
	StateClosed   = "closed"
)

// Notification levels.
const (
	NotificationDefault = "default"
	NotificationMuted   = "muted"
)

// LastMessage summarises a conversation's newest message.
type LastMessage struct {
	Index       int64     `json:"index"`
	DateCreated time.Time `json:"dateCreated"`
}

// Participant types. Non-chat participants are reached through a channel the server hands
// to a webhook (see the admin API); they have an address instead of an identity.
const (
	ParticipantChat     = "chat"
	ParticipantSMS      = "sms"
	ParticipantWhatsApp = "whatsapp"
	ParticipantEmail    = "email"
)

// Participant is a member of a conversation.
type Participant struct {
	Sid             string    `json:"sid"`
	ConversationSid string    `json:"conversationSid"`
	Identity        string    `json:"identity,omitempty"` // empty for non-chat participants
	Type            string    `json:"type"`
	Attributes      RawJSON   `json:"attributes,omitempty"`
	RoleSid         string    `json:"roleSid,omitempty"`
	DateCreated     time.Time `json:"dateCreated"`
	DateUpdated     time.Time `json:"dateUpdated"`
	// LastReadMessageIndex and LastReadTimestamp are the participant's read horizon.
	LastReadMessageIndex *int64     `json:"lastReadMessageIndex,omitempty"`
	LastReadTimestamp    *time.Time `json:"lastReadTimestamp,omitempty"`
	// Address, ProxyAddress and Bindings describe a non-chat participant's channel.
	Address      string  `json:"address,omitempty"`
	ProxyAddress string  `json:"proxyAddress,omitempty"`
	Bindings     RawJSON `json:"bindings,omitempty"`
}

// Media categories, as the vendor names them.
const (
	MediaCategoryMedia   = "media"
	MediaCategoryBody    = "body"    // an email body
	MediaCategoryHistory = "history" // an email history
)

// Media describes a file stored by the server. Its content is fetched through a short-lived
// URL from OpMediaURLs.
type Media struct {
	Sid         string `json:"sid"`
	Category    string `json:"category"`
	Filename    string `json:"filename,omitempty"`
	ContentType string `json:"contentType"`
	Size        int64  `json:"size"`
}

// Message is a message in a conversation. Index grows with every message and never repeats.
type Message struct {
	Sid             string  `json:"sid"`
	ConversationSid string  `json:"conversationSid"`
	Index           int64   `json:"index"`
	Author          string  `json:"author"`
	ParticipantSid  string  `json:"participantSid,omitempty"`
	Body            *string `json:"body"`
	Subject         *string `json:"subject,omitempty"`
	Attributes      RawJSON `json:"attributes,omitempty"`
	Media           []Media `json:"media,omitempty"`
	// ContentSid names the content template the message was sent with, if any;
	// ContentVariables are the values it was filled with.
	ContentSid       string            `json:"contentSid,omitempty"`
	ContentVariables []ContentVariable `json:"contentVariables,omitempty"`
	LastUpdatedBy    string            `json:"lastUpdatedBy,omitempty"`
	DateCreated      time.Time         `json:"dateCreated"`
	DateUpdated      time.Time         `json:"dateUpdated"`
	// Receipts aggregates the delivery receipts of non-chat recipients; nil when there are none.
	Receipts *AggregatedReceipt `json:"receipts,omitempty"`
}

// Delivery amounts of an aggregated receipt.
const (
	AmountNone = "none"
	AmountSome = "some"
	AmountAll  = "all"
)

// AggregatedReceipt summarises a message's delivery to non-chat participants.
type AggregatedReceipt struct {
	Total       int    `json:"total"`
	Sent        string `json:"sent"`
	Delivered   string `json:"delivered"`
	Read        string `json:"read"`
	Undelivered string `json:"undelivered"`
	Failed      string `json:"failed"`
}

// Delivery statuses of a detailed receipt.
const (
	DeliveryQueued      = "queued"
	DeliverySent        = "sent"
	DeliveryDelivered   = "delivered"
	DeliveryRead        = "read"
	DeliveryUndelivered = "undelivered"
	DeliveryFailed      = "failed"
)

// DetailedReceipt is a message's delivery status to one non-chat participant, reported by the
// app's backend through the admin API.
type DetailedReceipt struct {
	Sid               string    `json:"sid"`
	MessageSid        string    `json:"messageSid"`
	ConversationSid   string    `json:"conversationSid"`
	ChannelMessageSid string    `json:"channelMessageSid"`
	ParticipantSid    string    `json:"participantSid"`
	Status            string    `json:"status"`
	ErrorCode         int       `json:"errorCode"`
	DateCreated       time.Time `json:"dateCreated"`
	DateUpdated       time.Time `json:"dateUpdated"`
}

// Recipient describes who an email message went to: Type "email" with Level, Name and
// Address, or "unknown" with RawData.
type Recipient struct {
	Type       string  `json:"type"`
	MessageSid string  `json:"messageSid"`
	Level      string  `json:"level,omitempty"` // "to" or "cc"
	Name       string  `json:"name,omitempty"`
	Address    string  `json:"address,omitempty"`
	RawData    RawJSON `json:"rawData,omitempty"`
}

// ChannelMetadata is what a non-chat channel recorded about a message.
type ChannelMetadata struct {
	Type string  `json:"type"`
	Data RawJSON `json:"data"`
}

// User is a user's public record. IsOnline and IsNotifiable are the reachability flags.
type User struct {
	Identity     string  `json:"identity"`
	FriendlyName string  `json:"friendlyName,omitempty"`
	Attributes   RawJSON `json:"attributes,omitempty"`
	IsOnline     bool    `json:"isOnline"`
	IsNotifiable bool    `json:"isNotifiable"`
}

// ContentVariable is one variable of a content template.
type ContentVariable struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// ContentTemplate is a reusable rich message, created through the admin API. Variants maps a
// content type ("twilio/text", "twilio/media", ...) to its definition, as the vendor's.
type ContentTemplate struct {
	Sid          string            `json:"sid"`
	FriendlyName string            `json:"friendlyName"`
	Variables    []ContentVariable `json:"variables"`
	Variants     RawJSON           `json:"variants"`
	DateCreated  time.Time         `json:"dateCreated"`
	DateUpdated  time.Time         `json:"dateUpdated"`
}

// CreateConversationArgs are the arguments of OpConversationCreate.
type CreateConversationArgs struct {
	FriendlyName string  `json:"friendlyName,omitempty"`
	UniqueName   string  `json:"uniqueName,omitempty"`
	Attributes   RawJSON `json:"attributes,omitempty"`
}

// GetConversationArgs names a conversation by sid or by unique name.
type GetConversationArgs struct {
	Sid        string `json:"sid,omitempty"`
	UniqueName string `json:"uniqueName,omitempty"`
}

// ConversationRef names a conversation by sid.
type ConversationRef struct {
	ConversationSid string `json:"conversationSid"`
}

// UpdateConversationArgs changes the fields that are set; UniqueName "" clears it when
// ClearUniqueName is true.
type UpdateConversationArgs struct {
	ConversationSid string  `json:"conversationSid"`
	FriendlyName    *string `json:"friendlyName,omitempty"`
	UniqueName      *string `json:"uniqueName,omitempty"`
	Attributes      RawJSON `json:"attributes,omitempty"`
}

// NotificationLevelArgs set the caller's notification level in a conversation.
type NotificationLevelArgs struct {
	ConversationSid string `json:"conversationSid"`
	Level           string `json:"level"` // NotificationDefault or NotificationMuted
}

// Read modes of ReadArgs.
const (
	ReadSet     = "set"     // set the horizon to Index (nil: nothing read)
	ReadAdvance = "advance" // move it to Index only if that is further
	ReadAll     = "all"     // everything read (the newest index)
	ReadNone    = "none"    // nothing read
)

// ReadArgs move the caller's read horizon in a conversation.
type ReadArgs struct {
	ConversationSid string `json:"conversationSid"`
	Mode            string `json:"mode"`
	Index           *int64 `json:"index,omitempty"`
}

// ReadResult is the horizon after the change and the unread count it leaves (nil while the
// horizon is unset, as the vendor SDK reports).
type ReadResult struct {
	LastReadMessageIndex *int64 `json:"lastReadMessageIndex"`
	UnreadCount          *int64 `json:"unreadCount"`
}

// Counts are a conversation's totals; Unread is nil while the caller's horizon is unset.
type Counts struct {
	Messages     int64  `json:"messages"`
	Participants int64  `json:"participants"`
	Unread       *int64 `json:"unread"`
}

// ListArgs pages through a list ordered by creation: After is the cursor returned as Next.
type ListArgs struct {
	PageSize int    `json:"pageSize,omitempty"`
	After    string `json:"after,omitempty"`
}

// ConversationPage is one page of the caller's conversations.
type ConversationPage struct {
	Items []Conversation `json:"items"`
	Next  string         `json:"next,omitempty"`
}

// AddParticipantArgs are the arguments of OpParticipantAdd.
type AddParticipantArgs struct {
	ConversationSid string  `json:"conversationSid"`
	Identity        string  `json:"identity"`
	Attributes      RawJSON `json:"attributes,omitempty"`
}

// AddNonChatParticipantArgs add an SMS, WhatsApp or email participant: Address is theirs,
// ProxyAddress the one the conversation uses towards them ("whatsapp:+1…" selects WhatsApp,
// an address with "@" email, otherwise SMS).
type AddNonChatParticipantArgs struct {
	ConversationSid string  `json:"conversationSid"`
	ProxyAddress    string  `json:"proxyAddress"`
	Address         string  `json:"address"`
	Attributes      RawJSON `json:"attributes,omitempty"`
	Bindings        RawJSON `json:"bindings,omitempty"`
}

// UpdateParticipantArgs change a participant's attributes.
type UpdateParticipantArgs struct {
	ConversationSid string  `json:"conversationSid"`
	ParticipantSid  string  `json:"participantSid"`
	Attributes      RawJSON `json:"attributes"`
}

// RemoveParticipantArgs name a participant by sid or identity.
type RemoveParticipantArgs struct {
	ConversationSid string `json:"conversationSid"`
	ParticipantSid  string `json:"participantSid,omitempty"`
	Identity        string `json:"identity,omitempty"`
}

// ParticipantPage lists a conversation's participants.
type ParticipantPage struct {
	Items []Participant `json:"items"`
}

// SendMessageArgs are the arguments of OpMessageSend. IdempotencyKey is chosen by the client;
// a second send with the same key in the same conversation returns the first message instead
// of storing another. MediaSids name media uploaded over HTTP beforehand by the same user.
type SendMessageArgs struct {
	ConversationSid  string            `json:"conversationSid"`
	Body             *string           `json:"body,omitempty"`
	Subject          *string           `json:"subject,omitempty"`
	Attributes       RawJSON           `json:"attributes,omitempty"`
	MediaSids        []string          `json:"mediaSids,omitempty"`
	ContentSid       string            `json:"contentSid,omitempty"`
	ContentVariables []ContentVariable `json:"contentVariables,omitempty"`
	IdempotencyKey   string            `json:"idempotencyKey,omitempty"`
}

// Paging directions of ListMessagesArgs.
const (
	Backwards = "backwards" // the page ends at the anchor (or the newest message)
	Forward   = "forward"   // the page starts at the anchor
)

// ListMessagesArgs are the arguments of OpMessageList. Without an anchor a backwards page
// ends at the newest message and a forward page starts at the oldest.
type ListMessagesArgs struct {
	ConversationSid string `json:"conversationSid"`
	PageSize        int    `json:"pageSize,omitempty"`
	Anchor          *int64 `json:"anchor,omitempty"`
	Direction       string `json:"direction,omitempty"`
}

// MessagePage is a page of messages in ascending index order. HasPrev tells whether older
// messages exist before Items[0]; HasNext whether newer ones exist after the last item.
type MessagePage struct {
	Items   []Message `json:"items"`
	HasPrev bool      `json:"hasPrev"`
	HasNext bool      `json:"hasNext"`
}

// MessageRef names a message.
type MessageRef struct {
	ConversationSid string `json:"conversationSid"`
	MessageSid      string `json:"messageSid"`
}

// UpdateMessageArgs change the fields that are set.
type UpdateMessageArgs struct {
	ConversationSid string  `json:"conversationSid"`
	MessageSid      string  `json:"messageSid"`
	Body            *string `json:"body,omitempty"`
	Attributes      RawJSON `json:"attributes,omitempty"`
}

// ReceiptPage lists a message's detailed receipts.
type ReceiptPage struct {
	Items []DetailedReceipt `json:"items"`
}

// RecipientPage lists a message's recipients.
type RecipientPage struct {
	Items []Recipient `json:"items"`
}

// UserRef names a user.
type UserRef struct {
	Identity string `json:"identity"`
}

// UpdateUserArgs change the caller's own public fields that are set.
type UpdateUserArgs struct {
	FriendlyName *string `json:"friendlyName,omitempty"`
	Attributes   RawJSON `json:"attributes,omitempty"`
}

// MediaURLsArgs ask for temporary URLs of media the caller may read.
type MediaURLsArgs struct {
	MediaSids []string `json:"mediaSids"`
}

// MediaURLs maps media sids to temporary URLs; Expires is when they stop working.
type MediaURLs struct {
	URLs    map[string]string `json:"urls"`
	Expires time.Time         `json:"expires"`
}

// Push channel types.
const (
	PushFCM = "fcm"
	PushAPN = "apn"
)

// PushRegistrationArgs register or remove a device for push notifications. Unregistering
// without a RegistrationID removes every registration of that channel type for the caller.
type PushRegistrationArgs struct {
	ChannelType    string `json:"channelType"`
	RegistrationID string `json:"registrationId,omitempty"`
}

// ContentTemplatePage lists content templates.
type ContentTemplatePage struct {
	Items []ContentTemplate `json:"items"`
	Next  string            `json:"next,omitempty"`
}

// UpdateTokenArgs carry a new token for the live connection. It must name the same identity.
type UpdateTokenArgs struct {
	Token string `json:"token"`
}

// UpdateTokenResult reports the new token's expiry in Unix milliseconds.
type UpdateTokenResult struct {
	TokenExpires int64 `json:"tokenExpires"`
}

// ConversationEvent is the payload of conversationJoined.
//
// Removing a conversation redacts its earlier conversationJoined and conversationUpdated
// events in place, and its participants' events ([ParticipantEvent]): Redacted is true and
// Conversation keeps only its sid. A client skips a redacted event; the conversationRemoved
// that follows it in the stream reports the removal.
type ConversationEvent struct {
	Conversation Conversation `json:"conversation"`
	Redacted     bool         `json:"redacted,omitempty"`
}

// ConversationRefEvent is the payload of conversationLeft and conversationRemoved.
type ConversationRefEvent struct {
	ConversationSid string `json:"conversationSid"`
}

// ConversationUpdatedEvent is the payload of conversationUpdated.
// Redacted as for [ConversationEvent] (a redacted event has no update reasons).
type ConversationUpdatedEvent struct {
	Conversation  Conversation `json:"conversation"`
	UpdateReasons []string     `json:"updateReasons"`
	Redacted      bool         `json:"redacted,omitempty"`
}

// ParticipantEvent is the payload of participantJoined and participantLeft.
//
// Removing the conversation redacts them as it does [ConversationEvent]: Redacted is true
// and Participant keeps only its sid, conversationSid, identity and type.
type ParticipantEvent struct {
	Participant Participant `json:"participant"`
	Redacted    bool        `json:"redacted,omitempty"`
}

// ParticipantUpdatedEvent is the payload of participantUpdated.
// Redacted as for [ParticipantEvent].
type ParticipantUpdatedEvent struct {
	Participant   Participant `json:"participant"`
	UpdateReasons []string    `json:"updateReasons"`
	Redacted      bool        `json:"redacted,omitempty"`
}

// MessageEvent is the payload of messageAdded and messageRemoved.
//
// Removing a message (or its conversation) redacts its earlier messageAdded and
// messageUpdated events in place: Redacted is true and Message keeps only what identifies it
// (sid, conversationSid, index, author, participantSid, lastUpdatedBy, dates), with a null
// body and no attributes, media, subject or content variables. A client skips a redacted
// event; the messageRemoved that follows it in the stream reports the removal. messageRemoved
// itself carries the message in that same reduced form.
type MessageEvent struct {
	Message  Message `json:"message"`
	Redacted bool    `json:"redacted,omitempty"`
}

// MessageUpdatedEvent is the payload of messageUpdated; Redacted as for [MessageEvent].
type MessageUpdatedEvent struct {
	Message       Message  `json:"message"`
	UpdateReasons []string `json:"updateReasons"`
	Redacted      bool     `json:"redacted,omitempty"`
}

// Redacted returns m reduced to what identifies it: the form of a removed message in
// messageRemoved and in the redacted events before it.
func (m Message) Redacted() Message {
	return Message{
		Sid: m.Sid, ConversationSid: m.ConversationSid, Index: m.Index, Author: m.Author,
		ParticipantSid: m.ParticipantSid, LastUpdatedBy: m.LastUpdatedBy,
		DateCreated: m.DateCreated, DateUpdated: m.DateUpdated,
	}
}

// TypingSignal says a participant is typing in a conversation.
type TypingSignal struct {
	ConversationSid string `json:"conversationSid"`
	ParticipantSid  string `json:"participantSid"`
	Identity        string `json:"identity"`
}

// UserUpdatedSignal carries a user's new public record.
type UserUpdatedSignal struct {
	User          User     `json:"user"`
	UpdateReasons []string `json:"updateReasons"`
}
