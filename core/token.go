package core

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"github.com/convo-sdk/convo/core/wire"
)

// TokenClaims are the claims the client reads from its access token. The client never
// verifies the signature (it has no secret; the server does), so it decodes the payload
// itself rather than linking a JWT library into the browser build.
type TokenClaims struct {
	Identity  string
	URL       string
	ExpiresAt time.Time // zero when the token has no exp
	IssuedAt  time.Time
}

// ParseTokenClaims decodes a JWT's payload without verifying it.
func ParseTokenClaims(token string) (TokenClaims, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return TokenClaims{}, wire.Errorf(wire.CodeClientArgument, "access token is not a JWT (expected three dot-separated parts, got %d)", len(parts))
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return TokenClaims{}, wire.Errorf(wire.CodeClientArgument, "access token payload is not base64url: %v", err)
	}
	var raw struct {
		Identity string   `json:"identity"`
		URL      string   `json:"url"`
		Exp      *float64 `json:"exp"`
		Iat      *float64 `json:"iat"`
	}
	if err := json.Unmarshal(payload, &raw); err != nil {
		return TokenClaims{}, wire.Errorf(wire.CodeClientArgument, "access token payload is not a JSON object: %v", err)
	}
	c := TokenClaims{Identity: raw.Identity, URL: raw.URL}
	if raw.Exp != nil {
		c.ExpiresAt = unixSeconds(*raw.Exp)
	}
	if raw.Iat != nil {
		c.IssuedAt = unixSeconds(*raw.Iat)
	}
	return c, nil
}

func unixSeconds(f float64) time.Time {
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9))
}
