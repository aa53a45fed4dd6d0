package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/server/store/storetest"
)

// TestStore runs the behaviour suite every store passes; the package's other tests are about
// this store's own files and tables.
func TestStore(t *testing.T) {
	dir := t.TempDir()
	storetest.Run(t, func(t *testing.T, o storetest.Options) store.Store {
		return open(t, filepath.Join(dir, o.Database+".db"), Options{Retention: o.Retention})
	})
}

func open(t *testing.T, path string, opts Options) *Store {
	t.Helper()
	s, err := Open(path, opts)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// setup creates a conversation with the given participants.
func setup(t *testing.T, s *Store, members ...string) string {
	ctx := ctxT(t)
	c, err := s.CreateConversation(ctx, store.NewConversation{FriendlyName: "room", CreatedBy: members[0]})
	require.NoError(t, err)
	for _, m := range members {
		_, _, err := s.AddParticipant(ctx, store.NewParticipant{ConversationSid: c.Sid, Identity: m})
		require.NoError(t, err)
	}
	return c.Sid
}
