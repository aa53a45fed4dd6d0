package jsonc

import (
	"time"
	"unsafe"
)

// A Schema describes a struct type's JSON members for the table-driven codec: Append writes
// such a struct and Decoder.Struct reads one, by field offsets rather than reflection. One
// interpreter and a table per type weigh far less in the wasm than an encoder and decoder
// generated per type. tools/wirejson writes the wire types' schemas, and wire's tests check
// each field's kind against its Go type.
type Schema struct {
	Fields []Field
	// New allocates a zero value of the type (for StructPtr fields); Append appends a zero
	// value to the []T at the pointer and returns the new element (for StructSlice fields).
	New    func() unsafe.Pointer
	Append func(slice unsafe.Pointer) unsafe.Pointer
	// Size is the type's size, to step through a []T.
	Size uintptr
}

// Field is one JSON member of a struct.
type Field struct {
	Name      string // the JSON name
	Key       string // `,"name":`, written before the value
	Offset    uintptr
	Kind      Kind
	OmitEmpty bool
	Schema    *Schema // the element type of Struct, StructPtr and StructSlice fields
}

// Kind is a field's Go type, as the codec knows it.
type Kind uint8

// The field kinds. Int covers named types whose underlying type is int.
const (
	String      Kind = iota // string
	StringPtr               // *string
	Bool                    // bool
	Int                     // int
	IntPtr                  // *int
	Int64                   // int64
	Int64Ptr                // *int64
	Uint64                  // uint64
	Time                    // time.Time
	TimePtr                 // *time.Time
	Raw                     // a []byte holding JSON (wire.RawJSON)
	Strings                 // []string
	StringMap               // map[string]string
	Struct                  // a struct with a Schema
	StructPtr               // a pointer to one
	StructSlice             // a slice of them
)

type sliceHeader struct {
	data     unsafe.Pointer
	len, cap int
}

// zeroBase is where an empty, non-nil slice points, as the runtime's zero-size allocations do.
var zeroBase byte

// NewOf and AppendOf make a Schema's New and Append for T.
func NewOf[T any]() unsafe.Pointer { return unsafe.Pointer(new(T)) }

// AppendOf appends a zero T to the []T at p and returns a pointer to it.
func AppendOf[T any](p unsafe.Pointer) unsafe.Pointer {
	s := (*[]T)(p)
	var zero T
	*s = append(*s, zero)
	return unsafe.Pointer(&(*s)[len(*s)-1])
}

// Append appends the JSON encoding of the struct at p, described by s, as encoding/json would
// write it with HTML escaping off.
func Append(b []byte, s *Schema, p unsafe.Pointer) []byte {
	start := len(b)
	for i := range s.Fields {
		f := &s.Fields[i]
		fp := unsafe.Add(p, f.Offset)
		if f.OmitEmpty && isEmpty(f.Kind, fp) {
			continue
		}
		b = append(b, f.Key...)
		b = appendValue(b, f, fp)
	}
	return Close(b, start)
}

// isEmpty is encoding/json's omitempty test. A struct, time.Time included, is never empty.
func isEmpty(k Kind, p unsafe.Pointer) bool {
	switch k {
	case String:
		return *(*string)(p) == ""
	case Bool:
		return !*(*bool)(p)
	case Int:
		return *(*int)(p) == 0
	case Int64:
		return *(*int64)(p) == 0
	case Uint64:
		return *(*uint64)(p) == 0
	case StringPtr, IntPtr, Int64Ptr, TimePtr, StructPtr:
		return *(*unsafe.Pointer)(p) == nil
	case Raw, Strings, StructSlice:
		return (*sliceHeader)(p).len == 0
	case StringMap:
		return len(*(*map[string]string)(p)) == 0
	}
	return false
}

