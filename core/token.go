package core

import (
	"context"
	"strings"
	"time"

	"github.com/convo-sdk/convo/internal/jsonc"
	"github.com/convo-sdk/convo/wire"
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
		return TokenClaims{}, wire.Errorf(CodeClientArgument, "access token is not a JWT (expected three dot-separated parts, got %d)", len(parts))
	}
	payload, ok := decodeBase64URL(strings.TrimRight(parts[1], "="))
	if !ok {
		return TokenClaims{}, wire.Errorf(CodeClientArgument, "access token payload is not base64url")
	}
	var raw tokenPayload
	if err := wire.Unmarshal(payload, &raw); err != nil {
		return TokenClaims{}, wire.Errorf(CodeClientArgument, "access token payload is not a JSON object: %v", err)
	}
	c := TokenClaims{Identity: raw.identity, URL: raw.url}
	if raw.exp != nil {
		c.ExpiresAt = unixSeconds(*raw.exp)
	}
	if raw.iat != nil {
		c.IssuedAt = unixSeconds(*raw.iat)
	}
	return c, nil
}

// tokenPayload is the part of a token's claims the client reads.
type tokenPayload struct {
	identity, url string
	exp, iat      *float64
}

func (t *tokenPayload) DecodeJSON(d *jsonc.Decoder) {
	for n := 0; d.Member(n); n++ {
		switch string(d.Key) {
		case "identity":
			d.Str(&t.identity)
		case "url":
			d.Str(&t.url)
		case "exp":
			d.OptFloat64(&t.exp)
		case "iat":
			d.OptFloat64(&t.iat)
		default:
			d.Skip()
		}
	}
}

func unixSeconds(f float64) time.Time {
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9))
}

// DefaultTokenExpiryLead is how long before expiry tokenAboutToExpire fires.
const DefaultTokenExpiryLead = 3 * time.Minute

// tokenWarningDelays returns how long from now tokenAboutToExpire and tokenExpired are due.
// A token living less than twice the lead is warned at half its lifetime, so the warning
// always comes before expiry.
func tokenWarningDelays(now, issued, expires time.Time, lead time.Duration) (aboutToExpire, expired time.Duration) {
	if issued.IsZero() || issued.After(now) {
		issued = now
	}
	if life := expires.Sub(issued); life < 2*lead {
		lead = life / 2
	}
	return max(expires.Add(-lead).Sub(now), 0), max(expires.Sub(now), 0)
}

// scheduleTokenTimers (re)arms tokenAboutToExpire and tokenExpired for the current token.
func (c *Client) scheduleTokenTimers() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopTokenTimersLocked()
	exp := c.claims.ExpiresAt
	if exp.IsZero() || !exp.After(time.Now()) || c.closing.Load() {
		return
	}
	about, expired := tokenWarningDelays(time.Now(), c.claims.IssuedAt, exp, c.opts.TokenExpiryLead)
	c.tokenTimers = []*time.Timer{
		time.AfterFunc(about, func() {
			c.events.pushUrgent(func() { EventTokenAboutToExpire.emit(c.emitter, time.Until(exp)) })
		}),
		time.AfterFunc(expired, func() {
			c.events.pushUrgent(func() { EventTokenExpired.emit(c.emitter) })
		}),
	}
}

func (c *Client) stopTokenTimers() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopTokenTimersLocked()
}

// stopTokenTimersLocked stops the token's timers. c.mu must be held.
func (c *Client) stopTokenTimersLocked() {
	for _, t := range c.tokenTimers {
		t.Stop()
	}
	c.tokenTimers = nil
}

// UpdateToken replaces the access token. On a live connection the server switches to it
// without reconnecting; a client denied for its old token reconnects with the new one.
func (c *Client) UpdateToken(ctx context.Context, token string) error {
	claims, err := ParseTokenClaims(token)
	if err != nil {
		return err
	}
	c.mu.Lock()
	if claims.Identity != c.claims.Identity {
		c.mu.Unlock()
		return wire.Errorf(wire.CodeTokenIdentity, "the new token is for %q but this client is %q: create a new client to change users", claims.Identity, c.claims.Identity)
	}
	c.token = token
	c.claims.ExpiresAt, c.claims.IssuedAt = claims.ExpiresAt, claims.IssuedAt
	s := c.sess
	state := c.state
	c.mu.Unlock()
	c.scheduleTokenTimers()
	if s == nil || state != StateConnected {
		c.NetworkOnline() // a waiting or denied client reconnects with it now
		return nil
	}
	var res wire.UpdateTokenResult
	return c.call(ctx, wire.OpSessionUpdateToken, &wire.UpdateTokenArgs{Token: token}, &res, resendAfterReconnect)
}

// decodeBase64URL decodes unpadded base64url, as base64.RawURLEncoding does (non-zero
// trailing bits included), without linking encoding/base64 into the SDK.
func decodeBase64URL(s string) ([]byte, bool) {
	if len(s)%4 == 1 {
		return nil, false
	}
	out := make([]byte, 0, len(s)*3/4)
	var acc uint32
	bits := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		var v byte
		switch {
		case 'A' <= c && c <= 'Z':
			v = c - 'A'
		case 'a' <= c && c <= 'z':
			v = c - 'a' + 26
		case '0' <= c && c <= '9':
			v = c - '0' + 52
		case c == '-':
			v = 62
		case c == '_':
			v = 63
		default:
			return nil, false
		}
		acc = acc<<6 | uint32(v)
		bits += 6
		if bits >= 8 {
			bits -= 8
			out = append(out, byte(acc>>bits))
		}
	}
	return out, true
}
