package wire

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// Error is a failure with a stable numeric code. It travels in reply and bye frames, and the
// client surfaces it to applications unchanged (in JS as an Error with a numeric code).
type Error struct {
	Code    Code   `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return fmt.Sprintf("%s (code %d)", e.Message, e.Code) }

// Errorf builds an Error. A string or error argument of more than 2×MaxEchoChars
// characters is cut to MaxEchoChars (Clip): messages often quote the input they refuse, and a
// reply must not echo a 100 KB argument back, nor a log line hold it. (Input clipped already
// passes through whole.)
func Errorf(code Code, format string, args ...any) *Error {
	copied := false
	for i, a := range args {
		var long string
		switch v := a.(type) {
		case string:
			long = v
		case error:
			long = v.Error()
		}
		if len(long) <= 2*MaxEchoChars || utf8.RuneCountInString(long) <= 2*MaxEchoChars {
			continue
		}
		if !copied { // the caller's slice stays as it was
			args, copied = append([]any(nil), args...), true
		}
		args[i] = Clip(long)
	}
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// MaxEchoChars bounds a client-supplied string (an argument, a token's kid, a client name)
// quoted in errors and logs, so a client cannot flood them.
const MaxEchoChars = 128

// Clip shortens s to MaxEchoChars characters, marking a cut with "…".
func Clip(s string) string {
	if len(s) <= MaxEchoChars {
		return s
	}
	n := 0
	for i := range s {
		if n == MaxEchoChars {
			return s[:i] + "…"
		}
		n++
	}
	return s
}

// Code is an error code. Its hundreds are an HTTP status (40101 is a 401, 50300 a 503); its
// last two digits tell cases of one status apart.
type Code int

// Status is the HTTP status the code belongs to (401 for 40101).
func (c Code) Status() int { return int(c) / 100 }

// IsAuth reports a refused token (401xx): retrying with the same token cannot help.
func (c Code) IsAuth() bool { return c.Status() == 401 }

// IsRetryable reports a request that was not applied and may be sent again later: rate
// limited (429xx) or the server unavailable (503xx, a full disk included).
func (c Code) IsRetryable() bool { return c.Status() == 429 || c.Status() == 503 }

// IsCallerError reports a problem with the request itself (4xxxx): sending it again
// unchanged fails again.
func (c Code) IsCallerError() bool { return c.Status() >= 400 && c.Status() < 500 }

// CodeOf returns the code of the first *Error in err's chain, or CodeInternal.
func CodeOf(err error) Code {
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
	CodeBadFrame   Code = 40000 // the frame is not valid JSON or lacks required fields
	CodeBadRequest Code = 40001 // the op's arguments are missing, of the wrong type or out of range
	CodeUnknownOp  Code = 40002 // no such op
	CodeNoHello    Code = 40003 // a frame other than hello came first
	// An identity or unique name outside the identifier profile (docs/PROTOCOL.md,
	// "Identifiers"), or shaped like a sid.
	CodeBadIdentifier Code = 40004

	// Authentication.
	CodeTokenInvalid  Code = 40100 // malformed, badly signed, unknown key id or wrong algorithm
	CodeTokenExpired  Code = 40101 // exp has passed
	CodeTokenNotYet   Code = 40102 // nbf or iat lies in the future
	CodeTokenIdentity Code = 40103 // identity claim missing or invalid

	// Authorization and existence.
	CodeForbidden Code = 40300 // the caller may not do this
	CodeNotFound  Code = 40400 // no such conversation, participant, message, user or media
	CodeConflict  Code = 40900 // unique name taken, already a participant, ...

	// Limits.
	CodeTooLarge        Code = 41300 // a field or the frame exceeds its limit
	CodeTooManyMembers  Code = 41301 // participant limit reached
	CodeMisdirected     Code = 42100 // HTTP: the request's Host is not one this server answers for
	CodeRateLimited     Code = 42900 // too many requests; retry later
	CodeTooManySessions Code = 42901 // too many connections for this identity

	// Server side.
	CodeInternal       Code = 50000 // a bug or an unexpected failure; logged on the server
	CodeNotImplemented Code = 50100 // this server's configuration does not offer the feature (a backup of a PostgreSQL store)
	CodeUnavailable    Code = 50300 // shutting down or overloaded; reconnect later
	// The server's disk is full: the write was not applied; reads still work. Retry it
	// later, with the same idempotency key for a send.
	CodeStorageFull Code = 50301
)