func appendValue(b []byte, f *Field, p unsafe.Pointer) []byte {
	switch f.Kind {
	case String:
		return AppendString(b, *(*string)(p))
	case Bool:
		return AppendBool(b, *(*bool)(p))
	case Int:
		return AppendInt(b, int64(*(*int)(p)))
	case Int64:
		return AppendInt(b, *(*int64)(p))
	case Uint64:
		return AppendUint(b, *(*uint64)(p))
	case Time:
		return AppendTime(b, *(*time.Time)(p))
	case Raw:
		return AppendRaw(b, *(*[]byte)(p))
	case Strings:
		return AppendStrings(b, *(*[]string)(p))
	case StringMap:
		return AppendStringMap(b, *(*map[string]string)(p))
	case Struct:
		return Append(b, f.Schema, p)
	case StructSlice:
		h := (*sliceHeader)(p)
		if h.data == nil {
			return append(b, "null"...)
		}
		b = append(b, '[')
		for i := 0; i < h.len; i++ {
			if i > 0 {
				b = append(b, ',')
			}
			b = Append(b, f.Schema, unsafe.Add(h.data, uintptr(i)*f.Schema.Size))
		}
		return append(b, ']')
	}
	// The pointer kinds.
	q := *(*unsafe.Pointer)(p)
	if q == nil {
		return append(b, "null"...)
	}
	switch f.Kind {
	case StringPtr:
		return AppendString(b, *(*string)(q))
	case IntPtr:
		return AppendInt(b, int64(*(*int)(q)))
	case Int64Ptr:
		return AppendInt(b, *(*int64)(q))
	case TimePtr:
		return AppendTime(b, *(*time.Time)(q))
	}
	return Append(b, f.Schema, q) // StructPtr
}

// Struct reads an object into the struct at p, described by s, with the rules of the
// package comment. Members usually come in the schema's order, so the search for each key
// starts after the field matched last.
func (d *Decoder) Struct(s *Schema, p unsafe.Pointer) {
	next := 0
	for n := 0; d.Member(n); n++ {
		f := s.find(d.Key, next)
		if f < 0 {
			d.Skip()
			continue
		}
		next = f + 1
		fd := &s.Fields[f]
		d.field(fd, unsafe.Add(p, fd.Offset))
	}
}

func (s *Schema) find(key []byte, from int) int {
	n := len(s.Fields)
	for i := 0; i < n; i++ {
		j := from + i
		if j >= n {
			j -= n
		}
		if s.Fields[j].Name == string(key) {
			return j
		}
	}
	return -1
}

func (d *Decoder) field(f *Field, p unsafe.Pointer) {
	switch f.Kind {
	case String:
		d.Str((*string)(p))
	case StringPtr:
		d.OptStr((**string)(p))
	case Bool:
		d.Bool((*bool)(p))
	case Int:
		d.Int((*int)(p))
	case IntPtr:
		d.OptInt((**int)(p))
	case Int64:
		d.Int64((*int64)(p))
	case Int64Ptr:
		d.OptInt64((**int64)(p))
	case Uint64:
		d.Uint64((*uint64)(p))
	case Time:
		d.Time((*time.Time)(p))
	case TimePtr:
		d.OptTime((**time.Time)(p))
	case Raw:
		d.Raw((*[]byte)(p))
	case Strings:
		d.Strings((*[]string)(p))
	case StringMap:
		d.StringMap((*map[string]string)(p))
	case Struct:
		d.Struct(f.Schema, p)
	case StructPtr:
		pp := (*unsafe.Pointer)(p)
		if d.Null() {
			*pp = nil
			return
		}
		if *pp == nil {
			*pp = f.Schema.New()
		}
		d.Struct(f.Schema, *pp)
	case StructSlice:
		h := (*sliceHeader)(p)
		if d.Null() {
			*h = sliceHeader{}
			return
		}
		h.len = 0
		if h.data == nil {
			h.data = unsafe.Pointer(&zeroBase)
		}
		for i := 0; d.Elem(i); i++ {
			d.Struct(f.Schema, f.Schema.Append(p))
		}
	}
}
