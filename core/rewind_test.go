//go:build !js

package core_test

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/convo-sdk/convo/core"
	"github.com/convo-sdk/convo/server/servertest"
	"github.com/convo-sdk/convo/wire"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sendAll sends the bodies through from, in order.
func sendAll(t *testing.T, from *core.Conversation, bodies ...string) {
	t.Helper()
	for _, body := range bodies {
		_, err := from.SendMessage(testCtx(t), body, nil)
		require.NoError(t, err)
	}
}

func numbered(prefix string, from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, fmt.Sprintf("%s%d", prefix, i))
	}
	return out
}

// messageBodies are the bodies of the messages carried by recorded events.
func messageBodies(evs []recorded) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = *e.args[0].(*core.Message).Body()
	}
	return out
}

// backup takes a backup of env's store, as convoctl backup has the server do.
func backup(t *testing.T, env *servertest.Env) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "backup.db")
	require.NoError(t, env.Store.Backup(testCtx(t), path))
	return path
}

// assertCacheIsTheServers checks that conv's cached messages are the server's, sid for sid.
func assertCacheIsTheServers(t *testing.T, env *servertest.Env, conv *core.Conversation, want []string) {
	t.Helper()
	var page wire.MessagePage
	env.Admin(t).Do(http.MethodGet, "/conversations/"+conv.Sid()+"/messages?pageSize=100", nil, &page)
	var server []string
	for _, m := range page.Items {
		server = append(server, fmt.Sprintf("%d %s %s", m.Index, m.Sid, *m.Body))
	}
	var cached []string
	for _, m := range core.CachedMessages(conv) {
		cached = append(cached, fmt.Sprintf("%d %s %s", m.Index(), m.Sid(), *m.Body()))
	}
	assert.Equal(t, server, cached)
	assert.Equal(t, want, bodies(core.CachedMessages(conv)))
	require.NotNil(t, conv.LastMessage())
	assert.Equal(t, page.Items[len(page.Items)-1].Index, conv.LastMessage().Index)
}

// After a restore the messages sent after the backup point are gone and new ones take their
// indexes. A client that had seen the lost ones removes them and announces the new ones.
func TestResyncAfterARestoreReplacesTheLostMessagesByTheNewOnes(t *testing.T) {
	env := servertest.Start(t)
	var d dialer
	alice, bob := newClient(t, env, "alice", &d), newClient(t, env, "bob", nil)
	a, b := chatRoom(t, alice, bob)
	var saw recorder
	saw.watch(alice, core.EventMessageAdded, core.EventMessageRemoved)
	var inConv recorder
	inConv.watch(a, core.ConversationEventMessageRemoved)

	sendAll(t, b, numbered("m", 0, 4)...)
	saw.waitFor(t, core.EventMessageAdded, 5)
	path := backup(t, env)
	sendAll(t, b, numbered("m", 5, 7)...)
	added := saw.waitFor(t, core.EventMessageAdded, 8)
	lost := added[5:]

	// Alice stays away until the new messages have taken the lost ones' indexes.
	d.setRefuse(true)
	d.cut()
	env.RestartWith(path)
	sendAll(t, b, "n5", "n6")
	d.setRefuse(false)
	alice.NetworkOnline()

	removed := saw.waitFor(t, core.EventMessageRemoved, 3)
	added = saw.waitFor(t, core.EventMessageAdded, 10)
	assert.Equal(t, numbered("m", 5, 7), messageBodies(removed))
	for i, e := range removed {
		assert.Same(t, lost[i].args[0], e.args[0], "the removed message is the object that was added")
	}
	assert.Equal(t, []string{"n5", "n6"}, messageBodies(added[8:]))
	assert.Equal(t, messageBodies(removed), messageBodies(inConv.named(core.ConversationEventMessageRemoved)))
	names := saw.names()
	assert.Equal(t, []string{"messageRemoved", "messageRemoved", "messageRemoved", "messageAdded", "messageAdded"}, names[8:],
		"the removals, then the new messages")
	assertCacheIsTheServers(t, env, a, append(numbered("m", 0, 4), "n5", "n6"))

	// Live again, and the next message is news once.
	sendAll(t, b, "live")
	saw.waitFor(t, core.EventMessageAdded, 11)
	assertCacheIsTheServers(t, env, a, append(numbered("m", 0, 4), "n5", "n6", "live"))
}

