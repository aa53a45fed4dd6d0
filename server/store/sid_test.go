package store

import (
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/wire"
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

// docs/PROTOCOL.md says what a sid holds: 12 hex digits of creation time in milliseconds,
// then 20 hex digits (80 bits) of randomness.
func TestSidsHoldTheTimeThenEightyRandomBits(t *testing.T) {
	before := time.Now().UnixMilli()
	sid := NewSid(PrefixConversation)
	after := time.Now().UnixMilli()
	ms, err := strconv.ParseInt(sid[2:14], 16, 64)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, ms, before)
	assert.LessOrEqual(t, ms, after)
	// Every one of the 80 bits varies across sids.
	var ones, zeros [80]bool
	for range 2000 {
		tail := NewSid(PrefixConversation)[14:]
		for i := range 80 {
			d, _ := strconv.ParseUint(tail[i/4:i/4+1], 16, 8)
			if d>>(3-uint(i%4))&1 == 1 {
				ones[i] = true
			} else {
				zeros[i] = true
			}
		}
	}
	for i := range 80 {
		assert.True(t, ones[i] && zeros[i], "random bit %d never changes", i)
	}
}

// Every sid the server makes has the shape wire.LooksLikeSid recognises, which lookups
// taking a sid or a name rely on.
func TestSidsHaveTheShapeLookupsRecognise(t *testing.T) {
	for _, prefix := range []string{PrefixConversation, PrefixParticipant, PrefixMessage, PrefixMedia, PrefixReceipt, PrefixContent} {
		sid := NewSid(prefix)
		assert.True(t, wire.LooksLikeSid(sid), sid)
		assert.Len(t, sid, wire.SidChars)
	}
}
