package auth

import (
	"crypto/sha256"
	"crypto/subtle"
)

// CheckSecret reports whether secret is the secret of the key named id. The comparison takes
// the same time whatever the secret, its length, and whether the key id exists, so it
// reveals nothing about the secrets (the admin API's HTTP Basic authentication uses it).
func (kr *Keyring) CheckSecret(id, secret string) bool {
	k, ok := kr.byID[id]
	want := sha256.Sum256([]byte(k.Secret))
	got := sha256.Sum256([]byte(secret))
	match := subtle.ConstantTimeCompare(want[:], got[:]) == 1
	return ok && k.Secret != "" && match
}
