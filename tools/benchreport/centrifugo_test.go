package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Without a module proxy to install Centrifugo from, the server section says why and goes on.
func TestCentrifugoSkippedWhenItCannotBeInstalled(t *testing.T) {
	t.Setenv("GOPROXY", "off")
	t.Setenv("GOMODCACHE", t.TempDir()) // nothing cached to install from either
	t.Setenv("GOFLAGS", "-modcacherw")
	cfg := config{root: "../..", scratch: t.TempDir()}
	f := &ServerFigures{}
	errs := runCentrifugo(context.Background(), cfg, f, []string{"fanout", "idle"})
	assert.Empty(t, errs, "an install that cannot happen is not a failure of the bench")
	assert.Nil(t, f.Centrifugo)
	require.Contains(t, f.CentrifugoNote, "no Centrifugo figures: go install github.com/centrifugal/centrifugo/v6@v6.9.1")
	assert.Contains(t, f.CentrifugoNote, "GOPROXY=off", "the note carries go's own reason")

	_, ok := centrifugoRatio(f)
	assert.False(t, ok)
	assert.Empty(t, comparisonLines(f))
}
