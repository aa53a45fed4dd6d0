// Package auth mints and verifies convo access tokens: HS256 JWTs signed with an API key
// secret, whose header names the key (kid) so that several keys can be live during rotation.
package auth

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/convo-sdk/convo/wire"
)

// Key is an API key: the ID travels in token headers, the secret never leaves the server and
// the app backend.
type Key struct {
	ID     string `json:"id"`
	Secret string `json:"secret"`
}

// Claims are the claims of a convo access token.
type Claims struct {
	Identity string `json:"identity"`
	// URL is the server's WebSocket URL, so a client needs no connection options.
	URL string `json:"url,omitempty"`
	jwt.RegisteredClaims
}

// minSecretBytes rejects secrets too short to make HS256 meaningful.
const minSecretBytes = 16

// Mint signs a token for identity, valid for ttl from now.
func Mint(key Key, identity string, ttl time.Duration, wsURL string) (string, error) {
	return MintAt(key, identity, time.Now(), ttl, wsURL)
}

// MintAt signs a token issued at now, valid for ttl from then. Tests use it to make
// expired tokens.
func MintAt(key Key, identity string, now time.Time, ttl time.Duration, wsURL string) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	if err := CheckIdentity(identity); err != nil {
		return "", err
	}
	if ttl <= 0 {
		return "", fmt.Errorf("auth: token ttl must be positive, got %v", ttl)
	}
	claims := Claims{
		Identity: identity,
		URL:      wsURL,
		RegisteredClaims: jwt.RegisteredClaims{
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
			ID:        randomID(),
		},
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	tok.Header["kid"] = key.ID
	return tok.SignedString([]byte(key.Secret))
}

func checkKey(key Key) error {
	if key.ID == "" || strings.ContainsAny(key.ID, ":,") {
		return fmt.Errorf("auth: key id %q must be non-empty and contain neither ':' nor ','", key.ID)
	}
	if len(key.Secret) < minSecretBytes {
		return fmt.Errorf("auth: secret of key %q is shorter than %d bytes", key.ID, minSecretBytes)
	}
	return nil
}

// NewKey makes a key with a random secret.
func NewKey(id string) Key {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return Key{ID: id, Secret: hex.EncodeToString(b)}
}

func randomID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Keyring holds the keys a server accepts. The first key is the one new tokens are signed
// with; the others stay valid so tokens minted before a rotation keep working.
type Keyring struct {
	keys []Key
	byID map[string]Key
}

// NewKeyring builds a keyring; key ids must be unique.
func NewKeyring(keys ...Key) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, errors.New("auth: a keyring needs at least one key")
	}
	kr := &Keyring{byID: make(map[string]Key, len(keys))}
	for _, k := range keys {
		if err := checkKey(k); err != nil {
			return nil, err
		}
		if _, dup := kr.byID[k.ID]; dup {
			return nil, fmt.Errorf("auth: key id %q appears twice", k.ID)
		}
		kr.byID[k.ID] = k
		kr.keys = append(kr.keys, k)
	}
	return kr, nil
}

// ParseKeyring reads keys written as "kid1:secret1,kid2:secret2" (the CONVO_API_KEYS format).
func ParseKeyring(s string) (*Keyring, error) {
	var keys []Key
	for i, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		id, secret, ok := strings.Cut(part, ":")
		if !ok {
			// The message must not echo the entry: it may be a secret.
			return nil, fmt.Errorf("auth: key %d is not written as id:secret", i+1)
		}
		keys = append(keys, Key{ID: strings.TrimSpace(id), Secret: strings.TrimSpace(secret)})
	}
	return NewKeyring(keys...)
}

// Primary returns the key new tokens are signed with.
func (kr *Keyring) Primary() Key { return kr.keys[0] }

// Verify checks a token's header, algorithm, key, signature, times and identity. Every
// failure is a *wire.Error whose message tells a developer what is wrong without repeating
// the token.
func (kr *Keyring) Verify(token string) (*Claims, error) {
	return kr.verifyAt(token, time.Now())
}

// tokenClaims is what verifyAt decodes: the identity stays untyped so that a claim of
// another type than string is reported as an identity problem (CodeTokenIdentity), not as
// a malformed token.
type tokenClaims struct {
	Identity any    `json:"identity"`
	URL      string `json:"url,omitempty"`
	jwt.RegisteredClaims
}

