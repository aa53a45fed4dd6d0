package main

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
)

// Benchmark is one `go test -bench` result line.
type Benchmark struct {
	Name        string  `json:"name"`
	NsPerOp     float64 `json:"nsPerOp"`
	BytesPerOp  int64   `json:"bytesPerOp"`
	AllocsPerOp int64   `json:"allocsPerOp"`
}

var benchLine = regexp.MustCompile(`^(Benchmark\S+)\s+\d+\s+([\d.]+) ns/op(?:\s+[\d.]+ MB/s)?(?:\s+(\d+) B/op\s+(\d+) allocs/op)?`)

// runMicro runs the Go micro-benchmarks of the hot paths (frame encode/decode, emitter,
// message cache, store append and page query).
func runMicro(cfg config, r *Report) error {
	args := append([]string{"test", "-run", "^$", "-bench", ".", "-benchmem", "-benchtime", cfg.benchtime}, cfg.pkgs...)
	cmd := exec.Command("go", args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		m := benchLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		b := Benchmark{Name: m[1]}
		b.NsPerOp, _ = strconv.ParseFloat(m[2], 64)
		b.BytesPerOp, _ = strconv.ParseInt(m[3], 10, 64)
		b.AllocsPerOp, _ = strconv.ParseInt(m[4], 10, 64)
		r.Benchmarks = append(r.Benchmarks, b)
	}
	return nil
}

func printMicro(list []Benchmark) {
	fmt.Printf("\n%-56s %14s %12s %10s\n", "micro-benchmark", "ns/op", "B/op", "allocs/op")
	for _, b := range list {
		fmt.Printf("%-56s %14.1f %12d %10d\n", b.Name, b.NsPerOp, b.BytesPerOp, b.AllocsPerOp)
	}
}
