// Command benchreport is `make bench`: it measures convo's size, speed and memory in one run,
// each beside an anchor measured in the same run (the vendor SDK, a bare WebSocket, one
// server node), checks the budgets, prints a table and writes the figures as JSON so runs can
// be compared. Sections: size, browser, server, micro (see -only).
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/convo-sdk/convo/internal/benchfig"
)

// Report is the JSON written to -out.
type Report struct {
	Date       time.Time         `json:"date"`
	Machine    Machine           `json:"machine"`
	Size       *SizeFigures      `json:"size,omitempty"`
	Browser    *benchfig.Figures `json:"browser,omitempty"`
	Server     *ServerFigures    `json:"server,omitempty"`
	Benchmarks []Benchmark       `json:"benchmarks,omitempty"`
	Budgets    []Budget          `json:"budgets"`
}

// Machine says where the figures come from.
type Machine struct {
	GOOS, GOARCH string
	CPUs         int    `json:"cpus"`
	GoVersion    string `json:"goVersion"`
	Host         string `json:"host,omitempty"`
}

// Budget is one target of issue 6 and whether this run met it.
type Budget struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Limit float64 `json:"limit"`
	Unit  string  `json:"unit"`
	// AtLeast: the value must be >= Limit (throughput); otherwise <= Limit (size, time).
	AtLeast bool `json:"atLeast,omitempty"`
	Met     bool `json:"met"`
}

func budget(name string, value, limit float64, unit string, atLeast bool) Budget {
	met := value <= limit
	if atLeast {
		met = value >= limit
	}
	return Budget{Name: name, Value: value, Limit: limit, Unit: unit, AtLeast: atLeast, Met: met}
}

// config is what every section may need.
type config struct {
	root      string // repository root
	wasm      string
	dist      string // built web/dist (make web)
	scratch   string // scratch folder for the vendor package and throwaway data
	benchtime string
	pkgs      []string
	quick     bool // smaller loads, for checking the harness, not for figures
}

// section measures one group of figures into r.
type section struct {
	name string
	run  func(cfg config, r *Report) error
}

var sections = []section{
	{"size", runSize},
	{"browser", runBrowser},
	{"server", runServer},
	{"micro", runMicro},
}

func main() {
	var cfg config
	flag.StringVar(&cfg.wasm, "wasm", "bin/convo.wasm", "the wasm SDK to measure")
	flag.StringVar(&cfg.dist, "dist", "web/dist", "the built web folder (make web)")
	flag.StringVar(&cfg.scratch, "scratch", filepath.Join(os.TempDir(), "convo-bench"), "scratch folder (vendor package, throwaway data); never committed")
	out := flag.String("out", "bin/bench.json", "where to write the JSON report")
	pkgs := flag.String("pkgs", "./core/...,./server/...", "comma-separated packages whose Go benchmarks run")
	flag.StringVar(&cfg.benchtime, "benchtime", "1s", "go test -benchtime for the micro-benchmarks")
	only := flag.String("only", "", "comma-separated sections to run (size,browser,server,micro); empty runs all")
	flag.BoolVar(&cfg.quick, "quick", false, "small loads to check the harness; figures are not comparable")
	flag.Parse()
	cfg.pkgs = strings.Split(*pkgs, ",")
	var err error
	if cfg.root, err = os.Getwd(); err != nil {
		fail(err)
	}
	if err := os.MkdirAll(cfg.scratch, 0o755); err != nil {
		fail(err)
	}
	want := strings.Split(*only, ",")
	host, _ := os.Hostname()
	r := Report{Date: time.Now().UTC(), Machine: Machine{GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), Host: host}}
	failed := false
	for _, s := range sections {
		if *only != "" && !slices.Contains(want, s.name) {
			continue
		}
		fmt.Fprintf(os.Stderr, "benchreport: measuring %s...\n", s.name)
		if err := s.run(cfg, &r); err != nil {
			fmt.Fprintf(os.Stderr, "benchreport: %s: %v\n", s.name, err)
			failed = true
		}
	}
	printReport(r)
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		fail(err)
	}
	b, _ := json.MarshalIndent(r, "", "  ")
	if err := os.WriteFile(*out, append(b, '\n'), 0o644); err != nil {
		fail(err)
	}
	page := strings.TrimSuffix(*out, ".json") + ".html"
	if err := writeHTMLFile(page, r); err != nil {
		fail(err)
	}
	fmt.Printf("\nfigures written to %s, plots to %s\n", *out, page)
	if failed {
		os.Exit(1)
	}
}

func writeHTMLFile(path string, r Report) error {
	var b bytes.Buffer
	if err := writeHTML(&b, r); err != nil {
		return err
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "benchreport:", err)
	os.Exit(1)
}

func printReport(r Report) {
	fmt.Printf("convo bench, %s, %s/%s, %d CPUs, %s\n", r.Date.Format(time.RFC3339), r.Machine.GOOS, r.Machine.GOARCH, r.Machine.CPUs, r.Machine.GoVersion)
	if r.Size != nil {
		printSize(r.Size)
	}
	if r.Browser != nil {
		printBrowser(r.Browser)
	}
	if r.Server != nil {
		printServer(r.Server)
	}
	if len(r.Benchmarks) > 0 {
		printMicro(r.Benchmarks)
	}
	if len(r.Budgets) > 0 {
		fmt.Printf("\n%-58s %14s %14s  %s\n", "budget", "value", "limit", "met")
		for _, b := range r.Budgets {
			op := "<="
			if b.AtLeast {
				op = ">="
			}
			met := "yes"
			if !b.Met {
				met = "NO"
			}
			fmt.Printf("%-58s %14s %11s %s  %s\n", b.Name, fmt.Sprintf("%.4g %s", b.Value, b.Unit), op, fmt.Sprintf("%.4g", b.Limit), met)
		}
	}
}
