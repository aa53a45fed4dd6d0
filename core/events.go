package core

import (
	"time"

	"github.com/convo-sdk/convo/wire"
)

// Every event core emits is declared here once, with the type of its payload: an Event[T]
// carries a payload of type T, a Signal none. The name is the event's name on the string-named
// Emitter behind each object, which jsapi exposes to JavaScript as it is. A typed handler (the
// On<Event> methods below, or Listen) registers on that same emitter under that name, so Go and
// JS listeners share one listener order and one recorded replay value. Core emits only through
// the declarations, so it cannot emit a payload of the wrong type.

// Event is an event whose listeners receive a payload of type T.
type Event[T any] struct{ name string }

// Name returns the event's name on the emitter.
func (ev Event[T]) Name() string { return ev.name }

// Listen adds fn for ev on src's emitter, as opts say, and returns a function that removes it.
func (ev Event[T]) Listen(src EventSource, fn func(T), opts AddOptions) (off func()) {
	return src.Emitter().listen(ev.name, func(args ...any) { fn(args[0].(T)) }, opts)
}

// emit records v as ev's latest value on e and calls ev's listeners with it.
func (ev Event[T]) emit(e *Emitter, v T) { e.Emit(ev.name, v) }

// Signal is an event without payload.
type Signal struct{ name string }

// Name returns the event's name on the emitter.
func (s Signal) Name() string { return s.name }

// Listen adds fn for s on src's emitter, as opts say, and returns a function that removes it.
func (s Signal) Listen(src EventSource, fn func(), opts AddOptions) (off func()) {
	return src.Emitter().listen(s.name, func(...any) { fn() }, opts)
}

// emit records that s happened on e and calls s's listeners.
func (s Signal) emit(e *Emitter) { e.Emit(s.name) }

// EventSource is an object with events: Client, Conversation, Message, Participant and User.
type EventSource interface {
	// Emitter returns the object's string-named emitter: the entry point of a binding such as
	// jsapi, which adds and removes listeners by name and re-emits events of its own. Go code
	// uses the typed On<Event> methods or an event's Listen instead.
	Emitter() *Emitter
}

// Client events, emitted on Client's emitter.
var (
	EventConnectionStateChanged = Event[ConnectionState]{"connectionStateChanged"}
	EventConnectionError        = Event[ConnectionError]{"connectionError"}
	EventStateChanged           = Event[string]{"stateChanged"} // "initialized" or "failed" (deprecated by the vendor)
	EventInitialized            = Signal{"initialized"}
	EventInitFailed             = Event[InitFailure]{"initFailed"}
	EventConversationAdded      = Event[*Conversation]{"conversationAdded"}
	EventConversationJoined     = Event[*Conversation]{"conversationJoined"}
	EventParticipantJoined      = Event[*Participant]{"participantJoined"}
	EventMessageAdded           = Event[*Message]{"messageAdded"}
	EventMessageUpdated         = Event[MessageUpdate]{"messageUpdated"}
	EventMessageRemoved         = Event[*Message]{"messageRemoved"}
	EventConversationLeft       = Event[*Conversation]{"conversationLeft"}
	EventConversationRemoved    = Event[*Conversation]{"conversationRemoved"}
	EventConversationUpdated    = Event[ConversationUpdate]{"conversationUpdated"}
	EventParticipantLeft        = Event[*Participant]{"participantLeft"}
	EventParticipantUpdated     = Event[ParticipantUpdate]{"participantUpdated"}
	EventTypingStarted          = Event[*Participant]{"typingStarted"}
	EventTypingEnded            = Event[*Participant]{"typingEnded"}
	EventUserSubscribed         = Event[*User]{"userSubscribed"}
	EventUserUnsubscribed       = Event[*User]{"userUnsubscribed"}
	EventUserUpdated            = Event[UserUpdate]{"userUpdated"}
	EventTokenAboutToExpire     = Event[time.Duration]{"tokenAboutToExpire"} // the time left
	EventTokenExpired           = Signal{"tokenExpired"}
	EventPushNotification       = Event[PushNotification]{"pushNotification"}
)

