//go:build !js

package core_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/convo-sdk/convo/core"
	"github.com/convo-sdk/convo/server/servertest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// gatedStore holds every Apply while the gate is shut, and counts the snapshots written:
// each one ends with the batch that writes the stream position (state/pos).
type gatedStore struct {
	core.LocalStore
	mu        sync.Mutex
	open      chan struct{}
	shut      bool
	snapshots int
}

func (s *gatedStore) shutGate() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.open, s.shut = make(chan struct{}), true
}

func (s *gatedStore) openGate() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shut {
		close(s.open)
		s.shut = false
	}
}

func (s *gatedStore) Apply(batch []core.StoreChange) error {
	s.mu.Lock()
	open := s.open
	s.mu.Unlock()
	if open != nil {
		<-open
	}
	err := s.LocalStore.Apply(batch)
	s.mu.Lock()
	for _, ch := range batch {
		if ch.Bucket == "state" && ch.Key == "pos" {
			s.snapshots++
		}
	}
	s.mu.Unlock()
	return err
}

func (s *gatedStore) snapshotCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.snapshots
}

// A store slower than the changes gets one snapshot after the write in progress, not one
// per PersistDelay that passed meanwhile (each a copy of every conversation), and that one
// snapshot carries everything: a client started from the store offline has every message.
func TestAStoreSlowerThanTheChangesGetsOneSnapshotAfterTheWriteInProgress(t *testing.T) {
	env := servertest.Start(t)
	ctx := testCtx(t)
	dir := t.TempDir()
	disk, err := core.OpenDiskStore(dir, core.StoreScope{Server: env.URL, Identity: "alice"}, t.Logf)
	require.NoError(t, err)
	st := &gatedStore{LocalStore: disk}
	alice := startClient(t, env, "alice", &core.Options{Store: st, Logf: t.Logf})
	bob := newClient(t, env, "bob", nil)
	a, b := chatRoom(t, alice, bob)
	waitFor(t, "the first snapshot", func() bool { return st.snapshotCount() > 0 })

	st.shutGate()
	before := st.snapshotCount()
	_, err = b.SendMessage(ctx, "while the store is slow 0", nil)
	require.NoError(t, err)
	waitFor(t, "alice to get it", func() bool { l := a.LastMessage(); return l != nil && l.Index == 0 })
	// The flush of that message is now held in Apply. Every further message schedules a
	// flush while it is.
	const n = 8
	for i := 1; i <= n; i++ {
		_, err := b.SendMessage(ctx, fmt.Sprintf("while the store is slow %d", i), nil)
		require.NoError(t, err)
		waitFor(t, "alice to get it", func() bool { l := a.LastMessage(); return l != nil && l.Index == int64(i) })
		time.Sleep(core.PersistDelay + 50*time.Millisecond) // one flush per message falls due
	}
	st.openGate()
	waitFor(t, "the store to catch up", func() bool {
		keys := 0
		_ = st.Scan("msg", func(string, []byte) error { keys++; return nil })
		return keys == n+1
	})
	time.Sleep(2 * core.PersistDelay) // any further snapshot would be written by now
	assert.LessOrEqual(t, st.snapshotCount()-before, 2, "the held write and one snapshot after it")

	// Shutdown during a held write still stores the newest state.
	st.shutGate()
	_, err = b.SendMessage(ctx, "the last one", nil)
	require.NoError(t, err)
	waitFor(t, "alice to get it", func() bool { l := a.LastMessage(); return l != nil && l.Index == n+1 })
	time.Sleep(core.PersistDelay + 50*time.Millisecond) // its flush is held
	_, err = b.SendMessage(ctx, "after the held flush", nil)
	require.NoError(t, err)
	waitFor(t, "alice to get it", func() bool { l := a.LastMessage(); return l != nil && l.Index == n+2 })
	go func() { time.Sleep(core.PersistDelay); st.openGate() }()
	shutDownAndClose(t, alice, st)

	again, err := core.OpenDiskStore(dir, core.StoreScope{Server: env.URL, Identity: "alice"}, t.Logf)
	require.NoError(t, err)
	keys := 0
	require.NoError(t, again.Scan("msg", func(string, []byte) error { keys++; return nil }))
	assert.Equal(t, n+3, keys, "every message alice had when she shut down is stored")
	require.NoError(t, again.Close())
}
