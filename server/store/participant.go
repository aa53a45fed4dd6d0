package store

import (
	"context"

	"github.com/convo-sdk/convo/wire"
)

// ParticipantStore keeps the participants of conversations: chat identities and non-chat
// (SMS, WhatsApp, email) addresses.
type ParticipantStore interface {
	// AddParticipant adds a participant and emits conversationJoined to it and
	// participantJoined to every participant, itself included. A chat identity that was
	// removed by someone else (RemoveParticipant with ban) gets ErrRemoved unless
	// NewParticipant.LiftBan is set, in which case the ban ends with this add, in the same
	// transaction.
	AddParticipant(ctx context.Context, p NewParticipant) (wire.Participant, []Delivery, error)
	// Participant returns ErrNotFound when identity is not in the conversation.
	Participant(ctx context.Context, conversationSid, identity string) (wire.Participant, error)
	// ParticipantBySid returns a participant of a conversation; ErrNotFound when absent.
	ParticipantBySid(ctx context.Context, conversationSid, participantSid string) (wire.Participant, error)
	Participants(ctx context.Context, conversationSid string) ([]wire.Participant, error)
	// UpdateParticipant replaces a participant's attributes and emits participantUpdated
	// (attributes, dateUpdated) to every participant when they changed.
	UpdateParticipant(ctx context.Context, conversationSid, participantSid string, attributes wire.RawJSON) (wire.Participant, []Delivery, error)
	// RemoveParticipant removes a participant, emits conversationLeft to it (chat
	// participants) and participantLeft to every participant, itself included. With ban (a
	// removal by someone else), a chat participant's identity may not be added again without
	// NewParticipant.LiftBan (see AddParticipant).
	RemoveParticipant(ctx context.Context, conversationSid, participantSid string, ban bool) (wire.Participant, []Delivery, error)
	// MutedIdentities returns the chat participants of a conversation whose notification
	// level is muted.
	MutedIdentities(ctx context.Context, conversationSid string) ([]string, error)
}

// NewParticipant are the fields of a participant to add.
type NewParticipant struct {
	ConversationSid string
	Identity        string
	Type            string // empty: "chat"
	Attributes      wire.RawJSON
	// Address, ProxyAddress and Bindings describe a non-chat participant (Type sms,
	// whatsapp or email), which has no Identity. ErrConflict when the conversation has a
	// participant with the same address and proxy address.
	Address      string
	ProxyAddress string
	Bindings     wire.RawJSON
	// Max is the participant limit checked in the same transaction; 0 means
	// wire.MaxParticipantsPerConv.
	Max int
	// LiftBan: the add is by someone entitled to bring back a removed identity (the
	// conversation's creator, the admin API); it ends the ban. Without it a banned identity
	// gets ErrRemoved (joining on its own, or added by another participant).
	LiftBan bool
}
