// Package identifier is the profile every identity and conversation unique name must meet,
// wherever it enters the server: a token, an op, an admin route.
//
// The profile is RFC 8265's username syntax with the UsernameCasePreserved profile of PRECIS:
// one or more userparts separated by single spaces (U+0020), each made of letters and digits
// of any script, printable ASCII and combining marks, in NFC, with no
// full-width or half-width forms, and meeting the Bidi Rule of RFC 5893 when it holds
// right-to-left text. That keeps out control and invisible format characters
// (bidirectional overrides such as U+202E, zero-width characters such as U+200B),
// compatibility forms, symbols and punctuation outside ASCII, unassigned and private-use code
// points, and leading, trailing or doubled spaces. Case is kept: "Alice" and "alice" are
// two identities.
//
// On top of it, a name may not have a sid's shape (wire.LooksLikeSid), so that no lookup
// taking a sid or a name can mistake one for the other.
//
// Input is checked, never rewritten: a string that the profile would change (not NFC, a
// full-width letter) is refused with its enforced form in the message, so what a backend
// stored and what a token says stay byte for byte the same.
package identifier

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/secure/bidirule"
	"golang.org/x/text/secure/precis"
	"golang.org/x/text/unicode/norm"

	"github.com/convo-sdk/convo/wire"
)

// profile is applied to each space-separated userpart, as RFC 8265 section 3.1 says.
var profile = precis.UsernameCasePreserved

// Check returns nil when s meets the profile, else a wire error with CodeBadIdentifier that
// names field and says what is wrong. Length limits are the caller's.
func Check(field, s string) *wire.Error {
	if reason := problem(s); reason != "" {
		return wire.Errorf(wire.CodeBadIdentifier, "%s %q is not a valid identifier: %s", field, s, reason)
	}
	return nil
}

// problem explains why s fails the profile, or is "" when it meets it.
func problem(s string) string {
	switch {
	case s == "":
		return "it is empty"
	case !utf8.ValidString(s):
		return "it is not valid UTF-8"
	case wire.LooksLikeSid(s):
		return "it has the shape of a sid (two letters and 32 hex digits), which only sids may have"
	}
	parts := strings.Split(s, " ")
	for _, part := range parts {
		if part == "" {
			return "it starts or ends with a space, or has two spaces in a row"
		}
	}
	for _, part := range parts {
		enforced, err := profile.String(part)
		if err != nil {
			return partProblem(part, err)
		}
		if enforced != part {
			return fmt.Sprintf("it is not in the profile's normal form (NFC, no full-width or half-width forms); %q is", normalized(parts))
		}
	}
	return ""
}

// partProblem explains why the profile refused part with err.
func partProblem(part string, err error) string {
	allowed := profile.Allowed()
	for _, r := range part {
		if !allowed.Contains(r) {
			return fmt.Sprintf("%U %s", r, runeProblem(r))
		}
	}
	if errors.Is(err, bidirule.ErrInvalid) {
		return "it mixes right-to-left and left-to-right text in a way the Bidi Rule (RFC 5893) forbids"
	}
	return "it breaks a rule of the PRECIS IdentifierClass (RFC 8264)"
}

// runeProblem says why r is outside the IdentifierClass, most specific reason first.
func runeProblem(r rune) string {
	switch {
	case contextual(r):
		return "is allowed only in the contexts RFC 5892 defines for it"
	case unicode.Is(unicode.Cc, r):
		return "is a control character"
	case unicode.Is(unicode.Cf, r):
		return "is an invisible format character (such as a bidirectional control or a zero-width space)"
	case unicode.Is(unicode.Co, r):
		return "is a private-use character"
	case unicode.IsSpace(r) || unicode.Is(unicode.Zs, r):
		return "is a space other than U+0020, or a line break"
	case !unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Z, unicode.Cc, unicode.Cf, unicode.Co, unicode.Cs):
		return fmt.Sprintf("is not assigned in Unicode %s", precis.UnicodeVersion)
	case norm.NFKC.String(string(r)) != string(r):
		return fmt.Sprintf("is a compatibility form (write %q instead)", norm.NFKC.String(string(r)))
	case unicode.IsSymbol(r):
		return "is a symbol outside ASCII (letters, digits and printable ASCII are allowed)"
	case unicode.IsPunct(r):
		return "is punctuation outside ASCII (letters, digits and printable ASCII are allowed)"
	}
	return "is outside the PRECIS IdentifierClass (RFC 8264)"
}

// contextual reports the code points RFC 5892 allows only next to certain others (CONTEXTJ
// and CONTEXTO): joiners, the middle dot, the Greek keraia, Hebrew gereshayim, the Katakana
// middle dot, Arabic-Indic digits.
func contextual(r rune) bool {
	switch {
	case r == 0x200C, r == 0x200D, r == 0x00B7, r == 0x0375, r == 0x05F3, r == 0x05F4, r == 0x30FB:
		return true
	case 0x0660 <= r && r <= 0x0669, 0x06F0 <= r && r <= 0x06F9:
		return true
	}
	return false
}

// normalized is the enforced form of parts joined again, for the refusal's hint.
func normalized(parts []string) string {
	out := make([]string, len(parts))
	for i, part := range parts {
		out[i], _ = profile.String(part)
	}
	return strings.Join(out, " ")
}