func (kr *Keyring) verifyAt(token string, now time.Time) (*Claims, error) {
	if token == "" {
		return nil, wire.Errorf(wire.CodeTokenInvalid, "token is empty")
	}
	alg, kid, herr := peekHeader(token)
	if herr != nil {
		return nil, herr
	}
	if alg != jwt.SigningMethodHS256.Alg() {
		return nil, wire.Errorf(wire.CodeTokenInvalid, "token algorithm %q is not accepted; convo tokens are signed with HS256", wire.Clip(alg))
	}
	var raw tokenClaims
	// Times are checked by checkTimes, the one place Leeway is applied.
	parser := jwt.NewParser(jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}), jwt.WithoutClaimsValidation())
	if _, err := parser.ParseWithClaims(token, &raw, kr.keyFor); err != nil {
		return nil, verifyError(err, kid)
	}
	claims := &Claims{URL: raw.URL, RegisteredClaims: raw.RegisteredClaims}
	if e := checkTimes(claims, now); e != nil {
		return nil, e
	}
	switch id := raw.Identity.(type) {
	case nil:
		return nil, wire.Errorf(wire.CodeTokenIdentity, "token has no identity claim")
	case string:
		claims.Identity = id
	default:
		return nil, wire.Errorf(wire.CodeTokenIdentity, "token identity claim must be a string, got %s", jsonKind(id))
	}
	if e := CheckIdentity(claims.Identity); e != nil {
		return nil, wire.Errorf(wire.CodeTokenIdentity, "token identity claim is invalid: %s", e.Message)
	}
	return claims, nil
}

// jsonKind names the JSON type of a decoded value.
func jsonKind(v any) string {
	switch v.(type) {
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return "another type"
}

// peekHeader reads alg and kid before verification, so a wrong algorithm gets its own
// message instead of the parser's generic signature error. It also refuses any critical
// extension (crit): convo understands none, and RFC 7515 §4.1.11 says a token that names
// one the recipient does not understand must be rejected.
func peekHeader(token string) (alg, kid string, _ *wire.Error) {
	head, _, ok := strings.Cut(token, ".")
	if !ok || strings.Count(token, ".") != 2 {
		return "", "", wire.Errorf(wire.CodeTokenInvalid, "token is malformed: a JWT has three dot-separated parts")
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(head, "="))
	if err != nil {
		return "", "", wire.Errorf(wire.CodeTokenInvalid, "token is malformed: header is not base64url")
	}
	// A map, not a struct: header parameter names are case-sensitive, and struct decoding
	// is not.
	var h map[string]json.RawMessage
	if err := json.Unmarshal(raw, &h); err != nil || h == nil {
		return "", "", wire.Errorf(wire.CodeTokenInvalid, "token is malformed: header is not a JSON object")
	}
	if crit, ok := h["crit"]; ok {
		return "", "", wire.Errorf(wire.CodeTokenInvalid, "token header lists critical extensions (crit %s) that convo does not understand; remove the crit header", wire.Clip(string(crit)))
	}
	_ = json.Unmarshal(h["alg"], &alg) // a non-string alg stays "" and is refused as such
	_ = json.Unmarshal(h["kid"], &kid)
	return alg, kid, nil
}

// keyError carries a key lookup failure through the jwt parser so Verify can report it as is.
type keyError struct{ msg string }

func (e *keyError) Error() string { return e.msg }

func (kr *Keyring) keyFor(t *jwt.Token) (any, error) {
	kid, _ := t.Header["kid"].(string)
	if kid == "" {
		return nil, &keyError{"token header has no kid (key id)"}
	}
	k, ok := kr.byID[kid]
	if !ok {
		return nil, &keyError{fmt.Sprintf("token signed with unknown key id %q", wire.Clip(kid))}
	}
	return []byte(k.Secret), nil
}

// verifyError explains a failure of the jwt parser, which checks structure, algorithm, key
// and signature (times are checkTimes').
func verifyError(err error, kid string) *wire.Error {
	var ke *keyError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &ke):
		return wire.Errorf(wire.CodeTokenInvalid, "%s", ke.msg)
	case errors.As(err, &te) && te.Field != "":
		return wire.Errorf(wire.CodeTokenInvalid, "token claim %q has the wrong type (%s)", wire.Clip(te.Field), te.Value)
	case errors.Is(err, jwt.ErrTokenMalformed):
		// The header decoded in peekHeader, so the claims or the signature did not.
		return wire.Errorf(wire.CodeTokenInvalid, "token is malformed: its claims or signature do not decode (a JWT is base64url header.claims.signature; exp, nbf and iat are numbers of seconds)")
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return wire.Errorf(wire.CodeTokenInvalid, "token signature is invalid (signed with another secret than key %q?)", wire.Clip(kid))
	default:
		return wire.Errorf(wire.CodeTokenInvalid, "token is invalid")
	}
}
