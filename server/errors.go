// The errors ops and admin routes answer with.

package server

import (
	"errors"
	"fmt"

	"github.com/convo-sdk/convo/server/mediastore"
	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/wire"
)

func notParticipant(identity, sid string) error {
	return wire.Errorf(wire.CodeForbidden, "%q is not a participant of conversation %q", identity, sid)
}

func closedErr(sid string) error {
	return wire.Errorf(wire.CodeForbidden, "conversation %q is closed and takes no new messages", sid)
}

func badCursor(after string) error {
	return wire.Errorf(wire.CodeBadRequest, "after %q is not a cursor this server returned", after)
}

// thing names one stored entity in errors: `conversation "CH…"`, `message "IM…" of
// conversation "CH…"`. Each entity has one constructor below, and its not-found error is
// thing.notFound.
type thing string

func conversationThing(ref string) thing { return thing(fmt.Sprintf("conversation %q", ref)) }
func participantThing(conv, ref string) thing {
	return thing(fmt.Sprintf("participant %q of conversation %q", ref, conv))
}
func messageThing(conv, sid string) thing {
	return thing(fmt.Sprintf("message %q of conversation %q", sid, conv))
}
func userThing(identity string) thing       { return thing(fmt.Sprintf("user %q", identity)) }
func mediaThing(sid string) thing           { return thing(fmt.Sprintf("media %q", sid)) }
func contentTemplateThing(sid string) thing { return thing(fmt.Sprintf("content template %q", sid)) }

func (t thing) notFound() *wire.Error { return wire.Errorf(wire.CodeNotFound, "%s not found", t) }

// The not-found error of each entity: ref is a sid or, where an op or route accepts one, a
// unique name (conversations) or an identity (participants).
func errConversationNotFound(ref string) *wire.Error { return conversationThing(ref).notFound() }
func errParticipantNotFound(conv, ref string) *wire.Error {
	return participantThing(conv, ref).notFound()
}
func errMessageNotFound(conv, sid string) *wire.Error   { return messageThing(conv, sid).notFound() }
func errUserNotFound(identity string) *wire.Error       { return userThing(identity).notFound() }
func errMediaNotFound(sid string) *wire.Error           { return mediaThing(sid).notFound() }
func errContentTemplateNotFound(sid string) *wire.Error { return contentTemplateThing(sid).notFound() }

// storeErr maps the store's sentinel errors to wire errors about what: ErrNotFound to
// what's not-found error, the others to a message naming it.
func storeErr(err error, what thing) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound):
		return what.notFound()
	case errors.Is(err, store.ErrConflict):
		return wire.Errorf(wire.CodeConflict, "%s: conflict", what)
	case errors.Is(err, store.ErrTooManyParticipants):
		return wire.Errorf(wire.CodeTooManyMembers, "%s: the participant limit is reached", what)
	case errors.Is(err, store.ErrClosed):
		return wire.Errorf(wire.CodeForbidden, "%s: the conversation is closed", what)
	case errors.Is(err, store.ErrMediaUnusable):
		return wire.Errorf(wire.CodeBadRequest, "%s: a media sid does not exist, was uploaded by someone else than the author, or is attached already", what)
	case errors.Is(err, store.ErrBadCursor):
		return wire.Errorf(wire.CodeBadRequest, "%s: invalid paging cursor", what)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// storeOutage is the wire error for a store failure that is nobody's fault and passes: the
// database's disk full (CodeStorageFull) or the database out of reach (CodeUnavailable).
// It is nil for any other error. Every op, admin route and upload answers these through it,
// so a client can tell "retry later" from a bug.
func storeOutage(err error) *wire.Error {
	switch {
	case errors.Is(err, store.ErrFull), errors.Is(err, mediastore.ErrFull):
		return errStorageFull()
	case errors.Is(err, store.ErrUnavailable):
		return wire.Errorf(wire.CodeUnavailable, "the database is unreachable; retry shortly")
	}
	return nil
}

func errStorageFull() *wire.Error {
	return wire.Errorf(wire.CodeStorageFull, "storage full, retry later: the server's disk is full, so nothing was written (reads still work)")
}
