package bus

import (
	"encoding/binary"
	"time"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/wire"
)

// Bodies of the message kinds (codec.go describes the layout).

// deliveryBatches encodes ds into as few bodies of at most max bytes as fit. A delivery
// that cannot fit a message alone travels as a hint, its offset without event or payload:
// the receiving connection sees the gap and reads the event from the store.
func deliveryBatches(ds []store.Delivery, max int) [][]byte {
	var out [][]byte
	size := 0
	for _, d := range ds {
		size += len(d.Identity) + len(d.Event) + len(d.Payload) + 3*binary.MaxVarintLen64
	}
	e := encoder{b: make([]byte, 0, min(size, max))}
	for _, d := range ds {
		mark := len(e.b)
		appendDelivery(&e, d, false)
		if len(e.b)-mark > max {
			e.b = e.b[:mark]
			appendDelivery(&e, d, true)
		}
		if len(e.b) > max && mark > 0 {
			// Cut before this delivery and start the next body with it.
			item := append([]byte(nil), e.b[mark:]...)
			out = append(out, e.b[:mark:mark])
			e = encoder{b: item}
		}
	}
	if len(e.b) > 0 {
		out = append(out, e.b)
	}
	return out
}

func appendDelivery(e *encoder, d store.Delivery, hint bool) {
	e.str(d.Identity)
	e.uint(d.Offset)
	if hint {
		e.str("")
		e.bytes(nil)
		e.int(0)
		return
	}
	e.str(d.Event)
	e.bytes(d.Payload)
	var at int64
	if !d.At.IsZero() {
		at = d.At.UnixNano()
	}
	e.int(at)
}

// decodeDeliveries reads a kindDeliver body; a hint has a nil Payload.
func decodeDeliveries(d *decoder) []store.Delivery {
	var ds []store.Delivery
	for d.more() {
		x := store.Delivery{Identity: d.str(), Offset: d.uint(), Event: d.str(), Payload: d.bytes()}
		if len(x.Payload) == 0 {
			x.Payload = nil
		}
		if at := d.int(); at != 0 {
			x.At = time.Unix(0, at)
		}
		ds = append(ds, x)
	}
	return ds
}

func encodeSignal(identities []string, f *wire.Frame) []byte {
	var e encoder
	e.str(f.Event)
	e.bytes(f.Data)
	for _, id := range identities {
		e.str(id)
	}
	return e.b
}

func decodeSignal(d *decoder) ([]string, *wire.Frame) {
	f := &wire.Frame{Type: wire.TypeSignal, Event: d.str(), Data: d.bytes()}
	var ids []string
	for d.more() {
		ids = append(ids, d.str())
	}
	return ids, f
}

func encodeUserSignal(identity string, f *wire.Frame) []byte {
	var e encoder
	e.str(identity)
	e.str(f.Event)
	e.bytes(f.Data)
	return e.b
}

func decodeUserSignal(d *decoder) (string, *wire.Frame) {
	id := d.str()
	return id, &wire.Frame{Type: wire.TypeSignal, Event: d.str(), Data: d.bytes()}
}

func encodeString(s string) []byte {
	var e encoder
	e.str(s)
	return e.b
}

// stateChunks encodes a node's identities into bodies of at most about max bytes; the
// first is flagged stateFirst and the last stateLast (one body may be both).
func stateChunks(ids []string, max int) [][]byte {
	var out [][]byte
	e := encoder{b: []byte{stateFirst}}
	for _, id := range ids {
		if len(e.b) > 1 && len(e.b)+len(id)+10 > max {
			out = append(out, e.b)
			e = encoder{b: []byte{0}}
		}
		e.str(id)
	}
	e.b[0] |= stateLast
	return append(out, e.b)
}

func decodeState(d *decoder) (flags byte, ids []string) {
	flags = d.byte()
	for d.more() {
		ids = append(ids, d.str())
	}
	return flags, ids
}
