package store

import (
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSidsAreUniqueAndSortByTime(t *testing.T) {
	seen := map[string]bool{}
	for range 10000 {
		sid := NewSid(PrefixMessage)
		require.Regexp(t, regexp.MustCompile(`^IM[0-9a-f]{32}$`), sid)
		require.False(t, seen[sid], "sid %s made twice", sid)
		seen[sid] = true
	}
	a := NewSid(PrefixMessage)
	time.Sleep(2 * time.Millisecond)
	b := NewSid(PrefixMessage)
	assert.Less(t, a, b, "a later sid sorts later")
	assert.NotEqual(t, a[14:], b[14:], "the tail is random")
}
