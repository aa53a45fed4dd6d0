package wire

import (
	"encoding/json"
	"time"
)

// Operation names (Frame.Op). Each op's argument and result types follow its name.
const (
	OpConversationCreate = "conversation.create" // CreateConversationArgs → Conversation
	OpConversationGet    = "conversation.get"    // GetConversationArgs → Conversation (participants only)
	OpConversationPeek   = "conversation.peek"   // GetConversationArgs → Conversation (any user who knows the sid)
	OpConversationList   = "conversation.list"   // ListArgs → ConversationPage (the caller's conversations)
	OpConversationJoin   = "conversation.join"   // ConversationRef → Participant
	OpParticipantAdd     = "participant.add"     // AddParticipantArgs → Participant
	OpParticipantList    = "participant.list"    // ConversationRef → ParticipantPage
	OpMessageSend        = "message.send"        // SendMessageArgs → Message
	OpMessageList        = "message.list"        // ListMessagesArgs → MessagePage
)

// Event names (Frame.Event). They match the vendor SDK's client event names where one exists.
const (
	EventConversationJoined = "conversationJoined" // ConversationEvent: the stream's user joined or was added
	EventParticipantJoined  = "participantJoined"  // ParticipantEvent
	EventMessageAdded       = "messageAdded"       // MessageEvent
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
	MaxParticipantsPerConv     = 1000
	MaxPageSize                = 100
	DefaultMessagePageSize     = 30
	DefaultConversationPerPage = 50
	MaxIdempotencyKeyChars     = 64
)

// Conversation is the shared view of a conversation.
type Conversation struct {
	Sid          string          `json:"sid"`
	UniqueName   string          `json:"uniqueName,omitempty"`
	FriendlyName string          `json:"friendlyName,omitempty"`
	Attributes   json.RawMessage `json:"attributes,omitempty"`
	CreatedBy    string          `json:"createdBy"`
	DateCreated  time.Time       `json:"dateCreated"`
	DateUpdated  time.Time       `json:"dateUpdated"`
	// LastMessage is absent while the conversation has no message.
	LastMessage *LastMessage `json:"lastMessage,omitempty"`
	// Joined tells whether the requesting user is a participant.
	Joined bool `json:"joined"`
}

// LastMessage summarises a conversation's newest message.
type LastMessage struct {
	Index       int64     `json:"index"`
	DateCreated time.Time `json:"dateCreated"`
}

// Participant is a member of a conversation.
type Participant struct {
	Sid             string          `json:"sid"`
	ConversationSid string          `json:"conversationSid"`
	Identity        string          `json:"identity"`
	Type            string          `json:"type"` // "chat" for SDK users
	Attributes      json.RawMessage `json:"attributes,omitempty"`
	DateCreated     time.Time       `json:"dateCreated"`
	DateUpdated     time.Time       `json:"dateUpdated"`
}

// Message is a message in a conversation. Index grows with every message and never repeats.
type Message struct {
	Sid             string          `json:"sid"`
	ConversationSid string          `json:"conversationSid"`
	Index           int64           `json:"index"`
	Author          string          `json:"author"`
	ParticipantSid  string          `json:"participantSid,omitempty"`
	Body            *string         `json:"body"`
	Attributes      json.RawMessage `json:"attributes,omitempty"`
	DateCreated     time.Time       `json:"dateCreated"`
	DateUpdated     time.Time       `json:"dateUpdated"`
}

// User is a user's public record.
type User struct {
	Identity     string          `json:"identity"`
	FriendlyName string          `json:"friendlyName,omitempty"`
	Attributes   json.RawMessage `json:"attributes,omitempty"`
}

// CreateConversationArgs are the arguments of OpConversationCreate.
type CreateConversationArgs struct {
	FriendlyName string          `json:"friendlyName,omitempty"`
	UniqueName   string          `json:"uniqueName,omitempty"`
	Attributes   json.RawMessage `json:"attributes,omitempty"`
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
	ConversationSid string          `json:"conversationSid"`
	Identity        string          `json:"identity"`
	Attributes      json.RawMessage `json:"attributes,omitempty"`
}

// ParticipantPage lists a conversation's participants.
type ParticipantPage struct {
	Items []Participant `json:"items"`
}

// SendMessageArgs are the arguments of OpMessageSend. IdempotencyKey is chosen by the client;
// a second send with the same key in the same conversation returns the first message instead
// of storing another.
type SendMessageArgs struct {
	ConversationSid string          `json:"conversationSid"`
	Body            *string         `json:"body,omitempty"`
	Attributes      json.RawMessage `json:"attributes,omitempty"`
	IdempotencyKey  string          `json:"idempotencyKey,omitempty"`
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

// ConversationEvent is the payload of conversation-level events.
type ConversationEvent struct {
	Conversation Conversation `json:"conversation"`
}

// ParticipantEvent is the payload of participant events.
type ParticipantEvent struct {
	Participant Participant `json:"participant"`
}

// MessageEvent is the payload of message events.
type MessageEvent struct {
	Message Message `json:"message"`
}
