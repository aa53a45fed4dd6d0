package wire

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/convo-sdk/convo/internal/jsonc"
	"github.com/stretchr/testify/require"
)

// The generated codecs (json_gen.go) are held to encoding/json: the same bytes out for any
// value (as an Encoder with HTML escaping off writes them), the same value (or a failure on
// both sides) in for any input.

type codec interface {
	Encoder
	Decodable
}

func TestCodecEncodesAsEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, proto := range generatedTypes() {
		typ := reflect.TypeOf(proto).Elem()
		for i := 0; i < 300; i++ {
			v := reflect.New(typ)
			fillRandom(r, v.Elem(), 0)
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(v.Interface()); err != nil {
				t.Fatalf("%s: encoding/json: %v", typ, err)
			}
			want := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
			got := v.Interface().(codec).AppendJSON(nil)
			if !bytes.Equal(got, want) {
				t.Fatalf("%s: AppendJSON\n got %s\nwant %s", typ, got, want)
			}
			compareDecode(t, typ, want, false)
		}
	}
}

func TestCodecDecodesAsEncodingJSON(t *testing.T) {
	for _, s := range codecSeeds {
		for _, proto := range generatedTypes() {
			compareDecode(t, reflect.TypeOf(proto).Elem(), []byte(s), true)
		}
	}
}

// FuzzCodecDecode decodes arbitrary input into every wire type with both decoders.
func FuzzCodecDecode(f *testing.F) {
	for _, s := range codecSeeds {
		f.Add([]byte(s))
	}
	types := generatedTypes()
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, proto := range types {
			compareDecode(t, reflect.TypeOf(proto).Elem(), b, true)
		}
	})
}

var codecSeeds = []string{
	`{"sid":"CH1","index":3,"body":"hi","attributes":{"a":[1,2,{"b":null}]},"dateCreated":"2026-01-02T03:04:05.123456789Z"}`,
	`{"type":"event","event":"messageAdded","offset":7,"data":{"message":{"sid":"IM1","body":null}}}`,
	`{"items":[{"sid":"a"},{"sid":"b","state":{"current":"closed","dateUpdated":"2026-01-02T03:04:05+02:00"}}],"next":"x"}`,
	`{"items":[],"hasPrev":true}`, `{"items":null}`, `null`, `{}`, `[]`, `"x"`, `1`, ``, ` {"sid" : "x" } `,
	`{"urls":{"ME1":"http://x/1","ME2":null},"expires":"2026-01-02T03:04:05Z"}`,
	`{"mediaSids":["a",null,"c"],"body":"\u00e9\ud83d\ude00\ud800x\"\\\/\b\f\n\r\t"}`,
	`{"code":40101,"message":"no"}`, `{"code":1.5}`, `{"code":-0}`, `{"code":1e3}`, `{"offset":-1}`,
	`{"offset":18446744073709551615}`, `{"index":9223372036854775808}`, `{"badge":null,"messageIndex":2}`,
	`{"joined":true,"isOnline":false,"hasNext":null}`, `{"sid":"x",}`, `{"sid":"x" "a":1}`, `{"sid":01}`,
	`{"sid":"\x01"}`, "{\"sid\":\"\xff\xfe\"}", `{"x":[[[[[]]]]],"y":{"z":{}}}`, `{"x":tru}`, `{"x":nul}`,
	`{"dateCreated":"2026-13-01T00:00:00Z"}`, `{"dateCreated":"2026-01-02T03:04:05,5Z"}`, `{"dateCreated":"2026-01-02T03:04:05+24:00"}`, `{"dateCreated":"2024-02-29T23:59:59.1234567891-09:30"}`, `{"dateCreated":"2023-02-29T00:00:00Z"}`, `{"dateCreated":"\u0032026-01-01T00:00:00Z"}`, `{"dateCreated":5}`,
	`{"lastReadTimestamp":"2026-01-02T03:04:05Z"}`, `{"lastReadTimestamp":null}`, `{"user":{"identity":"u"}}`,
	`{"user":null}`, `{"resume":{"epoch":"e","offset":3}}`, `{"error":{"code":1}}`, `{"sid":"a"}x`,
}

