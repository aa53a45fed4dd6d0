package wire

// A sid is two uppercase letters naming the kind (CH conversation, MB participant, IM
// message, ...) and 32 lowercase hex digits. Lookups that accept a sid or a name (a unique
// name, an identity) decide by this shape, and a name of this shape is refused, so a name
// can never stand for another object's sid.

// SidChars is the length of every sid.
const SidChars = 34

// LooksLikeSid reports whether s has a sid's shape: two ASCII letters and 32 hex digits,
// in either case. It is wider than the sids the server makes (uppercase prefix, lowercase
// hex) so that a name differing from a sid only in case is refused too.
func LooksLikeSid(s string) bool {
	if len(s) != SidChars || !isASCIILetter(s[0]) || !isASCIILetter(s[1]) {
		return false
	}
	for i := 2; i < len(s); i++ {
		if !isHexDigit(s[i]) {
			return false
		}
	}
	return true
}

func isASCIILetter(b byte) bool { return 'A' <= b && b <= 'Z' || 'a' <= b && b <= 'z' }

func isHexDigit(b byte) bool {
	return '0' <= b && b <= '9' || 'a' <= b && b <= 'f' || 'A' <= b && b <= 'F'
}
