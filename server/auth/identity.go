package auth

import (
	"unicode/utf8"

	"github.com/convo-sdk/convo/server/identifier"
	"github.com/convo-sdk/convo/wire"
)

// CheckIdentity reports whether identity is acceptable as a user identity: at most
// wire.MaxIdentityChars characters and meeting the identifier profile (package identifier).
// Its code is CodeTokenIdentity: a token naming such an identity is refused as a token.
func CheckIdentity(identity string) *wire.Error {
	if n := utf8.RuneCountInString(identity); n > wire.MaxIdentityChars {
		return wire.Errorf(wire.CodeTokenIdentity, "identity has %d characters, the limit is %d", n, wire.MaxIdentityChars)
	}
	if e := identifier.Check("identity", identity); e != nil {
		return &wire.Error{Code: wire.CodeTokenIdentity, Message: e.Message}
	}
	return nil
}