// compareDecode decodes b into a new value of typ with encoding/json and with the generated
// decoder: both fail, or both give the same value. Inputs whose keys differ from a field's
// only in case, or that repeat a key, are skipped: there the generated decoder differs on
// purpose (exact keys) or encoding/json's result hangs on its reuse of storage. With laxTimes,
// a time the codec refuses and encoding/json accepts is let through when time.Parse takes it
// but the strict RFC 3339 grammar does not (internal/jsonc/time.go).
func compareDecode(t *testing.T, typ reflect.Type, b []byte, laxTimes bool) {
	t.Helper()
	if json.Valid(b) && !plainKeys(b) {
		return
	}
	want := reflect.New(typ)
	errWant := json.Unmarshal(b, want.Interface())
	got := reflect.New(typ)
	errGot := Unmarshal(b, got.Interface().(codec))
	if laxTimes && errWant == nil && errGot != nil && strings.Contains(errGot.Error(), "invalid RFC 3339 time") {
		lit := errGot.Error()[strings.Index(errGot.Error(), "time ")+len("time "):]
		lit = lit[:strings.LastIndex(lit, " at offset")]
		if _, err := time.Parse(time.RFC3339, strings.Trim(lit, `"`)); err == nil && !strictRFC3339.MatchString(strings.Trim(lit, `"`)) {
			return
		}
	}
	if (errWant == nil) != (errGot == nil) {
		t.Fatalf("%s: decoding %q: encoding/json says %v, the codec %v", typ, b, errWant, errGot)
	}
	if errWant == nil && !reflect.DeepEqual(want.Interface(), got.Interface()) {
		t.Fatalf("%s: decoding %q:\nencoding/json %+v\n   the codec %+v", typ, b, want.Elem(), got.Elem())
	}
}

// plainKeys reports that every object in the valid JSON b has distinct keys, none of which
// matches a wire field's name case-insensitively without matching it exactly.
func plainKeys(b []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(b))
	var stack []*level
	for {
		tok, err := dec.Token()
		if err != nil {
			return true
		}
		top := (*level)(nil)
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.object && top.keyNext {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:len(stack)-1]
				markValue(stack)
				continue
			}
			k := tok.(string)
			if top.seen[k] || foldsToField(k) {
				return false
			}
			top.seen[k] = true
			top.keyNext = false
			continue
		}
		switch d, _ := tok.(json.Delim); d {
		case '{':
			stack = append(stack, &level{object: true, keyNext: true, seen: map[string]bool{}})
		case '[':
			stack = append(stack, &level{})
		case ']', '}':
			stack = stack[:len(stack)-1]
			markValue(stack)
		default:
			markValue(stack)
		}
	}
}

func markValue(stack []*level) {
	if len(stack) > 0 && stack[len(stack)-1].object {
		stack[len(stack)-1].keyNext = true
	}
}

type level struct {
	object  bool
	keyNext bool
	seen    map[string]bool
}

var fieldNames = func() map[string]bool {
	names := map[string]bool{}
	for _, proto := range generatedTypes() {
		typ := reflect.TypeOf(proto).Elem()
		for i := 0; i < typ.NumField(); i++ {
			name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
			names[name] = true
		}
	}
	return names
}()

func foldsToField(k string) bool {
	if fieldNames[k] {
		return false
	}
	for name := range fieldNames {
		if strings.EqualFold(name, k) {
			return true
		}
	}
	// encoding/json also folds the Kelvin sign and the long s.
	return strings.ContainsAny(k, "\u212a\u017f")
}

var randomStrings = []string{
	"", "a", "CH0123", "hello, world", `quote " backslash \ slash /`, "<b>&amp;</b>", "line\nbreak\ttab\r",
	"\x00\x01\x1f\x7f", "\b\f", "é ü 漢字 😀", "\u2028\u2029", "\xff\xfe bad utf8 \xc3", "\xed\xa0\x80",
}

var randomRaw = []string{
	`{}`, `[]`, `null`, `true`, `1.5e3`, `"s"`, `{"a":1,"b":[true,null,"x"]}`, `{"nested":{"deep":[{}]}}`,
}