// A restore to fewer messages than the client saw, with none sent since: the ones past the
// server's last are removed, and the read horizon is the server's again.
func TestResyncAfterARestoreToFewerMessagesRemovesTheLostOnes(t *testing.T) {
	env := servertest.Start(t)
	ctx := testCtx(t)
	var d dialer
	alice, bob := newClient(t, env, "alice", &d), newClient(t, env, "bob", nil)
	a, b := chatRoom(t, alice, bob)
	var saw recorder
	saw.watch(alice, core.EventMessageAdded, core.EventMessageRemoved)

	sendAll(t, b, numbered("m", 0, 2)...)
	saw.waitFor(t, core.EventMessageAdded, 3)
	one := int64(1)
	_, err := a.SetReadHorizon(ctx, core.ReadSet, &one)
	require.NoError(t, err)
	_, err = a.GetUnreadMessagesCount(ctx) // the horizon reached the server
	require.NoError(t, err)
	path := backup(t, env)
	sendAll(t, b, numbered("m", 3, 5)...)
	saw.waitFor(t, core.EventMessageAdded, 6)

	d.setRefuse(true)
	d.cut()
	env.RestartWith(path)
	d.setRefuse(false)
	alice.NetworkOnline()

	removed := saw.waitFor(t, core.EventMessageRemoved, 3)
	assert.Equal(t, numbered("m", 3, 5), messageBodies(removed))
	assert.Len(t, saw.named(core.EventMessageAdded), 6, "nothing new announced")
	assertCacheIsTheServers(t, env, a, numbered("m", 0, 2))
	require.NotNil(t, a.LastReadMessageIndex())
	assert.EqualValues(t, 1, *a.LastReadMessageIndex(), "the server's read horizon")
	unread, err := a.GetUnreadMessagesCount(ctx)
	require.NoError(t, err)
	require.NotNil(t, unread)
	assert.EqualValues(t, 1, *unread)

	sendAll(t, b, "m3 again")
	added := saw.waitFor(t, core.EventMessageAdded, 7)
	assert.Equal(t, "m3 again", *added[6].args[0].(*core.Message).Body())
	assertCacheIsTheServers(t, env, a, append(numbered("m", 0, 2), "m3 again"))
}

// A resync where nothing went back costs what it did before rewinds were checked: no page
// when no message is new, one page for a few missed messages, and no removal.
func TestAResyncWithoutARewindReadsOnlyTheMissedPages(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Retention: 2})
	ctx := testCtx(t)
	var d dialer
	var pages atomic.Int64
	d.onWrite = func(frame []byte, _ core.Conn) {
		if strings.Contains(string(frame), `"op":"`+wire.OpMessageList+`"`) {
			pages.Add(1)
		}
	}
	alice, bob := newClient(t, env, "alice", &d), newClient(t, env, "bob", nil)
	a, b := chatRoom(t, alice, bob)
	var saw recorder
	saw.watch(alice, core.EventMessageAdded, core.EventMessageRemoved)
	sendAll(t, b, numbered("m", 0, 2)...)
	saw.waitFor(t, core.EventMessageAdded, 3)

	// Away while the conversation is renamed more often than the server keeps events.
	d.setRefuse(true)
	d.cut()
	waitFor(t, "alice offline", func() bool { return alice.ConnectionState() == core.StateConnecting })
	for i := range 3 {
		name := fmt.Sprintf("room %d", i)
		require.NoError(t, b.Update(ctx, core.UpdateConversationOptions{FriendlyName: &name}))
	}
	pages.Store(0)
	d.setRefuse(false)
	alice.NetworkOnline()
	waitFor(t, "the rename", func() bool { return a.FriendlyName() == "room 2" })
	// Live events wait behind the resync: once this one is seen, the resync is over.
	sendAll(t, b, "live0")
	saw.waitFor(t, core.EventMessageAdded, 4)
	assert.Zero(t, pages.Load(), "no page read when no message is new")

	d.setRefuse(true)
	d.cut()
	waitFor(t, "alice offline", func() bool { return alice.ConnectionState() == core.StateConnecting })
	sendAll(t, b, numbered("missed", 0, 4)...)
	pages.Store(0)
	d.setRefuse(false)
	alice.NetworkOnline()
	saw.waitFor(t, core.EventMessageAdded, 9)
	assert.EqualValues(t, 1, pages.Load(), "one page for the missed messages")
	sendAll(t, b, "live1")
	added := saw.waitFor(t, core.EventMessageAdded, 10)
	assert.Equal(t, append(append(numbered("m", 0, 2), "live0"), append(numbered("missed", 0, 4), "live1")...), messageBodies(added))
	assert.Empty(t, saw.named(core.EventMessageRemoved))
	assertCacheIsTheServers(t, env, a, messageBodies(added))
}

