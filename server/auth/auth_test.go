package auth

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/wire"
)

var (
	k1 = Key{ID: "k1", Secret: "secret-number-one-0123456789"}
	k2 = Key{ID: "k2", Secret: "secret-number-two-0123456789"}
)

func ring(t *testing.T) *Keyring {
	kr, err := NewKeyring(k1)
	require.NoError(t, err)
	return kr
}

// sign signs arbitrary claims so tests can build every kind of defective token.
func sign(t *testing.T, m jwt.SigningMethod, key Key, claims jwt.MapClaims) string {
	tok := jwt.NewWithClaims(m, claims)
	tok.Header["kid"] = key.ID
	s, err := tok.SignedString([]byte(key.Secret))
	require.NoError(t, err)
	return s
}

// signHeader signs valid claims with k1 under a header with extra parameters.
func signHeader(t *testing.T, extra map[string]any) string {
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, validClaims())
	tok.Header["kid"] = k1.ID
	for k, v := range extra {
		tok.Header[k] = v
	}
	s, err := tok.SignedString([]byte(k1.Secret))
	require.NoError(t, err)
	return s
}

func validClaims() jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{"identity": "alice", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "jti": "x"}
}

func TestMintVerifyRoundTrip(t *testing.T) {
	before := time.Now()
	tok, err := Mint(k1, "alice", time.Hour, "ws://127.0.0.1:1/v1/ws")
	after := time.Now()
	require.NoError(t, err)
	c, err := ring(t).Verify(tok)
	require.NoError(t, err)
	assert.Equal(t, "alice", c.Identity)
	assert.Equal(t, "ws://127.0.0.1:1/v1/ws", c.URL)
	assert.NotEmpty(t, c.ID)
	// Minted between before and after, for an hour; JWT times are whole seconds.
	assert.WithinRange(t, c.ExpiresAt.Time, before.Add(time.Hour-time.Second), after.Add(time.Hour))
}

func TestRotation(t *testing.T) {
	kr, err := ParseKeyring("k2:" + k2.Secret + ", k1:" + k1.Secret)
	require.NoError(t, err)
	assert.Equal(t, "k2", kr.Primary().ID)
	for _, k := range []Key{k1, k2} {
		tok, err := Mint(k, "bob", time.Minute, "")
		require.NoError(t, err)
		_, err = kr.Verify(tok)
		require.NoError(t, err, k.ID)
	}
}

func TestParseKeyringErrors(t *testing.T) {
	for _, s := range []string{"", "nocolon", "k1:short", "k1:" + k1.Secret + ",k1:" + k1.Secret} {
		_, err := ParseKeyring(s)
		require.Error(t, err, s)
		assert.NotContains(t, err.Error(), k1.Secret)
	}
}