// fillRandom sets v, of a wire field type, to a random value encoding/json can encode.
func fillRandom(r *rand.Rand, v reflect.Value, depth int) {
	switch v.Type() {
	case reflect.TypeFor[time.Time]():
		zones := []*time.Location{time.UTC, time.FixedZone("", 2*3600), time.FixedZone("", -(5*3600 + 30*60))}
		t := time.Date(r.IntN(10000), time.Month(1+r.IntN(12)), 1+r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60), 0, zones[r.IntN(len(zones))])
		if r.IntN(2) == 0 {
			t = t.Add(time.Duration(r.IntN(1e9)))
		}
		v.Set(reflect.ValueOf(t))
		return
	case reflect.TypeFor[RawJSON]():
		if r.IntN(3) > 0 {
			v.Set(reflect.ValueOf(RawJSON(randomRaw[r.IntN(len(randomRaw))])))
		}
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(randomStrings[r.IntN(len(randomStrings))])
	case reflect.Bool:
		v.SetBool(r.IntN(2) == 0)
	case reflect.Int, reflect.Int64:
		switch r.IntN(3) {
		case 0:
		case 1:
			v.SetInt(int64(r.IntN(100)))
		default:
			v.SetInt(int64(r.Uint64()))
		}
	case reflect.Uint64:
		if r.IntN(2) == 0 {
			v.SetUint(r.Uint64())
		}
	case reflect.Pointer:
		if r.IntN(2) == 0 && depth < 4 {
			p := reflect.New(v.Type().Elem())
			fillRandom(r, p.Elem(), depth+1)
			v.Set(p)
		}
	case reflect.Slice:
		switch n := r.IntN(4); {
		case n == 0 || depth >= 4:
		case n == 1:
			v.Set(reflect.MakeSlice(v.Type(), 0, 0))
		default:
			s := reflect.MakeSlice(v.Type(), n-1, n-1)
			for i := 0; i < s.Len(); i++ {
				fillRandom(r, s.Index(i), depth+1)
			}
			v.Set(s)
		}
	case reflect.Map:
		if n := r.IntN(4); n > 0 {
			m := reflect.MakeMap(v.Type())
			for i := 0; i < n; i++ {
				m.SetMapIndex(reflect.ValueOf(randomStrings[r.IntN(len(randomStrings))]), reflect.ValueOf(randomStrings[r.IntN(len(randomStrings))]))
			}
			v.Set(m)
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				fillRandom(r, v.Field(i), depth+1)
			}
		}
	}
}

// Every schema field's kind is its Go field's type, and its offset that field's.
func TestSchemasMatchTheirTypes(t *testing.T) {
	kinds := map[reflect.Type]jsonc.Kind{
		reflect.TypeFor[string](): jsonc.String, reflect.TypeFor[*string](): jsonc.StringPtr,
		reflect.TypeFor[bool](): jsonc.Bool, reflect.TypeFor[int](): jsonc.Int, reflect.TypeFor[Code](): jsonc.Int,
		reflect.TypeFor[*int](): jsonc.IntPtr, reflect.TypeFor[int64](): jsonc.Int64, reflect.TypeFor[*int64](): jsonc.Int64Ptr,
		reflect.TypeFor[uint64](): jsonc.Uint64, reflect.TypeFor[time.Time](): jsonc.Time, reflect.TypeFor[*time.Time](): jsonc.TimePtr,
		reflect.TypeFor[RawJSON](): jsonc.Raw, reflect.TypeFor[[]string](): jsonc.Strings,
		reflect.TypeFor[map[string]string](): jsonc.StringMap,
	}
	for typ, s := range generatedSchemas {
		require.Len(t, s.Fields, typ.NumField(), typ.String())
		for i, f := range s.Fields {
			sf := typ.Field(i)
			require.Equal(t, sf.Offset, f.Offset, "%s.%s", typ, sf.Name)
			name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
			require.Equal(t, name, f.Name, "%s.%s", typ, sf.Name)
			want, ok := kinds[sf.Type]
			switch {
			case ok:
			case sf.Type.Kind() == reflect.Struct:
				want = jsonc.Struct
			case sf.Type.Kind() == reflect.Pointer && sf.Type.Elem().Kind() == reflect.Struct:
				want = jsonc.StructPtr
			case sf.Type.Kind() == reflect.Slice && sf.Type.Elem().Kind() == reflect.Struct:
				want = jsonc.StructSlice
			default:
				t.Fatalf("%s.%s: type %s has no kind", typ, sf.Name, sf.Type)
			}
			require.Equal(t, want, f.Kind, "%s.%s", typ, sf.Name)
			if want == jsonc.StructSlice {
				require.Equal(t, sf.Type.Elem().Size(), f.Schema.Size, "%s.%s", typ, sf.Name)
			}
		}
	}
}

// strictRFC3339 is the grammar's shape (ranges aside): what time.Parse also accepts beyond it
// is a comma before the fraction, or a zone hour or minute out of range.
var strictRFC3339 = regexp.MustCompile(`^\d{4}-\d\d-\d\dT([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$`)
