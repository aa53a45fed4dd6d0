package core

import "github.com/convo-sdk/convo/wire"

// The events core emits, declared here for every emitter: Client, Conversation, Message,
// Participant and User. Each name carries its payload in a comment; the payload types and the
// typed handlers follow.

// Client event names, emitted on Client's emitter.
const (
	EventConnectionStateChanged = "connectionStateChanged" // ConnectionState
	EventConnectionError        = "connectionError"        // ConnectionError
	EventStateChanged           = "stateChanged"           // "initialized" | "failed" (deprecated by the vendor)
	EventInitialized            = "initialized"            // no argument
	EventInitFailed             = "initFailed"             // InitFailure
	EventConversationAdded      = "conversationAdded"      // *Conversation
	EventConversationJoined     = "conversationJoined"     // *Conversation
	EventParticipantJoined      = "participantJoined"      // *Participant
	EventMessageAdded           = "messageAdded"           // *Message
	EventMessageUpdated         = "messageUpdated"         // MessageUpdate
	EventMessageRemoved         = "messageRemoved"         // *Message
	EventConversationLeft       = "conversationLeft"       // *Conversation
	EventConversationRemoved    = "conversationRemoved"    // *Conversation
	EventConversationUpdated    = "conversationUpdated"    // ConversationUpdate
	EventParticipantLeft        = "participantLeft"        // *Participant
	EventParticipantUpdated     = "participantUpdated"     // ParticipantUpdate
	EventTypingStarted          = "typingStarted"          // *Participant
	EventTypingEnded            = "typingEnded"            // *Participant
	EventUserSubscribed         = "userSubscribed"         // *User
	EventUserUnsubscribed       = "userUnsubscribed"       // *User
	EventUserUpdated            = "userUpdated"            // UserUpdate
	EventTokenAboutToExpire     = "tokenAboutToExpire"     // time.Duration left
	EventTokenExpired           = "tokenExpired"           // no argument
	EventPushNotification       = "pushNotification"       // PushNotification
)

// Conversation event names, emitted on a Conversation's emitter.
const (
	ConversationEventMessageAdded       = "messageAdded"       // *Message
	ConversationEventParticipantJoined  = "participantJoined"  // *Participant
	ConversationEventMessageUpdated     = "messageUpdated"     // MessageUpdate
	ConversationEventMessageRemoved     = "messageRemoved"     // *Message
	ConversationEventParticipantLeft    = "participantLeft"    // *Participant
	ConversationEventParticipantUpdated = "participantUpdated" // ParticipantUpdate
	ConversationEventTypingStarted      = "typingStarted"      // *Participant
	ConversationEventTypingEnded        = "typingEnded"        // *Participant
	ConversationEventUpdated            = "updated"            // ConversationUpdate
	ConversationEventRemoved            = "removed"            // *Conversation
)

// MessageEventUpdated is the Message event fired on every change: MessageUpdate.
const MessageEventUpdated = "updated"

// Participant event names, emitted on a Participant's emitter.
const (
	ParticipantEventTypingStarted = "typingStarted" // *Participant
	ParticipantEventTypingEnded   = "typingEnded"   // *Participant
	ParticipantEventUpdated       = "updated"       // ParticipantUpdate
)

// User event names, emitted on a User's emitter.
const (
	UserEventUpdated      = "updated"          // UserUpdate
	UserEventSubscribed   = "userSubscribed"   // *User
	UserEventUnsubscribed = "userUnsubscribed" // *User
)

// InitFailure is the payload of initFailed.
type InitFailure struct {
	Terminal bool
	Err      error
}

// ConnectionError is the payload of connectionError.
type ConnectionError struct {
	Terminal bool
	Message  string
	Code     wire.Code
}

// Update payloads of the *Updated events: the object and what changed, with the vendor
// SDK's reason names.
type (
	ConversationUpdate struct {
		Conversation  *Conversation
		UpdateReasons []string
	}
	ParticipantUpdate struct {
		Participant   *Participant
		UpdateReasons []string
	}
	MessageUpdate struct {
		Message       *Message
		UpdateReasons []string
	}
	UserUpdate struct {
		User          *User
		UpdateReasons []string
	}
)

// OnConnectionStateChanged calls fn on each change of the connection state.
func (c *Client) OnConnectionStateChanged(fn func(ConnectionState)) (off func()) {
	return c.On(EventConnectionStateChanged, func(args ...any) { fn(args[0].(ConnectionState)) })
}

// OnMessageAdded calls fn for each new message in any subscribed conversation.
func (c *Client) OnMessageAdded(fn func(*Message)) (off func()) {
	return c.On(EventMessageAdded, func(args ...any) { fn(args[0].(*Message)) })
}

// OnConversationJoined calls fn for each conversation the user joins or is added to.
func (c *Client) OnConversationJoined(fn func(*Conversation)) (off func()) {
	return c.On(EventConversationJoined, func(args ...any) { fn(args[0].(*Conversation)) })
}

// OnMessageAdded calls fn for each new message in this conversation.
func (cv *Conversation) OnMessageAdded(fn func(*Message)) (off func()) {
	return cv.On(ConversationEventMessageAdded, func(args ...any) { fn(args[0].(*Message)) })
}

// OnParticipantJoined calls fn for each participant that joins this conversation.
func (cv *Conversation) OnParticipantJoined(fn func(*Participant)) (off func()) {
	return cv.On(ConversationEventParticipantJoined, func(args ...any) { fn(args[0].(*Participant)) })
}
