package wire

import (
	"strings"
	"testing"
)

func TestLooksLikeSid(t *testing.T) {
	hex := "0192f3a4b5c6d7e8f90a1b2c3d4e5f60"
	for s, want := range map[string]bool{
		"CH" + hex:                    true,
		"MB" + hex:                    true,
		"US" + hex:                    true,
		"ch" + hex:                    true, // refused as a name all the same
		"CH" + strings.ToUpper(hex):   true,
		"CH" + hex[:31]:               false,
		"CH" + hex + "0":              false,
		"C1" + hex:                    false,
		"CH" + hex[:31] + "g":         false,
		"CHX" + hex[1:]:               false,
		"support-1":                   false,
		"":                            false,
		"alice@example.com":           false,
		"ÇH" + hex[:30]:               false, // two bytes of Ç, still 34 bytes
		strings.Repeat("a", SidChars): true,  // "aa" then 32 hex digits
		strings.Repeat("z", SidChars): false,
	} {
		if got := LooksLikeSid(s); got != want {
			t.Errorf("LooksLikeSid(%q) = %v, want %v", s, got, want)
		}
	}
}