// Conversation events, emitted on a Conversation's emitter.
var (
	ConversationEventMessageAdded       = Event[*Message]{"messageAdded"}
	ConversationEventParticipantJoined  = Event[*Participant]{"participantJoined"}
	ConversationEventMessageUpdated     = Event[MessageUpdate]{"messageUpdated"}
	ConversationEventMessageRemoved     = Event[*Message]{"messageRemoved"}
	ConversationEventParticipantLeft    = Event[*Participant]{"participantLeft"}
	ConversationEventParticipantUpdated = Event[ParticipantUpdate]{"participantUpdated"}
	ConversationEventTypingStarted      = Event[*Participant]{"typingStarted"}
	ConversationEventTypingEnded        = Event[*Participant]{"typingEnded"}
	ConversationEventUpdated            = Event[ConversationUpdate]{"updated"}
	ConversationEventRemoved            = Event[*Conversation]{"removed"}
)

// MessageEventUpdated is the Message event fired on every change.
var MessageEventUpdated = Event[MessageUpdate]{"updated"}

// Participant events, emitted on a Participant's emitter.
var (
	ParticipantEventTypingStarted = Event[*Participant]{"typingStarted"}
	ParticipantEventTypingEnded   = Event[*Participant]{"typingEnded"}
	ParticipantEventUpdated       = Event[ParticipantUpdate]{"updated"}
)

