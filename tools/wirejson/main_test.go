package main

import (
	"bytes"
	"os"
	"testing"
)

// The committed codec must be what the generator writes from the wire types today.
func TestGeneratedFilesAreCurrent(t *testing.T) {
	code, tests, err := Generate("../../wire")
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][]byte{"json_gen.go": code, "json_gen_test.go": tests} {
		got, err := os.ReadFile("../../wire/" + name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("wire/%s is stale: run `go generate ./wire`", name)
		}
	}
}
