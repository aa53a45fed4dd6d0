package wasmbuild

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMakefileBuildsWithTheseFlags(t *testing.T) {
	b, err := os.ReadFile("../../Makefile")
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^GOFLAGS_WASM := (.*)$`).FindSubmatch(b)
	require.NotNil(t, m, "the Makefile has no GOFLAGS_WASM line")
	// The Makefile quotes for the shell: -ldflags='-s -w'.
	var got []string
	for _, f := range regexp.MustCompile(`\S+='[^']*'|\S+`).FindAllString(string(m[1]), -1) {
		got = append(got, strings.ReplaceAll(f, "'", ""))
	}
	require.Equal(t, Flags, got)
}
