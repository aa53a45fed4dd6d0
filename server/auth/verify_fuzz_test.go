package auth

import (
	"encoding/base64"
	"errors"
	"testing"
	"time"

	"github.com/convo-sdk/convo/wire"
)

// FuzzVerify feeds arbitrary strings to Keyring.Verify: it never panics and never accepts
// (the fuzzer does not know the keyring's secret), and every failure is a *wire.Error with
// a token code.
func FuzzVerify(f *testing.F) {
	kr, err := NewKeyring(NewKey("k1"))
	if err != nil {
		f.Fatal(err)
	}
	other := NewKey("k1") // same kid, another secret
	valid, _ := Mint(other, "alice", time.Hour, "ws://x")
	unknown, _ := Mint(NewKey("k2"), "alice", time.Hour, "")
	expired, _ := MintAt(other, "alice", time.Now().Add(-2*time.Hour), time.Hour, "")
	b64 := base64.RawURLEncoding.EncodeToString
	for _, s := range []string{
		"", "garbage", "a.b.c", "..", "...",
		valid, unknown, expired, valid + "x", valid[:len(valid)-2],
		b64([]byte(`{"alg":"none","typ":"JWT","kid":"k1"}`)) + "." + b64([]byte(`{"identity":"alice","exp":99999999999}`)) + ".",
		b64([]byte(`{"alg":"HS256","kid":"k1"}`)) + "." + b64([]byte(`{"identity":"alice","exp":99999999999}`)) + ".",
		b64([]byte(`{"alg":"HS512","kid":"k1"}`)) + "." + b64([]byte(`{"identity":"alice"}`)) + ".AAAA",
		b64([]byte(`{"alg":"HS256","kid":["k1"]}`)) + "." + b64([]byte(`{"identity":7,"exp":"x"}`)) + ".AAAA",
		b64([]byte(`[]`)) + ".e30.e30",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		claims, err := kr.Verify(tok)
		if err == nil {
			t.Fatalf("Verify accepted a token the fuzzer forged: %q → %+v", tok, claims)
		}
		var we *wire.Error
		if !errors.As(err, &we) {
			t.Fatalf("Verify(%q) failed with %T %v, want a *wire.Error", tok, err, err)
		}
		if we.Code < wire.CodeTokenInvalid || we.Code > wire.CodeTokenIdentity {
			t.Fatalf("Verify(%q) failed with code %d, want a 401xx code", tok, we.Code)
		}
		if len(we.Message) > 512 {
			t.Fatalf("Verify(%q) error message is %d bytes long; client strings must be clipped", tok, len(we.Message))
		}
	})
}
