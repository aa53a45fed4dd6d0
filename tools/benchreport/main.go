// Command benchreport is `make bench`: it measures convo's size and speed figures in one run,
// prints them as a table and writes them as JSON so runs can be compared.
//
// Today it reports the wasm SDK's size (raw, gzip -9, brotli -q 11) and the Go
// micro-benchmarks of the hot paths; later figures join the same report.
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Report is the JSON written to -out.
type Report struct {
	Date       time.Time   `json:"date"`
	Machine    Machine     `json:"machine"`
	WasmSize   *Size       `json:"wasmSize,omitempty"`
	Benchmarks []Benchmark `json:"benchmarks,omitempty"`
}

// Machine says where the figures come from.
type Machine struct {
	GOOS, GOARCH string
	CPUs         int    `json:"cpus"`
	GoVersion    string `json:"goVersion"`
}

// Size is a file's size as served.
type Size struct {
	Raw    int64 `json:"raw"`
	Gzip   int64 `json:"gzip9"`
	Brotli int64 `json:"brotli11,omitempty"` // 0 when the brotli command is missing
}

// Benchmark is one `go test -bench` result line.
type Benchmark struct {
	Name        string  `json:"name"`
	NsPerOp     float64 `json:"nsPerOp"`
	BytesPerOp  int64   `json:"bytesPerOp"`
	AllocsPerOp int64   `json:"allocsPerOp"`
}

func main() {
	wasm := flag.String("wasm", "bin/convo.wasm", "the wasm SDK to measure")
	out := flag.String("out", "bin/bench.json", "where to write the JSON report")
	pkgs := flag.String("pkgs", "./core/...,./server/...", "comma-separated packages whose benchmarks run")
	benchtime := flag.String("benchtime", "1s", "go test -benchtime")
	flag.Parse()

	r := Report{Date: time.Now().UTC(), Machine: Machine{GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, CPUs: runtime.NumCPU(), GoVersion: runtime.Version()}}
	size, err := measureSize(*wasm)
	if err != nil {
		fail(err)
	}
	r.WasmSize = size
	if r.Benchmarks, err = runBenchmarks(strings.Split(*pkgs, ","), *benchtime); err != nil {
		fail(err)
	}
	printReport(r)
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		fail(err)
	}
	b, _ := json.MarshalIndent(r, "", "  ")
	if err := os.WriteFile(*out, append(b, '\n'), 0o644); err != nil {
		fail(err)
	}
	fmt.Printf("\nfigures written to %s\n", *out)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "benchreport:", err)
	os.Exit(1)
}

func measureSize(path string) (*Size, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w (run make wasm first)", err)
	}
	var gz bytes.Buffer
	w, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	w.Write(raw)
	w.Close()
	s := &Size{Raw: int64(len(raw)), Gzip: int64(gz.Len())}
	if _, err := exec.LookPath("brotli"); err == nil {
		out, err := exec.Command("brotli", "-q", "11", "-c", path).Output()
		if err != nil {
			return nil, fmt.Errorf("brotli: %w", err)
		}
		s.Brotli = int64(len(out))
	}
	return s, nil
}

var benchLine = regexp.MustCompile(`^(Benchmark\S+)\s+\d+\s+([\d.]+) ns/op(?:\s+[\d.]+ MB/s)?(?:\s+(\d+) B/op\s+(\d+) allocs/op)?`)

func runBenchmarks(pkgs []string, benchtime string) ([]Benchmark, error) {
	args := append([]string{"test", "-run", "^$", "-bench", ".", "-benchmem", "-benchtime", benchtime}, pkgs...)
	cmd := exec.Command("go", args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	var list []Benchmark
	for _, line := range strings.Split(string(out), "\n") {
		m := benchLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		b := Benchmark{Name: m[1]}
		b.NsPerOp, _ = strconv.ParseFloat(m[2], 64)
		b.BytesPerOp, _ = strconv.ParseInt(m[3], 10, 64)
		b.AllocsPerOp, _ = strconv.ParseInt(m[4], 10, 64)
		list = append(list, b)
	}
	return list, nil
}

func printReport(r Report) {
	fmt.Printf("convo bench, %s, %s/%s, %d CPUs, %s\n\n", r.Date.Format(time.RFC3339), r.Machine.GOOS, r.Machine.GOARCH, r.Machine.CPUs, r.Machine.GoVersion)
	if s := r.WasmSize; s != nil {
		fmt.Println("SDK size (bytes)        raw       gzip -9   brotli -q11")
		br := "n/a"
		if s.Brotli > 0 {
			br = strconv.FormatInt(s.Brotli, 10)
		}
		fmt.Printf("convo.wasm       %12d  %12d  %12s\n\n", s.Raw, s.Gzip, br)
	}
	if len(r.Benchmarks) > 0 {
		fmt.Printf("%-56s %14s %12s %10s\n", "benchmark", "ns/op", "B/op", "allocs/op")
		for _, b := range r.Benchmarks {
			fmt.Printf("%-56s %14.1f %12d %10d\n", b.Name, b.NsPerOp, b.BytesPerOp, b.AllocsPerOp)
		}
	}
}