// The same restore with the client back before the new messages: the resync removes the
// lost ones, and the new ones at their indexes arrive live as news.
func TestAfterARestoreNewMessagesAtTheLostIndexesArriveLive(t *testing.T) {
	env := servertest.Start(t)
	alice, bob := newClient(t, env, "alice", nil), newClient(t, env, "bob", nil)
	a, b := chatRoom(t, alice, bob)
	var saw recorder
	saw.watch(alice, core.EventMessageAdded, core.EventMessageRemoved)

	sendAll(t, b, numbered("m", 0, 4)...)
	saw.waitFor(t, core.EventMessageAdded, 5)
	path := backup(t, env)
	sendAll(t, b, numbered("m", 5, 7)...)
	saw.waitFor(t, core.EventMessageAdded, 8)

	env.RestartWith(path)
	assert.Equal(t, numbered("m", 5, 7), messageBodies(saw.waitFor(t, core.EventMessageRemoved, 3)))
	assertCacheIsTheServers(t, env, a, numbered("m", 0, 4))
	sendAll(t, b, "n5", "n6")
	added := saw.waitFor(t, core.EventMessageAdded, 10)
	assert.Equal(t, []string{"n5", "n6"}, messageBodies(added[8:]))
	assertCacheIsTheServers(t, env, a, append(numbered("m", 0, 4), "n5", "n6"))
}

// The message at the newest index the client knows was deleted while the client was away
// for longer than the server keeps events: the resync finds it gone and removes it too.
func TestResyncRemovesTheNewestKnownMessageDeletedWhileAway(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Retention: 2})
	var d dialer
	alice, bob := newClient(t, env, "alice", &d), newClient(t, env, "bob", nil)
	a, b := chatRoom(t, alice, bob)
	var saw recorder
	saw.watch(alice, core.EventMessageAdded, core.EventMessageRemoved)
	sendAll(t, b, numbered("m", 0, 2)...)
	saw.waitFor(t, core.EventMessageAdded, 3)
	var bobSaw []*core.Message
	waitFor(t, "bob's copy of m2", func() bool {
		bobSaw = core.CachedMessages(b)
		return len(bobSaw) == 3
	})

	d.setRefuse(true)
	d.cut()
	waitFor(t, "alice offline", func() bool { return alice.ConnectionState() == core.StateConnecting })
	require.NoError(t, bobSaw[2].Remove(testCtx(t)))
	sendAll(t, b, numbered("m", 3, 5)...)
	d.setRefuse(false)
	alice.NetworkOnline()

	removed := saw.waitFor(t, core.EventMessageRemoved, 1)
	assert.Equal(t, []string{"m2"}, messageBodies(removed))
	added := saw.waitFor(t, core.EventMessageAdded, 6)
	assert.Equal(t, numbered("m", 3, 5), messageBodies(added[3:]))
	assertCacheIsTheServers(t, env, a, []string{"m0", "m1", "m3", "m4", "m5"})
}
