package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/convo-sdk/convo/internal/wasmbuild"
)

// Contributor is one package's share of the wasm.
type Contributor struct {
	Package string `json:"package"`
	Bytes   int64  `json:"bytes"`
}

// wasmContributors builds the SDK with its symbol names kept (the shipped build strips
// them), sums each function body's size by the package its name starts with, and returns the
// ten largest, plus the data section as one line. `go tool nm` does not read wasm, so the
// module's code and name sections are read here.
func wasmContributors(root, scratch string) ([]Contributor, error) {
	out := filepath.Join(scratch, "convo-symbols.wasm")
	cmd := exec.Command("go", append(append([]string{"build"}, wasmbuild.SymbolFlags()...), "-o", out, "./wasm")...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building the wasm with symbols: %w\n%s", err, b)
	}
	mod, err := os.ReadFile(out)
	if err != nil {
		return nil, err
	}
	sizes, data, err := wasmFunctionSizes(mod)
	if err != nil {
		return nil, err
	}
	byPkg := map[string]int64{}
	for name, n := range sizes {
		byPkg[packageOf(name)] += n
	}
	list := make([]Contributor, 0, len(byPkg)+1)
	for p, n := range byPkg {
		list = append(list, Contributor{p, n})
	}
	list = append(list, Contributor{"(data: strings, tables, pclntab)", data})
	sort.Slice(list, func(i, j int) bool { return list[i].Bytes > list[j].Bytes })
	if len(list) > 10 {
		list = list[:10]
	}
	return list, nil
}

// packageOf returns the package part of a symbol as the wasm name section spells it, with
// '/' and '-' turned into '_': "encoding_json.Marshal", "github.com_x_y.(*T).M". The first
// '.' ends the package, except the dot of a leading domain name.
func packageOf(sym string) string {
	start := 0
	if m := domainPrefix.FindStringIndex(sym); m != nil {
		start = m[1]
	}
	if dot := strings.IndexByte(sym[start:], '.'); dot >= 0 {
		return sym[:start+dot]
	}
	return sym
}

var domainPrefix = regexp.MustCompile(`^[a-z0-9_]+\.(com|org|io|net|dev|in|co)_`)

// wasmFunctionSizes reads a wasm module's function body sizes by name (from the "name"
// custom section) and the total size of its data section.
func wasmFunctionSizes(mod []byte) (map[string]int64, int64, error) {
	if len(mod) < 8 || !bytes.Equal(mod[:4], []byte("\x00asm")) {
		return nil, 0, errors.New("not a wasm module")
	}
	r := &wasmReader{b: mod[8:]}
	var imported uint64
	var bodies []int64
	names := map[uint64]string{}
	var data int64
	for !r.done() {
		id := r.byte()
		size := r.uleb()
		sec := &wasmReader{b: r.take(size)}
		switch id {
		case 2: // imports: function imports come first in the function index space
			for n := sec.uleb(); n > 0; n-- {
				sec.name()
				sec.name()
				switch kind := sec.byte(); kind {
				case 0:
					sec.uleb()
					imported++
				case 1: // table: elemtype, limits
					sec.byte()
					sec.limits()
				case 2:
					sec.limits()
				case 3: // global: valtype, mutability
					sec.byte()
					sec.byte()
				}
			}
		case 10:
			for n := sec.uleb(); n > 0; n-- {
				sz := sec.uleb()
				sec.take(sz)
				bodies = append(bodies, int64(sz))
			}
		case 11:
			data = int64(size)
		case 0:
			if sec.name() != "name" {
				continue
			}
			for !sec.done() {
				sub := sec.byte()
				sub2 := &wasmReader{b: sec.take(sec.uleb())}
				if sub != 1 {
					continue
				}
				for n := sub2.uleb(); n > 0; n-- {
					idx := sub2.uleb()
					names[idx] = sub2.name()
				}
			}
		}
		if r.err != nil || sec.err != nil {
			return nil, 0, errors.New("truncated wasm module")
		}
	}
	sizes := map[string]int64{}
	for i, n := range bodies {
		name, ok := names[imported+uint64(i)]
		if !ok {
			name = "(unnamed)"
		}
		sizes[name] += n
	}
	return sizes, data, nil
}

// wasmReader reads the LEB128 integers and length-prefixed names of a wasm module; after
// an overrun err is set and every read returns zero values.
type wasmReader struct {
	b   []byte
	err error
}

func (r *wasmReader) done() bool { return len(r.b) == 0 || r.err != nil }

func (r *wasmReader) byte() byte {
	if len(r.b) == 0 {
		r.err = errors.New("overrun")
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *wasmReader) uleb() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errors.New("bad LEB128")
		r.b = nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *wasmReader) take(n uint64) []byte {
	if uint64(len(r.b)) < n {
		r.err = errors.New("overrun")
		r.b = nil
		return nil
	}
	p := r.b[:n]
	r.b = r.b[n:]
	return p
}

func (r *wasmReader) name() string { return string(r.take(r.uleb())) }

func (r *wasmReader) limits() {
	if r.byte()&1 != 0 {
		r.uleb()
	}
	r.uleb()
}
