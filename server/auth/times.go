package auth

import (
	"time"

	"github.com/convo-sdk/convo/wire"
)

// Leeway tolerates clock differences between the app backend that mints tokens and the
// server that checks them. It is applied here only: a token is accepted from Leeway before
// its nbf and iat until its Deadline, and a session ends at that Deadline too, so a token
// the hello accepts is never followed at once by an expiry bye.
const Leeway = 5 * time.Second

// Deadline is the moment the token stops being accepted: exp plus Leeway. A connection
// whose token is not renewed is closed then (CodeTokenExpired).
func (c *Claims) Deadline() time.Time {
	return c.ExpiresAt.Add(Leeway)
}

// checkTimes checks exp (required), nbf and iat against now, with Leeway.
func checkTimes(c *Claims, now time.Time) *wire.Error {
	switch {
	case c.ExpiresAt == nil:
		return wire.Errorf(wire.CodeTokenInvalid, "token has no exp claim; convo tokens must expire")
	case !now.Before(c.Deadline()):
		return wire.Errorf(wire.CodeTokenExpired, "token has expired (exp %s, accepted until %v after it)",
			c.ExpiresAt.UTC().Format(time.RFC3339), Leeway)
	case c.NotBefore != nil && now.Add(Leeway).Before(c.NotBefore.Time):
		return wire.Errorf(wire.CodeTokenNotYet, "token is not valid yet (nbf lies in the future)")
	case c.IssuedAt != nil && now.Add(Leeway).Before(c.IssuedAt.Time):
		return wire.Errorf(wire.CodeTokenNotYet, "token is issued in the future (iat); check the clock of the machine that minted it")
	}
	return nil
}
