package bus

import (
	"encoding/binary"
	"errors"
)

// Bus messages are a small binary format rather than JSON: a delivery's payload is
// already JSON, and embedding it in JSON would escape it and parse it twice per node.
//
//	message := version kind node:str seq:uvarint body
//	str     := len:uvarint bytes
//
// Lists run to the end of the body, so a sender can cut a batch anywhere without
// rewriting a count.
const codecVersion = 1

// Message kinds.
const (
	kindDeliver   byte = 'd' // body: delivery*
	kindSignal    byte = 's' // body: event:str data:str identity:str*
	kindUser      byte = 'u' // body: identity:str event:str data:str
	kindUp        byte = '+' // body: identity:str
	kindDown      byte = '-' // body: identity:str
	kindHeartbeat byte = 'h' // body: empty
	kindSync      byte = '?' // body: target node:str ("" = every node)
	kindState     byte = '=' // body: flags identity:str*
	kindBye       byte = 'x' // body: empty
)

// Flags of a kindState chunk: a node's identities may span several messages.
const (
	stateFirst byte = 1
	stateLast  byte = 2
)

var errCorrupt = errors.New("bus: corrupt message")

type encoder struct{ b []byte }

func (e *encoder) byte(c byte)    { e.b = append(e.b, c) }
func (e *encoder) uint(v uint64)  { e.b = binary.AppendUvarint(e.b, v) }
func (e *encoder) int(v int64)    { e.b = binary.AppendVarint(e.b, v) }
func (e *encoder) str(s string)   { e.uint(uint64(len(s))); e.b = append(e.b, s...) }
func (e *encoder) bytes(p []byte) { e.uint(uint64(len(p))); e.b = append(e.b, p...) }
func (e *encoder) header(kind byte, node string, seq uint64) {
	e.byte(codecVersion)
	e.byte(kind)
	e.str(node)
	e.uint(seq)
}

// decoder reads a message; the first error sticks and later reads return zero values.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail() { d.err, d.b = errCorrupt, nil }

func (d *decoder) more() bool { return d.err == nil && len(d.b) > 0 }

func (d *decoder) byte() byte {
	if len(d.b) == 0 {
		d.fail()
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) uint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) int() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

// bytes returns a slice of the message, not a copy: NATS hands each message its own buffer.
func (d *decoder) bytes() []byte {
	n := d.uint()
	if d.err != nil || n > uint64(len(d.b)) {
		d.fail()
		return nil
	}
	p := d.b[:n:n]
	d.b = d.b[n:]
	return p
}

func (d *decoder) str() string { return string(d.bytes()) }

// header is what every message starts with.
type header struct {
	kind byte
	node string
	seq  uint64
}

func (d *decoder) header() header {
	if d.byte() != codecVersion {
		d.fail()
	}
	return header{kind: d.byte(), node: d.str(), seq: d.uint()}
}
