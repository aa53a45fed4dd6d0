package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
)

// SizeFigures compare the SDK as served with the vendor's bundle.
type SizeFigures struct {
	Wasm   Size `json:"wasm"`
	Vendor Size `json:"vendor"` // twilio-conversations.min.js of @twilio/conversations@3.0.1
	// Contributors are the largest packages by code size in the wasm (function bodies;
	// data such as strings and the pclntab is one line of its own).
	Contributors []Contributor `json:"contributors"`
}

// Size is a file's size as served.
type Size struct {
	File   string `json:"file"`
	Raw    int64  `json:"raw"`
	Gzip   int64  `json:"gzip9"`
	Brotli int64  `json:"brotli11"`
}

// vendorPackage is the vendor SDK the size is compared with.
const vendorPackage = "@twilio/conversations@3.0.1"

func runSize(cfg config, r *Report) error {
	wasm, err := measureSize(cfg.wasm)
	if err != nil {
		return fmt.Errorf("%w (run make wasm first)", err)
	}
	vendorJS, err := vendorBundle(cfg.scratch)
	if err != nil {
		return err
	}
	vendor, err := measureSize(vendorJS)
	if err != nil {
		return err
	}
	contrib, err := wasmContributors(cfg.root, cfg.scratch)
	if err != nil {
		return err
	}
	r.Size = &SizeFigures{Wasm: *wasm, Vendor: *vendor, Contributors: contrib}
	r.Budgets = append(r.Budgets, budget("SDK size, brotli -q11", float64(wasm.Brotli)/1e3, 800, "KB", false))
	return nil
}

// vendorBundle installs the vendor package into scratch (once) and returns its minified bundle.
func vendorBundle(scratch string) (string, error) {
	dir := filepath.Join(scratch, "vendor-sdk")
	js := filepath.Join(dir, "node_modules", "@twilio", "conversations", "builds", "twilio-conversations.min.js")
	if _, err := os.Stat(js); err == nil {
		return js, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	cmd := exec.Command("npm", "install", "--no-audit", "--no-fund", "--silent", "--prefix", dir, vendorPackage)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("npm install %s: %w", vendorPackage, err)
	}
	return js, nil
}

func measureSize(path string) (*Size, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var gz bytes.Buffer
	w, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	w.Write(raw)
	w.Close()
	s := &Size{File: filepath.Base(path), Raw: int64(len(raw)), Gzip: int64(gz.Len())}
	out, err := exec.Command("brotli", "-q", "11", "-c", path).Output()
	if err != nil {
		return nil, fmt.Errorf("brotli (make test-deps installs it): %w", err)
	}
	s.Brotli = int64(len(out))
	return s, nil
}

func printSize(s *SizeFigures) {
	fmt.Printf("\n%-34s %12s %12s %12s\n", "SDK size (bytes)", "raw", "gzip -9", "brotli -q11")
	for _, z := range []Size{s.Wasm, s.Vendor} {
		fmt.Printf("%-34s %12d %12d %12d\n", z.File, z.Raw, z.Gzip, z.Brotli)
	}
	fmt.Printf("%-34s %12s %12s %12s\n", "convo / vendor", ratio(s.Wasm.Raw, s.Vendor.Raw), ratio(s.Wasm.Gzip, s.Vendor.Gzip), ratio(s.Wasm.Brotli, s.Vendor.Brotli))
	if len(s.Contributors) > 0 {
		fmt.Printf("\n%-58s %12s\n", "largest contributors to the wasm (by package)", "bytes")
		for _, c := range s.Contributors {
			fmt.Printf("%-58s %12d\n", c.Package, c.Bytes)
		}
	}
}

func ratio(a, b int64) string {
	if b == 0 {
		return "n/a"
	}
	return strconv.FormatFloat(float64(a)/float64(b), 'f', 1, 64) + "x"
}