func TestVerifyDefects(t *testing.T) {
	now := time.Now()
	with := func(mut func(jwt.MapClaims)) jwt.MapClaims {
		c := validClaims()
		mut(c)
		return c
	}
	noneTok := func() string {
		h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT","kid":"k1"}`))
		c := base64.RawURLEncoding.EncodeToString([]byte(`{"identity":"alice","exp":9999999999,"iat":1}`))
		return h + "." + c + "."
	}
	rsTok := func() string {
		h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT","kid":"k1"}`))
		c := base64.RawURLEncoding.EncodeToString([]byte(`{"identity":"alice","exp":9999999999,"iat":1}`))
		return h + "." + c + ".c2lnbmF0dXJl"
	}
	cases := []struct {
		name  string
		token string
		code  wire.Code
		msg   string
	}{
		{"expired", sign(t, jwt.SigningMethodHS256, k1, with(func(c jwt.MapClaims) { c["exp"] = now.Add(-time.Minute).Unix() })), wire.CodeTokenExpired, "expired"},
		{"nbf future", sign(t, jwt.SigningMethodHS256, k1, with(func(c jwt.MapClaims) { c["nbf"] = now.Add(time.Hour).Unix() })), wire.CodeTokenNotYet, "not valid yet"},
		{"iat future", sign(t, jwt.SigningMethodHS256, k1, with(func(c jwt.MapClaims) { c["iat"] = now.Add(time.Hour).Unix() })), wire.CodeTokenNotYet, "future"},
		{"wrong secret", sign(t, jwt.SigningMethodHS256, Key{ID: "k1", Secret: k2.Secret}, validClaims()), wire.CodeTokenInvalid, "signature"},
		{"unknown kid", sign(t, jwt.SigningMethodHS256, k2, validClaims()), wire.CodeTokenInvalid, `unknown key id "k2"`},
		{"no kid", func() string {
			tok := jwt.NewWithClaims(jwt.SigningMethodHS256, validClaims())
			s, _ := tok.SignedString([]byte(k1.Secret))
			return s
		}(), wire.CodeTokenInvalid, "no kid"},
		{"alg none", noneTok(), wire.CodeTokenInvalid, `"none" is not accepted`},
		{"RS256", rsTok(), wire.CodeTokenInvalid, `"RS256" is not accepted`},
		{"HS512", sign(t, jwt.SigningMethodHS512, k1, validClaims()), wire.CodeTokenInvalid, `"HS512" is not accepted`},
		{"missing identity", sign(t, jwt.SigningMethodHS256, k1, with(func(c jwt.MapClaims) { delete(c, "identity") })), wire.CodeTokenIdentity, "identity"},
		{"empty identity", sign(t, jwt.SigningMethodHS256, k1, with(func(c jwt.MapClaims) { c["identity"] = "" })), wire.CodeTokenIdentity, "empty"},
		{"long identity", sign(t, jwt.SigningMethodHS256, k1, with(func(c jwt.MapClaims) { c["identity"] = strings.Repeat("é", 257) })), wire.CodeTokenIdentity, "257 characters"},
		{"identity a number", sign(t, jwt.SigningMethodHS256, k1, with(func(c jwt.MapClaims) { c["identity"] = 42 })), wire.CodeTokenIdentity, "must be a string, got a number"},
		{"identity an array", sign(t, jwt.SigningMethodHS256, k1, with(func(c jwt.MapClaims) { c["identity"] = []string{"alice"} })), wire.CodeTokenIdentity, "must be a string, got an array"},
		{"identity an object", sign(t, jwt.SigningMethodHS256, k1, with(func(c jwt.MapClaims) { c["identity"] = map[string]any{} })), wire.CodeTokenIdentity, "must be a string, got an object"},
		{"identity null", sign(t, jwt.SigningMethodHS256, k1, with(func(c jwt.MapClaims) { c["identity"] = nil })), wire.CodeTokenIdentity, "no identity"},
		{"exp a string", sign(t, jwt.SigningMethodHS256, k1, with(func(c jwt.MapClaims) { c["exp"] = "tomorrow" })), wire.CodeTokenInvalid, "exp"},
		{"url a number", sign(t, jwt.SigningMethodHS256, k1, with(func(c jwt.MapClaims) { c["url"] = 7 })), wire.CodeTokenInvalid, `claim "url" has the wrong type`},
		{"crit extension", signHeader(t, map[string]any{"crit": []string{"exp"}}), wire.CodeTokenInvalid, `crit ["exp"]`},
		{"crit unknown extension", signHeader(t, map[string]any{"crit": []string{"x-convo"}, "x-convo": true}), wire.CodeTokenInvalid, "critical extensions"},
		{"crit empty", signHeader(t, map[string]any{"crit": []string{}}), wire.CodeTokenInvalid, "critical extensions"},
		{"no exp", sign(t, jwt.SigningMethodHS256, k1, with(func(c jwt.MapClaims) { delete(c, "exp") })), wire.CodeTokenInvalid, "exp"},
		{"garbage", "not a token", wire.CodeTokenInvalid, "malformed"},
		{"garbage dots", "a.b.c", wire.CodeTokenInvalid, "malformed"},
		{"empty", "", wire.CodeTokenInvalid, "empty"},
	}
	kr := ring(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := kr.Verify(tc.token)
			require.Error(t, err)
			var we *wire.Error
			require.ErrorAs(t, err, &we)
			assert.Equal(t, tc.code, we.Code, we.Message)
			assert.Contains(t, we.Message, tc.msg)
			assert.NotContains(t, we.Message, k1.Secret)
			if len(tc.token) > 20 {
				assert.NotContains(t, we.Message, tc.token)
			}
		})
	}
}

// Header parameter names are case-sensitive (RFC 7515 §4): "Crit" is an unknown, ignored
// parameter, not a critical extension list.
func TestVerifyCritIsCaseSensitive(t *testing.T) {
	_, err := ring(t).Verify(signHeader(t, map[string]any{"Crit": []string{"x"}}))
	require.NoError(t, err)
}

// Leeway is applied the same way to every time claim, and Deadline is where acceptance
// ends: a token is good until exp + Leeway, nbf and iat may lie up to Leeway ahead.
func TestVerifyLeeway(t *testing.T) {
	kr := ring(t)
	exp := time.Unix(2_000_000_000, 0)
	tok := sign(t, jwt.SigningMethodHS256, k1, jwt.MapClaims{"identity": "alice", "iat": exp.Add(-time.Hour).Unix(), "exp": exp.Unix()})
	c, err := kr.verifyAt(tok, exp.Add(Leeway-time.Millisecond))
	require.NoError(t, err, "within the leeway after exp")
	assert.Equal(t, exp.Add(Leeway), c.Deadline())
	_, err = kr.verifyAt(tok, exp.Add(Leeway))
	assert.Equal(t, wire.CodeTokenExpired, wire.CodeOf(err), "at the deadline")

	nbf := sign(t, jwt.SigningMethodHS256, k1, jwt.MapClaims{"identity": "alice", "nbf": exp.Unix(), "exp": exp.Add(time.Hour).Unix()})
	_, err = kr.verifyAt(nbf, exp.Add(-Leeway))
	require.NoError(t, err, "nbf at most Leeway ahead")
	_, err = kr.verifyAt(nbf, exp.Add(-Leeway-time.Millisecond))
	assert.Equal(t, wire.CodeTokenNotYet, wire.CodeOf(err))

	iat := sign(t, jwt.SigningMethodHS256, k1, jwt.MapClaims{"identity": "alice", "iat": exp.Unix(), "exp": exp.Add(time.Hour).Unix()})
	_, err = kr.verifyAt(iat, exp.Add(-Leeway))
	require.NoError(t, err, "iat at most Leeway ahead")
	_, err = kr.verifyAt(iat, exp.Add(-Leeway-time.Millisecond))
	assert.Equal(t, wire.CodeTokenNotYet, wire.CodeOf(err))
}

func TestMintRejectsBadInput(t *testing.T) {
	_, err := Mint(k1, "", time.Hour, "")
	require.Error(t, err)
	_, err = Mint(Key{ID: "k", Secret: "short"}, "alice", time.Hour, "")
	require.Error(t, err)
	_, err = Mint(k1, "alice", 0, "")
	require.Error(t, err)
}
