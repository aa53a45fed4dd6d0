package bus

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestPresenceOnlineOnceAcrossNodes(t *testing.T) {
	p := newPresence(time.Time{})
	now := time.Now()
	assert.False(t, p.observe("B", 1, now), "a node first heard at 1 just started")
	assert.True(t, p.up("alice"), "first connection anywhere")
	assert.False(t, p.elsewhere("alice"))

	assert.False(t, p.observe("B", 2, now))
	assert.Empty(t, p.peerUp("B", "alice"), "already online here")
	assert.True(t, p.elsewhere("alice"))
	assert.False(t, p.down("alice"), "still on B")
	assert.True(t, p.elsewhere("alice"))

	assert.False(t, p.observe("B", 3, now))
	assert.Equal(t, []change{{"alice", false}}, p.peerDown("B", "alice"), "gone everywhere")
	assert.False(t, p.elsewhere("alice"))

	assert.False(t, p.observe("B", 4, now))
	assert.Equal(t, []change{{"bob", true}}, p.peerUp("B", "bob"))
	assert.Empty(t, p.peerUp("B", "bob"), "a repeated up changes nothing")
	assert.False(t, p.up("bob"))
	assert.False(t, p.down("bob"))
	assert.False(t, p.down("bob"), "a repeated down changes nothing")
	assert.True(t, p.elsewhere("bob"))
}

func TestPresenceGapMakesANodeStaleUntilItsState(t *testing.T) {
	p := newPresence(time.Time{})
	now := time.Now()
	p.observe("B", 1, now)
	p.observe("B", 2, now)
	p.peerUp("B", "alice")
	assert.False(t, p.needState("B", now, time.Second), "in sync")

	assert.True(t, p.observe("B", 5, now), "3 and 4 were lost")
	assert.True(t, p.needState("B", now, time.Second))
	assert.False(t, p.needState("B", now.Add(time.Second/2), time.Second), "asked recently")
	assert.Equal(t, []string{"B"}, p.stalePeers(now.Add(2*time.Second), time.Second), "ask again after retry")

	// The state arrives in two chunks: bob and carol are on B, alice is not any more.
	p.observe("B", 6, now)
	assert.Empty(t, p.peerState("B", stateFirst, []string{"bob"}))
	p.observe("B", 7, now)
	cs := p.peerState("B", stateLast, []string{"carol"})
	assert.ElementsMatch(t, []change{{"alice", false}, {"bob", true}, {"carol", true}}, cs)
	assert.False(t, p.needState("B", now.Add(time.Hour), time.Second), "in sync again")

	// A chunk whose first part was lost is ignored.
	p.observe("B", 9, now)
	assert.Empty(t, p.peerState("B", stateLast, []string{"dave"}))
	assert.False(t, p.elsewhere("dave"))
}

func TestPresenceExpiryAndGoodbye(t *testing.T) {
	p := newPresence(time.Time{})
	t0 := time.Now()
	p.observe("B", 1, t0)
	p.peerUp("B", "alice")
	p.observe("C", 1, t0)
	p.peerUp("C", "alice")
	p.peerUp("C", "carol")
	p.up("carol")

	p.observe("B", 2, t0.Add(4*time.Second)) // B keeps beating, C is silent
	dead, cs := p.expire(t0.Add(6*time.Second), 5*time.Second)
	assert.Equal(t, []string{"C"}, dead)
	assert.Empty(t, cs, "alice is still on B, carol here")
	assert.True(t, p.elsewhere("alice"))
	assert.False(t, p.elsewhere("carol"))

	assert.Equal(t, []change{{"alice", false}}, p.drop("B"))
	assert.Empty(t, p.drop("B"))

	// C comes back mid-stream: it was missed, so events may be lost and its set is stale.
	assert.True(t, p.observe("C", 40, t0.Add(7*time.Second)))
	assert.True(t, p.needState("C", t0.Add(7*time.Second), time.Second))
}

func TestPresenceNewNodeMissedNothing(t *testing.T) {
	t0 := time.Now()
	p := newPresence(t0.Add(5 * time.Second))
	assert.False(t, p.observe("B", 70, t0.Add(time.Second)), "B ran before us: nothing of ours was missed")
	assert.True(t, p.needState("B", t0.Add(time.Second), time.Second), "but we need its set")
	assert.True(t, p.observe("C", 9, t0.Add(6*time.Second)), "heard first long after we started: missed")
}
