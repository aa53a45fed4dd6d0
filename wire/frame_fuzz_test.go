package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to Decode: it never panics, fails only with a
// CodeBadFrame *Error, and a frame it accepts has the fields its type requires and survives
// an Encode/Decode round trip unchanged.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"type":"hello","data":{"token":"x"}}`,
		`{"type":"req","id":1,"op":"conversation.list","data":{}}`,
		`{"type":"res","id":7,"error":{"code":40300,"message":"no"}}`,
		`{"type":"event","event":"messageAdded","offset":3,"data":{"message":{}}}`,
		`{"type":"signal","event":"typing","data":null}`,
		`{"type":"bye","error":{"code":40101,"message":"expired"}}`,
		`{"type":"req","id":0,"op":"x"}`,
		`{"type":"req","id":-1,"op":"x"}`,
		`{"type":"req","id":18446744073709551616,"op":"x"}`,
		`{"type":"nope"}`,
		`[]`, `null`, ``, `{`, `{"type":"req","id":1,"op":"x","data":` + "\xff" + `}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := Decode(b)
		if err != nil {
			var we *Error
			if !errors.As(err, &we) || we.Code != CodeBadFrame {
				t.Fatalf("Decode(%q) failed with %v, want a CodeBadFrame *Error", b, err)
			}
			if fr != nil {
				t.Fatalf("Decode(%q) returned a frame and an error", b)
			}
			return
		}
		switch fr.Type {
		case TypeRequest:
			if fr.ID == 0 || fr.Op == "" {
				t.Fatalf("accepted a request without id or op: %q", b)
			}
		case TypeReply:
			if fr.ID == 0 {
				t.Fatalf("accepted a reply without id: %q", b)
			}
		case TypeEvent:
			if fr.Event == "" || fr.Offset == 0 {
				t.Fatalf("accepted an event without name or offset: %q", b)
			}
		case TypeSignal:
			if fr.Event == "" {
				t.Fatalf("accepted a signal without name: %q", b)
			}
		case TypeHello, TypeWelcome, TypeBye:
		default:
			t.Fatalf("accepted frame type %q: %q", fr.Type, b)
		}
		if fr.Data != nil && !json.Valid(fr.Data) {
			t.Fatalf("accepted invalid JSON data %q", fr.Data)
		}
		enc, err := Encode(fr)
		if err != nil {
			t.Fatalf("Encode of a decoded frame failed: %v (input %q)", err, b)
		}
		again, err := Decode(enc)
		if err != nil {
			t.Fatalf("re-decoding %q failed: %v", enc, err)
		}
		enc2, err := Encode(again)
		if err != nil || !bytes.Equal(enc, enc2) {
			t.Fatalf("round trip changed the frame: %q then %q (%v)", enc, enc2, err)
		}
	})
}
