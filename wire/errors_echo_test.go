package wire

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

func TestErrorsQuoteLongInputCut(t *testing.T) {
	long := strings.Repeat("a", 100_000)
	e := Errorf(CodeBadRequest, "invalid cursor %q", long)
	assert.Equal(t, `invalid cursor "`+strings.Repeat("a", MaxEchoChars)+`…"`, e.Message)

	wrapped := Errorf(CodeBadRequest, "bad token: %v", errors.New("parsing "+long))
	assert.Less(t, len(wrapped.Message), 200)

	// A cut never splits a character.
	e = Errorf(CodeBadRequest, "%s", strings.Repeat("é", 1000))
	assert.True(t, utf8.ValidString(e.Message))
	assert.Equal(t, strings.Repeat("é", MaxEchoChars)+"…", e.Message)

	// What was clipped already (auth.Clip, say) is quoted as it is.
	assert.Equal(t, Clip(long), Errorf(CodeBadRequest, "%s", Clip(long)).Message)

	// Short input is quoted whole, and the caller's arguments are left alone.
	args := []any{"short", long}
	assert.Equal(t, "x short y", Errorf(CodeBadRequest, "x %s y", args[0]).Message)
	Errorf(CodeBadRequest, "%s %s", args...)
	assert.Equal(t, long, args[1])
}
