package core

import (
	"encoding/base64"
	"testing"

	"github.com/convo-sdk/convo/wire"
)

// FuzzParseTokenClaims: reading a token's claims without verifying them never panics.
func FuzzParseTokenClaims(f *testing.F) {
	b64 := base64.RawURLEncoding.EncodeToString
	for _, s := range []string{
		"", "a.b.c", "x",
		"e30." + b64([]byte(`{"identity":"alice","url":"ws://127.0.0.1/v1/ws","exp":1767225600,"iat":1767222000}`)) + ".sig",
		"e30." + b64([]byte(`{"exp":1e308,"iat":-1e308}`)) + ".s",
		"e30." + b64([]byte(`{"exp":"soon"}`)) + ".s",
		"e30.!!!.s",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := ParseTokenClaims(tok)
		if err != nil {
			if we, isWire := err.(*wire.Error); !isWire || we.Code != CodeClientArgument {
				t.Fatalf("ParseTokenClaims(%q) failed with %v, want a CodeClientArgument *wire.Error", tok, err)
			}
			return
		}
		_ = c.ExpiresAt.UnixMilli()
	})
}
