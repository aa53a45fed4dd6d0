package wire

import (
	"errors"
	"fmt"
)

// Error is a failure with a stable numeric code. It travels in reply and bye frames, and the
// client surfaces it to applications unchanged (in JS as an Error with a numeric code).
type Error struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return fmt.Sprintf("%s (code %d)", e.Message, e.Code) }

// Errorf builds an Error.
func Errorf(code int, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// CodeOf returns the code of the first *Error in err's chain, or CodeInternal.
func CodeOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// Error codes. They are part of the protocol: never renumber one. The hundreds follow HTTP
// status classes so a reader can guess the family; the last two digits tell cases apart.
const (
	// Malformed input.
	CodeBadFrame   = 40000 // the frame is not valid JSON or lacks required fields
	CodeBadRequest = 40001 // the op's arguments are missing, of the wrong type or out of range
	CodeUnknownOp  = 40002 // no such op
	CodeNoHello    = 40003 // a frame other than hello came first

	// Authentication.
	CodeTokenInvalid  = 40100 // malformed, badly signed, unknown key id or wrong algorithm
	CodeTokenExpired  = 40101 // exp has passed
	CodeTokenNotYet   = 40102 // nbf or iat lies in the future
	CodeTokenIdentity = 40103 // identity claim missing or invalid

	// Authorization and existence.
	CodeForbidden = 40300 // the caller may not do this
	CodeNotFound  = 40400 // no such conversation, participant, message, user or media
	CodeConflict  = 40900 // unique name taken, already a participant, ...

	// Limits.
	CodeTooLarge        = 41300 // a field or the frame exceeds its limit
	CodeTooManyMembers  = 41301 // participant limit reached
	CodeRateLimited     = 42900 // too many requests; retry later
	CodeTooManySessions = 42901 // too many connections for this identity

	// Server side.
	CodeInternal    = 50000 // a bug or an unexpected failure; logged on the server
	CodeUnavailable = 50300 // shutting down or overloaded; reconnect later

	// Raised by the client itself, never sent by the server.
	CodeClientShutdown   = 60000 // the client was shut down
	CodeClientTimeout    = 60001 // no reply in time
	CodeClientInitFailed = 60002 // a call after the client failed to initialise
	CodeClientArgument   = 60003 // an argument failed client-side validation
)
