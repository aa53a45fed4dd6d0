package server

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/convo-sdk/convo/wire"
)

// FuzzSanitizeFilename: an upload's filename (the ?filename= of POST /v1/media) comes out
// as one harmless path element: valid UTF-8 without path separators, control or format
// characters (bidi overrides), line or paragraph separators, never "." or "..", and at
// most maxFilenameChars characters.
func FuzzSanitizeFilename(f *testing.F) {
	for _, s := range []string{
		"photo.jpg", "../../etc/passwd", `..\..\windows\system32`, "evil\u202Egpj.exe", "a\x00b\nc",
		"..", ".", " .. ", ".\u200b.", ".\xff.", "dir/", strings.Repeat("é", 300), "\u2028x\u2029", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := sanitizeFilename(in)
		switch {
		case !utf8.ValidString(out):
			t.Fatalf("sanitizeFilename(%q) = %q: invalid UTF-8", in, out)
		case strings.ContainsAny(out, `/\`):
			t.Fatalf("sanitizeFilename(%q) = %q: contains a path separator", in, out)
		case out == "." || out == "..":
			t.Fatalf("sanitizeFilename(%q) = %q: a relative path element", in, out)
		case utf8.RuneCountInString(out) > maxFilenameChars:
			t.Fatalf("sanitizeFilename(%q) has %d characters", in, utf8.RuneCountInString(out))
		}
		for _, r := range out {
			if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == 0x2028 || r == 0x2029 {
				t.Fatalf("sanitizeFilename(%q) = %q: contains %U", in, out, r)
			}
		}
		if again := sanitizeFilename(out); again != out {
			t.Fatalf("sanitizeFilename is not idempotent: %q → %q → %q", in, out, again)
		}
	})
}

// FuzzCheckAttributes: the attribute validator every op and admin route uses accepts only
// valid JSON within the limit, maps absent and null to none, and fails with 40001 or 41300.
func FuzzCheckAttributes(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `null`, ``, `[1,2]`, `"s"`, `{`, `{"a":` + strings.Repeat("[", 5000) + `}`, " null ", "\xff", `{"a":"\ud800"}`} {
		f.Add([]byte(s))
	}
	const limit = 4 << 10
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := checkAttributes("attributes", wire.RawJSON(in), limit)
		if err != nil {
			we, isWire := err.(*wire.Error)
			if !isWire || (we.Code != wire.CodeBadRequest && we.Code != wire.CodeTooLarge) {
				t.Fatalf("checkAttributes(%q) failed with %v", in, err)
			}
			return
		}
		if out == nil {
			if len(in) != 0 && string(in) != "null" {
				t.Fatalf("checkAttributes(%q) dropped attributes", in)
			}
			return
		}
		if !json.Valid(out) || len(out) > limit {
			t.Fatalf("checkAttributes accepted %q", out)
		}
		// What the server stores must decode as JSON (numbers as written: 1e999 is valid
		// JSON, though not a float64).
		dec := json.NewDecoder(bytes.NewReader(out))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("accepted attributes %q do not decode: %v", out, err)
		}
	})
}
