package wire

import "github.com/convo-sdk/convo/internal/jsonc"

//go:generate go run ../tools/wirejson

// RawJSON is a JSON value kept as its encoded bytes (attributes, bindings, a frame's data). It
// behaves as encoding/json's RawMessage does, for the server's own encoding/json use, without
// importing it: the SDK's wasm links no reflection-based JSON.
type RawJSON []byte

// MarshalJSON returns r, or null when r is empty.
func (r RawJSON) MarshalJSON() ([]byte, error) {
	if r == nil {
		return []byte("null"), nil
	}
	return r, nil
}

// UnmarshalJSON keeps a copy of b.
func (r *RawJSON) UnmarshalJSON(b []byte) error {
	*r = append((*r)[:0], b...)
	return nil
}

// Encoder is a value with a generated JSON encoder (json_gen.go).
type Encoder interface {
	AppendJSON(b []byte) []byte
}

// Decodable is a value with a generated JSON decoder (json_gen.go).
type Decodable interface {
	DecodeJSON(d *jsonc.Decoder)
}

// Marshal encodes v with its generated encoder.
func Marshal(v Encoder) []byte { return v.AppendJSON(nil) }

// Unmarshal decodes b into v with its generated decoder, following encoding/json's rules
// except that keys match exactly. The error is a *jsonc.SyntaxError.
func Unmarshal(b []byte, v Decodable) error {
	d := jsonc.NewDecoder(b)
	v.DecodeJSON(d)
	return d.End()
}

// AppendJSON appends r as it is, or null when r is empty.
func (r RawJSON) AppendJSON(b []byte) []byte { return jsonc.AppendRaw(b, r) }
