//go:build !js

package main

import (
	"bufio"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestWasmDependenciesAreAllowed compares what the wasm links with deps.txt.
func TestWasmDependenciesAreAllowed(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}} {{.Standard}}", ".")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var linked []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		path, std, _ := strings.Cut(line, " ")
		if std == "true" && (ignoredStd[path] || slices.Contains(strings.Split(path, "/"), "internal")) {
			continue
		}
		linked = append(linked, path)
	}
	allowed := readAllowlist(t)
	for _, p := range linked {
		if !allowed[p] {
			t.Errorf("the wasm now links %s, which wasm/deps.txt does not list: measure its cost and add it, or drop it", p)
		}
		delete(allowed, p)
	}
	for p := range allowed {
		t.Errorf("wasm/deps.txt lists %s, which the wasm no longer links: remove it", p)
	}
}

// ignoredStd are the standard packages every Go program links.
var ignoredStd = map[string]bool{"unsafe": true, "runtime": true, "syscall": true}

func readAllowlist(t *testing.T) map[string]bool {
	f, err := os.Open("deps.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	allowed := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		if line = strings.TrimSpace(line); line != "" {
			allowed[line] = true
		}
	}
	return allowed
}