// User events, emitted on a User's emitter.
var (
	UserEventUpdated      = Event[UserUpdate]{"updated"}
	UserEventSubscribed   = Event[*User]{"userSubscribed"}
	UserEventUnsubscribed = Event[*User]{"userUnsubscribed"}
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

// The typed handlers of Client's events: each calls fn for every emit and returns a function
// that removes it.

// OnConnectionStateChanged calls fn on each change of the connection state.
func (c *Client) OnConnectionStateChanged(fn func(ConnectionState)) (off func()) {
	return EventConnectionStateChanged.Listen(c, fn, AddOptions{})
}

// OnConnectionError calls fn for each connection error, terminal or not.
func (c *Client) OnConnectionError(fn func(ConnectionError)) (off func()) {
	return EventConnectionError.Listen(c, fn, AddOptions{})
}

// OnStateChanged calls fn with "initialized" or "failed" once initialisation ends (deprecated by the vendor).
func (c *Client) OnStateChanged(fn func(string)) (off func()) {
	return EventStateChanged.Listen(c, fn, AddOptions{})
}

// OnInitialized calls fn once the client is initialised.
func (c *Client) OnInitialized(fn func()) (off func()) {
	return EventInitialized.Listen(c, fn, AddOptions{})
}

// OnInitFailed calls fn if initialisation fails.
func (c *Client) OnInitFailed(fn func(InitFailure)) (off func()) {
	return EventInitFailed.Listen(c, fn, AddOptions{})
}

// OnConversationAdded calls fn for each conversation the client starts to know.
func (c *Client) OnConversationAdded(fn func(*Conversation)) (off func()) {
	return EventConversationAdded.Listen(c, fn, AddOptions{})
}

// OnConversationJoined calls fn for each conversation the user joins or is added to.
func (c *Client) OnConversationJoined(fn func(*Conversation)) (off func()) {
	return EventConversationJoined.Listen(c, fn, AddOptions{})
}

// OnConversationLeft calls fn for each conversation the user leaves or is removed from.
func (c *Client) OnConversationLeft(fn func(*Conversation)) (off func()) {
	return EventConversationLeft.Listen(c, fn, AddOptions{})
}

// OnConversationRemoved calls fn for each conversation the client drops.
func (c *Client) OnConversationRemoved(fn func(*Conversation)) (off func()) {
	return EventConversationRemoved.Listen(c, fn, AddOptions{})
}

// OnConversationUpdated calls fn for each change of a conversation.
func (c *Client) OnConversationUpdated(fn func(ConversationUpdate)) (off func()) {
	return EventConversationUpdated.Listen(c, fn, AddOptions{})
}

// OnParticipantJoined calls fn for each participant that joins a conversation.
func (c *Client) OnParticipantJoined(fn func(*Participant)) (off func()) {
	return EventParticipantJoined.Listen(c, fn, AddOptions{})
}

// OnParticipantLeft calls fn for each participant that leaves a conversation.
func (c *Client) OnParticipantLeft(fn func(*Participant)) (off func()) {
	return EventParticipantLeft.Listen(c, fn, AddOptions{})
}

// OnParticipantUpdated calls fn for each change of a participant.
func (c *Client) OnParticipantUpdated(fn func(ParticipantUpdate)) (off func()) {
	return EventParticipantUpdated.Listen(c, fn, AddOptions{})
}

// OnMessageAdded calls fn for each new message in any subscribed conversation.
func (c *Client) OnMessageAdded(fn func(*Message)) (off func()) {
	return EventMessageAdded.Listen(c, fn, AddOptions{})
}

// OnMessageUpdated calls fn for each change of a message.
func (c *Client) OnMessageUpdated(fn func(MessageUpdate)) (off func()) {
	return EventMessageUpdated.Listen(c, fn, AddOptions{})
}

// OnMessageRemoved calls fn for each deleted message.
func (c *Client) OnMessageRemoved(fn func(*Message)) (off func()) {
	return EventMessageRemoved.Listen(c, fn, AddOptions{})
}

// OnTypingStarted calls fn when a participant starts typing.
func (c *Client) OnTypingStarted(fn func(*Participant)) (off func()) {
	return EventTypingStarted.Listen(c, fn, AddOptions{})
}

// OnTypingEnded calls fn when a participant stops typing.
func (c *Client) OnTypingEnded(fn func(*Participant)) (off func()) {
	return EventTypingEnded.Listen(c, fn, AddOptions{})
}

// OnUserSubscribed calls fn when the client starts following a user.
func (c *Client) OnUserSubscribed(fn func(*User)) (off func()) {
	return EventUserSubscribed.Listen(c, fn, AddOptions{})
}

// OnUserUnsubscribed calls fn when the client stops following a user.
func (c *Client) OnUserUnsubscribed(fn func(*User)) (off func()) {
	return EventUserUnsubscribed.Listen(c, fn, AddOptions{})
}

// OnUserUpdated calls fn for each change of a followed user.
func (c *Client) OnUserUpdated(fn func(UserUpdate)) (off func()) {
	return EventUserUpdated.Listen(c, fn, AddOptions{})
}

// OnTokenAboutToExpire calls fn with the time left, shortly before the token expires.
func (c *Client) OnTokenAboutToExpire(fn func(time.Duration)) (off func()) {
	return EventTokenAboutToExpire.Listen(c, fn, AddOptions{})
}

// OnTokenExpired calls fn when the token has expired.
func (c *Client) OnTokenExpired(fn func()) (off func()) {
	return EventTokenExpired.Listen(c, fn, AddOptions{})
}

// OnPushNotification calls fn for each push notification handed to HandlePushNotification.
func (c *Client) OnPushNotification(fn func(PushNotification)) (off func()) {
	return EventPushNotification.Listen(c, fn, AddOptions{})
}

// The typed handlers of Conversation's events: each calls fn for every emit and returns a function
// that removes it.

// OnMessageAdded calls fn for each new message in this conversation.
func (cv *Conversation) OnMessageAdded(fn func(*Message)) (off func()) {
	return ConversationEventMessageAdded.Listen(cv, fn, AddOptions{})
}

// OnMessageUpdated calls fn for each change of one of its messages.
func (cv *Conversation) OnMessageUpdated(fn func(MessageUpdate)) (off func()) {
	return ConversationEventMessageUpdated.Listen(cv, fn, AddOptions{})
}

// OnMessageRemoved calls fn for each of its messages deleted.
func (cv *Conversation) OnMessageRemoved(fn func(*Message)) (off func()) {
	return ConversationEventMessageRemoved.Listen(cv, fn, AddOptions{})
}

// OnParticipantJoined calls fn for each participant that joins this conversation.
func (cv *Conversation) OnParticipantJoined(fn func(*Participant)) (off func()) {
	return ConversationEventParticipantJoined.Listen(cv, fn, AddOptions{})
}

// OnParticipantLeft calls fn for each participant that leaves this conversation.
func (cv *Conversation) OnParticipantLeft(fn func(*Participant)) (off func()) {
	return ConversationEventParticipantLeft.Listen(cv, fn, AddOptions{})
}

// OnParticipantUpdated calls fn for each change of one of its participants.
func (cv *Conversation) OnParticipantUpdated(fn func(ParticipantUpdate)) (off func()) {
	return ConversationEventParticipantUpdated.Listen(cv, fn, AddOptions{})
}

// OnTypingStarted calls fn when one of its participants starts typing.
func (cv *Conversation) OnTypingStarted(fn func(*Participant)) (off func()) {
	return ConversationEventTypingStarted.Listen(cv, fn, AddOptions{})
}

// OnTypingEnded calls fn when one of its participants stops typing.
func (cv *Conversation) OnTypingEnded(fn func(*Participant)) (off func()) {
	return ConversationEventTypingEnded.Listen(cv, fn, AddOptions{})
}

// OnUpdated calls fn for each change of this conversation.
func (cv *Conversation) OnUpdated(fn func(ConversationUpdate)) (off func()) {
	return ConversationEventUpdated.Listen(cv, fn, AddOptions{})
}

// OnRemoved calls fn when the client drops this conversation.
func (cv *Conversation) OnRemoved(fn func(*Conversation)) (off func()) {
	return ConversationEventRemoved.Listen(cv, fn, AddOptions{})
}

// The typed handlers of Message's events: each calls fn for every emit and returns a function
// that removes it.

// OnUpdated calls fn for each change of this message.
func (m *Message) OnUpdated(fn func(MessageUpdate)) (off func()) {
	return MessageEventUpdated.Listen(m, fn, AddOptions{})
}

// The typed handlers of Participant's events: each calls fn for every emit and returns a function
// that removes it.

// OnTypingStarted calls fn when this participant starts typing.
func (p *Participant) OnTypingStarted(fn func(*Participant)) (off func()) {
	return ParticipantEventTypingStarted.Listen(p, fn, AddOptions{})
}

// OnTypingEnded calls fn when this participant stops typing.
func (p *Participant) OnTypingEnded(fn func(*Participant)) (off func()) {
	return ParticipantEventTypingEnded.Listen(p, fn, AddOptions{})
}

// OnUpdated calls fn for each change of this participant.
func (p *Participant) OnUpdated(fn func(ParticipantUpdate)) (off func()) {
	return ParticipantEventUpdated.Listen(p, fn, AddOptions{})
}

// The typed handlers of User's events: each calls fn for every emit and returns a function
// that removes it.

// OnUpdated calls fn for each change of this user.
func (u *User) OnUpdated(fn func(UserUpdate)) (off func()) {
	return UserEventUpdated.Listen(u, fn, AddOptions{})
}

// OnUserSubscribed calls fn when the client starts following this user.
func (u *User) OnUserSubscribed(fn func(*User)) (off func()) {
	return UserEventSubscribed.Listen(u, fn, AddOptions{})
}

// OnUserUnsubscribed calls fn when the client stops following this user.
func (u *User) OnUserUnsubscribed(fn func(*User)) (off func()) {
	return UserEventUnsubscribed.Listen(u, fn, AddOptions{})
}
