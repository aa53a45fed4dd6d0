// Package jsonc reads and writes JSON without reflection, for the wire types' generated
// codecs (wire/json_gen.go) and for the few places in the client that walk JSON by hand.
//
// It exists for the SDK's weight: encoding/json and the reflection it drives are a quarter of
// a megabyte of the compiled wasm. Decoding follows encoding/json's rules where a wire type
// can tell (null leaves a value alone and clears a pointer, slice or map; numbers must fit
// their field; invalid UTF-8 in a string becomes U+FFFD; unknown keys are skipped), with one
// difference: keys match exactly, never case-insensitively. Encoding gives the bytes
// encoding/json gives. wire's fuzz tests hold both to that.
package jsonc

import (
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// maxDepth bounds the nesting of a skipped value, as encoding/json bounds a document.
const maxDepth = 10000

// SyntaxError is a decoding failure: malformed JSON, or a value of the wrong type for its
// field.
type SyntaxError struct {
	Msg    string
	Offset int // byte offset in the input where the problem was found
}

func (e *SyntaxError) Error() string {
	return "json: " + e.Msg + " at offset " + strconv.Itoa(e.Offset)
}

// Decoder reads one JSON value from a byte slice. Its methods are called in the order of the
// document; the first failure sticks, after which every method does nothing and Member and Elem
// return false, so a generated decoder needs no error checks until End.
type Decoder struct {
	b   []byte
	i   int
	err error
	// Key is the current object key, unescaped. It is valid until the next call.
	Key     []byte
	scratch []byte
}

// NewDecoder returns a decoder reading b. The decoder copies what it keeps (strings, raw
// values), so b may be reused once decoding ends.
func NewDecoder(b []byte) *Decoder { return &Decoder{b: b} }

// Err returns the first failure, or nil.
func (d *Decoder) Err() error { return d.err }

// End checks that only whitespace follows the value and returns the first failure.
func (d *Decoder) End() error {
	d.ws()
	if d.err == nil && d.i != len(d.b) {
		d.fail("unexpected data after the value")
	}
	return d.err
}

// Fail records msg as the failure at the current offset, unless one is recorded already.
func (d *Decoder) Fail(msg string) { d.fail(msg) }

func (d *Decoder) fail(msg string) {
	if d.err == nil {
		d.err = &SyntaxError{Msg: msg, Offset: d.i}
	}
}

func (d *Decoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// peek returns the next byte after whitespace, or 0 at the end.
func (d *Decoder) peek() byte {
	d.ws()
	if d.i < len(d.b) {
		return d.b[d.i]
	}
	return 0
}

// Null consumes a null literal if one comes next.
func (d *Decoder) Null() bool {
	if d.err != nil || d.peek() != 'n' {
		return false
	}
	d.literal("null")
	return d.err == nil
}

func (d *Decoder) literal(word string) {
	if len(d.b)-d.i < len(word) || string(d.b[d.i:d.i+len(word)]) != word {
		d.fail("invalid literal")
		return
	}
	d.i += len(word)
}

// Member advances through an object: Member(0) opens it, Member(n) for n > 0 moves past the previous
// member. It returns true with d.Key set when a member follows; its value is read next. A
// null in place of the object reads as an object without members.
func (d *Decoder) Member(n int) bool {
	if d.err != nil {
		return false
	}
	c := d.peek()
	if n == 0 {
		if c == 'n' {
			d.Null()
			return false
		}
		if c != '{' {
			d.fail("expected an object")
			return false
		}
		d.i++
		if d.peek() == '}' {
			d.i++
			return false
		}
	} else {
		switch c {
		case ',':
			d.i++
			d.ws()
		case '}':
			d.i++
			return false
		default:
			d.fail("expected ',' or '}' after an object member")
			return false
		}
	}
	if d.i >= len(d.b) || d.b[d.i] != '"' {
		d.fail("expected a string key")
		return false
	}
	d.Key = d.stringBytes()
	if d.peek() != ':' {
		d.fail("expected ':' after an object key")
		return false
	}
	d.i++
	return d.err == nil
}

// Elem advances through an array as Member does through an object: Elem(0) opens it, and it
// returns true when an element follows. Unlike Key, a null is an error: callers that accept
// null check Null first.
func (d *Decoder) Elem(n int) bool {
	if d.err != nil {
		return false
	}
	c := d.peek()
	if n == 0 {
		if c != '[' {
			d.fail("expected an array")
			return false
		}
		d.i++
		if d.peek() == ']' {
			d.i++
			return false
		}
		return true
	}
	switch c {
	case ',':
		d.i++
		return true
	case ']':
		d.i++
		return false
	}
	d.fail("expected ',' or ']' after an array element")
	return false
}

// stringBytes reads the string literal at d.i and returns its unescaped bytes: a slice of
// the input when it holds no escapes and is valid UTF-8, the decoder's scratch otherwise.
func (d *Decoder) stringBytes() []byte {
	start := d.i + 1
	for j := start; j < len(d.b); j++ {
		c := d.b[j]
		if c == '"' {
			d.i = j + 1
			return d.b[start:j]
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
	}
	return d.unquote()
}

// unquote is the slow path of stringBytes, mirroring encoding/json's unquoting: invalid
// UTF-8 and unpaired surrogates become U+FFFD, control characters are refused.
func (d *Decoder) unquote() []byte {
	out := d.scratch[:0]
	j := d.i + 1
	for {
		if j >= len(d.b) {
			d.i = j
			d.fail("unterminated string")
			return nil
		}
		c := d.b[j]
		switch {
		case c == '"':
			d.i = j + 1
			d.scratch = out
			return out
		case c < 0x20:
			d.i = j
			d.fail("control character in a string")
			return nil
		case c == '\\':
			if j+1 >= len(d.b) {
				d.i = j
				d.fail("unterminated string")
				return nil
			}
			j++
			switch d.b[j] {
			case '"', '\\', '/':
				out = append(out, d.b[j])
				j++
			case 'b':
				out = append(out, '\b')
				j++
			case 'f':
				out = append(out, '\f')
				j++
			case 'n':
				out = append(out, '\n')
				j++
			case 'r':
				out = append(out, '\r')
				j++
			case 't':
				out = append(out, '\t')
				j++
			case 'u':
				r, ok := hex4(d.b, j+1)
				if !ok {
					d.i = j
					d.fail("invalid \\u escape in a string")
					return nil
				}
				j += 5
				if utf16.IsSurrogate(r) {
					r2, ok2 := rune(-1), false
					if j+6 <= len(d.b) && d.b[j] == '\\' && d.b[j+1] == 'u' {
						r2, ok2 = hex4(d.b, j+2)
					}
					if dec := utf16.DecodeRune(r, r2); ok2 && dec != utf8.RuneError {
						j += 6
						r = dec
					} else {
						r = utf8.RuneError
					}
				}
				out = utf8.AppendRune(out, r)
			default:
				d.i = j
				d.fail("invalid escape in a string")
				return nil
			}
		case c < utf8.RuneSelf:
			out = append(out, c)
			j++
		default:
			r, size := utf8.DecodeRune(d.b[j:])
			if r == utf8.RuneError && size == 1 {
				out = utf8.AppendRune(out, utf8.RuneError)
			} else {
				out = append(out, d.b[j:j+size]...)
			}
			j += size
		}
	}
}

func hex4(b []byte, at int) (rune, bool) {
	if at+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[at : at+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r*16 + rune(c)
	}
	return r, true
}

// Str reads a string into p; null leaves p alone.
func (d *Decoder) Str(p *string) {
	if d.Null() || d.err != nil {
		return
	}
	if d.peek() != '"' {
		d.fail("expected a string")
		return
	}
	*p = string(d.stringBytes())
}

// OptStr reads a string into *p, allocating it if nil; null sets *p to nil.
func (d *Decoder) OptStr(p **string) {
	if d.Null() {
		*p = nil
		return
	}
	if d.err != nil {
		return
	}
	if d.peek() != '"' {
		d.fail("expected a string")
		return
	}
	s := string(d.stringBytes())
	if *p == nil {
		*p = new(string)
	}
	**p = s
}

// Bool reads a boolean into p; null leaves p alone.
func (d *Decoder) Bool(p *bool) {
	if d.Null() || d.err != nil {
		return
	}
	switch d.peek() {
	case 't':
		d.literal("true")
		*p = d.err == nil
	case 'f':
		d.literal("false")
		*p = false
	default:
		d.fail("expected a boolean")
	}
}

// number returns the number literal at the current position after checking its grammar.
func (d *Decoder) number() []byte {
	d.ws()
	start, j := d.i, d.i
	b := d.b
	digits := func() bool {
		k := j
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
		return j > k
	}
	if j < len(b) && b[j] == '-' {
		j++
	}
	switch {
	case j < len(b) && b[j] == '0':
		j++
	case j < len(b) && b[j] >= '1' && b[j] <= '9':
		digits()
	default:
		d.fail("expected a number")
		return nil
	}
	if j < len(b) && b[j] == '.' {
		j++
		if !digits() {
			d.i = j
			d.fail("invalid number")
			return nil
		}
	}
	if j < len(b) && (b[j] == 'e' || b[j] == 'E') {
		j++
		if j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		if !digits() {
			d.i = j
			d.fail("invalid number")
			return nil
		}
	}
	d.i = j
	return b[start:j]
}

func (d *Decoder) int64() (int64, bool) {
	if d.err != nil {
		return 0, false
	}
	lit := d.number()
	if d.err != nil {
		return 0, false
	}
	n, err := strconv.ParseInt(string(lit), 10, 64)
	if err != nil {
		d.fail("number " + string(lit) + " is not an integer that fits")
		return 0, false
	}
	return n, true
}

// Int64 reads an integer into p; null leaves p alone.
func (d *Decoder) Int64(p *int64) {
	if d.Null() {
		return
	}
	if n, ok := d.int64(); ok {
		*p = n
	}
}

// Int reads an integer into p; null leaves p alone.
func (d *Decoder) Int(p *int) {
	if d.Null() {
		return
	}
	if n, ok := d.int64(); ok {
		if int64(int(n)) != n {
			d.fail("number does not fit an int")
			return
		}
		*p = int(n)
	}
}

// OptInt64 reads an integer into *p, allocating it if nil; null sets *p to nil.
func (d *Decoder) OptInt64(p **int64) {
	if d.Null() {
		*p = nil
		return
	}
	if n, ok := d.int64(); ok {
		if *p == nil {
			*p = new(int64)
		}
		**p = n
	}
}

// OptInt reads an integer into *p, allocating it if nil; null sets *p to nil.
func (d *Decoder) OptInt(p **int) {
	if d.Null() {
		*p = nil
		return
	}
	var n int
	d.Int(&n)
	if d.err == nil {
		if *p == nil {
			*p = new(int)
		}
		**p = n
	}
}

// Uint64 reads a non-negative integer into p; null leaves p alone.
func (d *Decoder) Uint64(p *uint64) {
	if d.Null() || d.err != nil {
		return
	}
	lit := d.number()
	if d.err != nil {
		return
	}
	n, err := strconv.ParseUint(string(lit), 10, 64)
	if err != nil {
		d.fail("number " + string(lit) + " is not an unsigned integer that fits")
		return
	}
	*p = n
}

// Time reads an RFC 3339 string into p, as time.Time's UnmarshalJSON does (escapes are not
// unescaped; see time.go for the one difference); null leaves p alone.
func (d *Decoder) Time(p *time.Time) {
	if d.Null() || d.err != nil {
		return
	}
	lit := d.rawValue()
	if d.err != nil {
		return
	}
	if lit[0] != '"' {
		d.fail("expected a time string")
		return
	}
	t, ok := parseRFC3339(lit[1 : len(lit)-1])
	if !ok {
		d.fail("invalid RFC 3339 time " + string(lit))
		return
	}
	*p = t
}

// OptTime reads a time into *p, allocating it if nil; null sets *p to nil.
func (d *Decoder) OptTime(p **time.Time) {
	if d.Null() {
		*p = nil
		return
	}
	if d.err != nil {
		return
	}
	if *p == nil {
		*p = new(time.Time)
	}
	d.Time(*p)
}

// Raw copies the next value's bytes into *p, reusing its storage; a null is kept as the
// four bytes "null", as wire.RawJSON keeps it.
func (d *Decoder) Raw(p *[]byte) {
	lit := d.rawValue()
	if d.err == nil {
		*p = append((*p)[:0], lit...)
	}
}

// RawValue returns the next value's bytes, a slice of the input, after checking them.
func (d *Decoder) RawValue() []byte { return d.rawValue() }

// Strings reads an array of strings into p, reusing its storage; null sets it to nil and []
// to an empty, non-nil slice.
func (d *Decoder) Strings(p *[]string) {
	if d.Null() {
		*p = nil
		return
	}
	s := (*p)[:0]
	if s == nil {
		s = []string{}
	}
	for n := 0; d.Elem(n); n++ {
		var v string
		d.Str(&v)
		s = append(s, v)
	}
	if d.err == nil {
		*p = s
	}
}

// StringMap reads an object of strings into *p, creating the map if nil; null sets it to nil.
func (d *Decoder) StringMap(p *map[string]string) {
	if d.Null() {
		*p = nil
		return
	}
	if d.err != nil {
		return
	}
	if d.peek() != '{' {
		d.fail("expected an object")
		return
	}
	if *p == nil {
		*p = map[string]string{}
	}
	for n := 0; d.Member(n); n++ {
		k := string(d.Key)
		var v string
		d.Str(&v)
		(*p)[k] = v
	}
}

// Skip reads past the next value, checking its syntax.
func (d *Decoder) Skip() { d.rawValue() }

// rawValue checks the next value and returns its bytes. Nesting is walked with a counter, not
// recursion.
func (d *Decoder) rawValue() []byte {
	if d.err != nil {
		return nil
	}
	d.ws()
	start := d.i
	depth := 0
	// closers holds what each open level expects: '}' or ']'.
	var closers []byte
	for {
		// One value.
		switch d.peek() {
		case '{', '[':
			c := d.b[d.i]
			d.i++
			depth++
			if depth > maxDepth {
				d.fail("exceeded max depth")
				return nil
			}
			closer := byte(']')
			if c == '{' {
				closer = '}'
			}
			closers = append(closers, closer)
			if d.peek() == closer {
				d.i++
				depth--
				closers = closers[:len(closers)-1]
				break
			}
			if closer == '}' {
				d.member()
				if d.err != nil {
					return nil
				}
			}
			continue
		case '"':
			d.stringBytes()
		case 't':
			d.literal("true")
		case 'f':
			d.literal("false")
		case 'n':
			d.literal("null")
		case 0:
			d.fail("unexpected end of JSON input")
		default:
			d.number()
		}
		if d.err != nil {
			return nil
		}
		// After a value: close levels or move to the next member.
		for {
			if depth == 0 {
				return d.b[start:d.i]
			}
			closer := closers[len(closers)-1]
			c := d.peek()
			if c == closer {
				d.i++
				depth--
				closers = closers[:len(closers)-1]
				continue
			}
			if c != ',' {
				d.fail("expected ',' or '" + string(closer) + "'")
				return nil
			}
			d.i++
			if closer == '}' {
				d.member()
				if d.err != nil {
					return nil
				}
			}
			break
		}
	}
}

// member reads an object key and its colon.
func (d *Decoder) member() {
	if d.peek() != '"' {
		d.fail("expected a string key")
		return
	}
	d.stringBytes()
	if d.err != nil {
		return
	}
	if d.peek() != ':' {
		d.fail("expected ':' after an object key")
		return
	}
	d.i++
}

// OptFloat64 reads a number into *p, allocating it if nil; null sets *p to nil.
func (d *Decoder) OptFloat64(p **float64) {
	if d.Null() {
		*p = nil
		return
	}
	if d.err != nil {
		return
	}
	lit := d.number()
	if d.err != nil {
		return
	}
	f, err := strconv.ParseFloat(string(lit), 64)
	if err != nil {
		d.fail("number " + string(lit) + " does not fit a float64")
		return
	}
	if *p == nil {
		*p = new(float64)
	}
	**p = f
}

// Peek returns the first byte of the next value ('{', '[', '"', 't', 'f', 'n', '-' or a
// digit), or 0 at the end or after a failure.
func (d *Decoder) Peek() byte {
	if d.err != nil {
		return 0
	}
	return d.peek()
}
