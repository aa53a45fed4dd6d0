package auth

import (
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/wire"
)

// Tokens carry identities that meet the identifier profile: Mint will not make another, and
// Verify refuses one signed elsewhere, with 40103 and the profile's reason.
func TestTokenIdentitiesMeetTheIdentifierProfile(t *testing.T) {
	kr := ring(t)
	for _, c := range []struct{ identity, reason string }{
		{"ali\u202Eecb", "U+202E is an invisible format character"},
		{"ali\u200Bce", "U+200B is an invisible format character"},
		{"CH0192f3a4b5c6d7e8f90a1b2c3d4e5f60", "shape of a sid"},
		{"alice ", "ends with a space"},
	} {
		_, err := Mint(k1, c.identity, time.Hour, "")
		require.Error(t, err, "%q", c.identity)
		assert.Contains(t, err.Error(), c.reason)
		now := time.Now()
		tok := sign(t, jwt.SigningMethodHS256, k1, jwt.MapClaims{"identity": c.identity, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()})
		_, err = kr.Verify(tok)
		assert.Equal(t, wire.CodeTokenIdentity, wire.CodeOf(err), "%q", c.identity)
		assert.ErrorContains(t, err, c.reason)
	}
	for _, id := range []string{"alice", "Élodie Durand", "ops@example.com", "山田太郎"} {
		tok, err := Mint(k1, id, time.Hour, "")
		require.NoError(t, err, id)
		claims, err := kr.Verify(tok)
		require.NoError(t, err, id)
		assert.Equal(t, id, claims.Identity)
	}
}
