package identifier

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/wire"
)

func TestCheckAcceptsOrdinaryIdentifiers(t *testing.T) {
	for _, s := range []string{
		"alice",
		"Alice",
		"alice@example.com",
		"first.last+tag@example.co.uk",
		"user_42",
		"+15550001",
		"whatsapp:+15550001",
		"support-1",
		"John Smith",     // single spaces between userparts (RFC 8265 section 3.1)
		"a b c",          //
		"!#$%&'()*+,-./", // printable ASCII
		"élodie",         // NFC, é precomposed
		"Łukasz",
		"Ωμέγα",
		"дмитрий",
		"山田太郎",
		"שלום",  // right-to-left, meets the Bidi Rule
		"محمد",  //
		"l·l",   // the middle dot between two l's (RFC 5892 CONTEXTO)
		"CH123", // starts like a sid, is not one
		"CH" + strings.Repeat("0", 31) + "g",
		strings.Repeat("x", 256),
	} {
		assert.Nil(t, Check("identity", s), "%q", s)
	}
}

func TestCheckRefusesWithAReason(t *testing.T) {
	sid := "CH0192f3a4b5c6d7e8f90a1b2c3d4e5f60"
	for _, c := range []struct{ in, reason string }{
		{"", "it is empty"},
		{"a\xffb", "not valid UTF-8"},
		{sid, "the shape of a sid"},
		{"MB" + sid[2:], "the shape of a sid"},
		{"US" + strings.ToUpper(sid[2:]), "the shape of a sid"},
		{"im" + sid[2:], "the shape of a sid"},
		{"ali\u202Eecb", "U+202E is an invisible format character"}, // right-to-left override
		{"ali\u200Bce", "U+200B is an invisible format character"},  // zero-width space
		{"\uFEFFalice", "U+FEFF is an invisible format character"},  // byte order mark
		{"ali\u2066ce", "U+2066 is an invisible format character"},  // left-to-right isolate
		{"a\u200Db", "U+200D is allowed only in the contexts"},      // zero-width joiner
		{"a\u00B7b", "U+00B7 is allowed only in the contexts"},      // middle dot outside l·l
		{"ali\x00ce", "U+0000 is a control character"},
		{"ali\nce", "U+000A is a control character"},
		{"ali\u0085ce", "U+0085 is a control character"},
		{"ali\u00A0ce", "U+00A0 is a space other than U+0020"},           // no-break space
		{"ali\u3000ce", "U+3000 is a space other than U+0020"},           // ideographic space
		{"ali\u2028ce", "U+2028 is a space other than U+0020"},           // line separator
		{"ali\uE000ce", "U+E000 is a private-use character"},             //
		{"ali\U000E0001ce", "U+E0001 is an invisible format"},            // language tag
		{"ali\u0378ce", "U+0378 is not assigned in Unicode"},             //
		{"ﬁle", "U+FB01 is a compatibility form (write \"fi\" instead)"}, // ligature
		{"ℌello", "U+210C is a compatibility form"},
		{"alice\u2764", "U+2764 is a symbol outside ASCII"},
		{"alice\U0001F600", "U+1F600 is a symbol outside ASCII"},
		{"alice\u2014bob", "U+2014 is punctuation outside ASCII"},
		{"ａｌｉｃｅ", `not in the profile's normal form (NFC, no full-width or half-width forms); "alice" is`},
		{"e\u0301lodie", `not in the profile's normal form (NFC, no full-width or half-width forms); "élodie" is`},
		{" alice", "starts or ends with a space"},
		{"alice ", "starts or ends with a space"},
		{"John  Smith", "two spaces in a row"},
		{" ", "starts or ends with a space"},
		{"abcשלום", "Bidi Rule (RFC 5893)"},
		{"שלום1a", "Bidi Rule (RFC 5893)"},
	} {
		e := Check("uniqueName", c.in)
		require.NotNil(t, e, "%q", c.in)
		assert.Equal(t, wire.CodeBadIdentifier, e.Code, "%q", c.in)
		assert.Contains(t, e.Message, c.reason, "%q", c.in)
		assert.True(t, strings.HasPrefix(e.Message, "uniqueName "), "%q: %s", c.in, e.Message)
		assert.NotContains(t, e.Message, "\u202E", "the message shows the input escaped")
	}
}
