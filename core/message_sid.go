package core

// messageSid is the sid of a cached Message. Sids that convo's server makes, like the
// vendor's, are "IM" and 32 lowercase hex digits; a Message keeps those as 16 bytes inline,
// where the string would take a 48-byte allocation of its own for each of a client's
// 100,000 cached messages. Any other sid is kept as a string in the message's ext.
type messageSid [16]byte

const messageSidPrefix = "IM"

// packMessageSid returns s packed, and false if s is not of the packable form.
func packMessageSid(s string) (messageSid, bool) {
	var p messageSid
	if len(s) != len(messageSidPrefix)+2*len(p) || s[:len(messageSidPrefix)] != messageSidPrefix {
		return p, false
	}
	for i := range p {
		hi, ok1 := lowerHexDigit(s[len(messageSidPrefix)+2*i])
		lo, ok2 := lowerHexDigit(s[len(messageSidPrefix)+2*i+1])
		if !ok1 || !ok2 {
			return p, false
		}
		p[i] = hi<<4 | lo
	}
	return p, true
}

func lowerHexDigit(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

func (p *messageSid) String() string {
	const digits = "0123456789abcdef"
	b := make([]byte, len(messageSidPrefix), len(messageSidPrefix)+2*len(p))
	copy(b, messageSidPrefix)
	for _, c := range p {
		b = append(b, digits[c>>4], digits[c&15])
	}
	return string(b)
}

// newMessage returns a message of cv with sid.
func newMessage(cv *Conversation, sid string) *Message {
	m := &Message{conv: cv}
	if p, ok := packMessageSid(sid); ok {
		m.sidHex = p
	} else {
		m.oddSid = true
		m.ext.Store(&messageExt{emitter: cv.client.newEmitter(), sid: sid})
	}
	return m
}

// sidKey is a message sid as a comparable value: packed, or as the string for an odd sid. The
// cache's search packs the sid it looks for once, and an evicted message is filed under it
// without building its sid's string.
type sidKey struct {
	packed messageSid
	odd    string
}

func keyOfSid(sid string) sidKey {
	if p, ok := packMessageSid(sid); ok {
		return sidKey{packed: p}
	}
	return sidKey{odd: sid}
}

func (m *Message) sidKey() sidKey {
	if m.oddSid {
		return sidKey{odd: m.ext.Load().sid}
	}
	return sidKey{packed: m.sidHex}
}
