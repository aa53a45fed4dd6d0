//go:build !js

package core_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/convo-sdk/convo/core"
	"github.com/convo-sdk/convo/server/auth"
	"github.com/convo-sdk/convo/server/servertest"
	"github.com/convo-sdk/convo/wire"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorder keeps the events of one emitter by name, with their payloads.
type recorder struct {
	mu  sync.Mutex
	got []recorded
}

type recorded struct {
	name string
	args []any
}

func (r *recorder) watch(e interface {
	On(string, func(...any)) func()
}, names ...string) {
	for _, n := range names {
		n := n
		e.On(n, func(args ...any) {
			r.mu.Lock()
			r.got = append(r.got, recorded{n, args})
			r.mu.Unlock()
		})
	}
}

func (r *recorder) named(name string) []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []recorded
	for _, e := range r.got {
		if e.name == name {
			out = append(out, e)
		}
	}
	return out
}

// names lists the recorded event names in order.
func (r *recorder) names() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, len(r.got))
	for i, e := range r.got {
		out[i] = e.name
	}
	return out
}

func (r *recorder) waitFor(t *testing.T, name string, n int) []recorded {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d %q events", n, name), func() bool { return len(r.named(name)) >= n })
	return r.named(name)
}

func TestConversationUpdatesReachOtherParticipants(t *testing.T) {
	env := servertest.Start(t)
	ctx := testCtx(t)
	alice, bob := newClient(t, env, "alice", nil), newClient(t, env, "bob", nil)
	a, b := chatRoom(t, alice, bob)
	var onBob, onConv recorder
	onBob.watch(bob, core.EventConversationUpdated)
	onConv.watch(b, core.ConversationEventUpdated)

	name := "renamed"
	require.NoError(t, a.Update(ctx, wire.UpdateConversationArgs{FriendlyName: &name, Attributes: json.RawMessage(`{"topic":"go"}`)}))
	ev := onBob.waitFor(t, core.EventConversationUpdated, 1)[0].args[0].(core.ConversationUpdate)
	assert.Same(t, b, ev.Conversation)
	assert.Subset(t, ev.UpdateReasons, []string{wire.ReasonFriendlyName, wire.ReasonAttributes})
	assert.Equal(t, "renamed", b.FriendlyName())
	assert.JSONEq(t, `{"topic":"go"}`, string(b.AttributesJSON()))
	onConv.waitFor(t, core.ConversationEventUpdated, 1)

	require.NoError(t, b.SetUserNotificationLevel(ctx, wire.NotificationMuted))
	assert.Equal(t, wire.NotificationMuted, b.NotificationLevel())
	assert.Equal(t, wire.NotificationDefault, a.NotificationLevel(), "the level is per user")
	assert.Equal(t, core.CodeClientArgument, wire.CodeOf(b.SetUserNotificationLevel(ctx, "loud")))
}

func TestMessagesAreEditedAndRemovedForEveryone(t *testing.T) {
	env := servertest.Start(t)
	ctx := testCtx(t)
	alice, bob := newClient(t, env, "alice", nil), newClient(t, env, "bob", nil)
	a, b := chatRoom(t, alice, bob)
	var onBob recorder
	onBob.watch(bob, core.EventMessageAdded, core.EventMessageUpdated, core.EventMessageRemoved)
	for _, body := range []string{"one", "two", "three"} {
		_, err := a.SendMessage(ctx, body, nil)
		require.NoError(t, err)
	}
	added := onBob.waitFor(t, core.EventMessageAdded, 3)
	second := added[1].args[0].(*core.Message)

	page, err := a.GetMessages(ctx, 10, nil, "")
	require.NoError(t, err)
	mine := page.Items[1]
	require.NoError(t, mine.UpdateBody(ctx, "two, edited"))
	upd := onBob.waitFor(t, core.EventMessageUpdated, 1)[0].args[0].(core.MessageUpdate)
	assert.Same(t, second, upd.Message, "the update lands on the object bob already holds")
	assert.Contains(t, upd.UpdateReasons, wire.ReasonBody)
	assert.Equal(t, "two, edited", *second.Body())
	assert.Equal(t, "alice", second.LastUpdatedBy())

	// Only the author edits or removes.
	assert.Equal(t, wire.CodeForbidden, wire.CodeOf(second.UpdateBody(ctx, "bob was here")))
	assert.Equal(t, wire.CodeForbidden, wire.CodeOf(second.Remove(ctx)))

	require.NoError(t, mine.Remove(ctx))
	removed := onBob.waitFor(t, core.EventMessageRemoved, 1)[0].args[0].(*core.Message)
	assert.Same(t, second, removed)
	left, err := b.GetMessages(ctx, 10, nil, "")
	require.NoError(t, err)
	assert.Equal(t, []string{"one", "three"}, bodies(left.Items))
	assert.EqualValues(t, []int64{0, 2}, []int64{left.Items[0].Index(), left.Items[1].Index()}, "indexes never move")
}

func TestReadHorizonAndUnreadCounts(t *testing.T) {
	env := servertest.Start(t)
	ctx := testCtx(t)
	alice, bob := newClient(t, env, "alice", nil), newClient(t, env, "bob", nil)
	a, b := chatRoom(t, alice, bob)
	var onAlice recorder
	onAlice.watch(alice, core.EventParticipantUpdated)
	for i := range 5 {
		_, err := a.SendMessage(ctx, fmt.Sprint(i), nil)
		require.NoError(t, err)
	}
	waitFor(t, "bob's copies", func() bool { lm := b.LastMessage(); return lm != nil && lm.Index == 4 })

	unread, err := b.GetUnreadMessagesCount(ctx)
	require.NoError(t, err)
	assert.Nil(t, unread, "no horizon yet")
	assert.Nil(t, b.LastReadMessageIndex())

	two := int64(2)
	n, err := b.SetReadHorizon(ctx, wire.ReadAdvance, &two)
	require.NoError(t, err)
	assert.EqualValues(t, 2, n)
	one := int64(1)
	n, err = b.SetReadHorizon(ctx, wire.ReadAdvance, &one)
	require.NoError(t, err)
	assert.EqualValues(t, 2, n, "advance never moves back")
	assert.EqualValues(t, 2, *b.LastReadMessageIndex())

	// Counting flushes the batched report first, so the server agrees.
	unread, err = b.GetUnreadMessagesCount(ctx)
	require.NoError(t, err)
	require.NotNil(t, unread)
	assert.EqualValues(t, 2, *unread)
	upd := onAlice.waitFor(t, core.EventParticipantUpdated, 1)[0].args[0].(core.ParticipantUpdate)
	assert.Equal(t, "bob", upd.Participant.Identity())
	assert.Contains(t, upd.UpdateReasons, wire.ReasonLastReadMessageIndex)
	assert.EqualValues(t, 2, *upd.Participant.LastReadMessageIndex())

	n, err = b.SetReadHorizon(ctx, wire.ReadAll, nil)
	require.NoError(t, err)
	assert.EqualValues(t, 0, n)
	n, err = b.SetReadHorizon(ctx, wire.ReadNone, nil)
	require.NoError(t, err)
	assert.EqualValues(t, 5, n)
	count, err := b.GetMessagesCount(ctx)
	require.NoError(t, err)
	assert.EqualValues(t, 5, count)
	parts, err := b.GetParticipantsCount(ctx)
	require.NoError(t, err)
	assert.EqualValues(t, 2, parts)
}

func TestShutdownFlushesTheReadHorizon(t *testing.T) {
	env := servertest.Start(t)
	ctx := testCtx(t)
	alice, bob := newClient(t, env, "alice", nil), newClient(t, env, "bob", nil)
	a, b := chatRoom(t, alice, bob)
	for i := range 3 {
		_, err := a.SendMessage(ctx, fmt.Sprint(i), nil)
		require.NoError(t, err)
	}
	waitFor(t, "bob's copies", func() bool { lm := b.LastMessage(); return lm != nil && lm.Index == 2 })
	one := int64(1)
	_, err := b.SetReadHorizon(ctx, wire.ReadSet, &one) // sent at once: the first report
	require.NoError(t, err)
	two := int64(2)
	_, err = b.SetReadHorizon(ctx, wire.ReadSet, &two) // batched: within 5 s of the first
	require.NoError(t, err)
	require.NoError(t, bob.Shutdown(ctx))

	again := newClient(t, env, "bob", nil)
	conv, err := again.GetConversationBySid(ctx, a.Sid())
	require.NoError(t, err)
	require.NotNil(t, conv.LastReadMessageIndex())
	assert.EqualValues(t, 2, *conv.LastReadMessageIndex())
}

// Shutdown waits for a read report already on its way only as long as its ctx allows.
func TestShutdownKeepsToItsDeadlineWhileAReadReportIsOut(t *testing.T) {
	env := servertest.Start(t)
	var d dialer
	alice := startClient(t, env, "alice", &core.Options{Dial: d.dial, Logf: t.Logf})
	bob := newClient(t, env, "bob", nil)
	a, b := chatRoom(t, alice, bob)
	_, err := b.SendMessage(testCtx(t), "x", nil)
	require.NoError(t, err)
	waitFor(t, "alice's copy", func() bool { lm := a.LastMessage(); return lm != nil })
	var once sync.Once
	d.mu.Lock()
	d.onWrite = func(frame []byte, c core.Conn) {
		if strings.Contains(string(frame), `"op":"`+wire.OpConversationRead+`"`) {
			once.Do(func() { time.Sleep(3 * time.Second) }) // the report's reply is slow to come
		}
	}
	d.mu.Unlock()
	zero := int64(0)
	_, err = a.SetReadHorizon(testCtx(t), wire.ReadSet, &zero) // its report goes out at once
	require.NoError(t, err)
	time.Sleep(200 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_ = alice.Shutdown(ctx)
	assert.Less(t, time.Since(start), 2*time.Second, "Shutdown outlived its 500 ms deadline")
}

func TestTypingStartsPerSignalAndEndsOnTheirMessage(t *testing.T) {
	env := servertest.Start(t)
	ctx := testCtx(t)
	alice, bob := newClient(t, env, "alice", nil), newClient(t, env, "bob", nil)
	a, _ := chatRoom(t, alice, bob)
	var onBob recorder
	onBob.watch(bob, core.EventTypingStarted, core.EventTypingEnded)

	require.NoError(t, a.Typing(ctx))
	p := onBob.waitFor(t, core.EventTypingStarted, 1)[0].args[0].(*core.Participant)
	assert.Equal(t, "alice", p.Identity())
	assert.True(t, p.IsTyping())
	require.NoError(t, a.Typing(ctx)) // throttled: no second signal within 5 s
	_, err := a.SendMessage(ctx, "done typing", nil)
	require.NoError(t, err)
	onBob.waitFor(t, core.EventTypingEnded, 1)
	assert.False(t, p.IsTyping())
	time.Sleep(200 * time.Millisecond)
	assert.Len(t, onBob.named(core.EventTypingStarted), 1, "the throttled call sent nothing")
	assert.Empty(t, bob.Listeners("x"))
}

func TestTypingEndsAfterSilence(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out the 6 s typing timeout")
	}
	env := servertest.Start(t)
	ctx := testCtx(t)
	alice, bob := newClient(t, env, "alice", nil), newClient(t, env, "bob", nil)
	a, _ := chatRoom(t, alice, bob)
	var onBob recorder
	onBob.watch(bob, core.EventTypingStarted, core.EventTypingEnded)
	require.NoError(t, a.Typing(ctx))
	start := time.Now()
	onBob.waitFor(t, core.EventTypingStarted, 1)
	onBob.waitFor(t, core.EventTypingEnded, 1)
	assert.GreaterOrEqual(t, time.Since(start), wire.TypingTimeout-500*time.Millisecond)
}

func TestLeaveRemoveAndDelete(t *testing.T) {
	env := servertest.Start(t)
	ctx := testCtx(t)
	alice, bob := newClient(t, env, "alice", nil), newClient(t, env, "bob", nil)
	a, b := chatRoom(t, alice, bob)
	_, err := a.SendMessage(ctx, "before leaving", nil)
	require.NoError(t, err)
	_, err = b.GetParticipants(ctx)
	require.NoError(t, err)
	waitFor(t, "bob to hold the message", func() bool {
		p, err := b.GetMessages(ctx, 0, nil, "")
		return err == nil && len(p.Items) == 1
	})
	var onAlice, onBob recorder
	onAlice.watch(alice, core.EventParticipantLeft, core.EventParticipantJoined)
	onBob.watch(bob, core.EventConversationLeft, core.EventConversationRemoved, core.EventConversationJoined,
		core.EventConversationAdded, core.EventConversationUpdated, core.EventParticipantLeft)

	require.NoError(t, b.Leave(ctx))
	onBob.waitFor(t, core.EventConversationRemoved, 1)
	assert.Equal(t, []string{core.EventConversationLeft, core.EventConversationRemoved}, onBob.names(),
		"leaving: left, then removed; no conversationUpdated, no participantLeft for oneself")
	assert.Equal(t, core.StatusNotParticipating, b.Status())
	left := onAlice.waitFor(t, core.EventParticipantLeft, 1)[0].args[0].(*core.Participant)
	assert.Equal(t, "bob", left.Identity())
	// Reads answer from what bob held; the server is not asked.
	held, err := b.GetParticipants(ctx)
	require.NoError(t, err)
	assert.Len(t, held, 2)
	page, err := b.GetMessages(ctx, 0, nil, "")
	require.NoError(t, err)
	assert.Equal(t, []string{"before leaving"}, bodies(page.Items))
	_, err = b.SendMessage(ctx, "after leaving", nil)
	assert.Equal(t, wire.CodeForbidden, wire.CodeOf(err))
	_, err = b.SetReadHorizon(ctx, wire.ReadAll, nil)
	assert.Equal(t, wire.CodeForbidden, wire.CodeOf(err), "the read horizon of a left conversation does not move")
	require.NoError(t, b.Leave(ctx), "leaving again does nothing")

	require.NoError(t, a.Add(ctx, "bob", nil))
	joined := onBob.waitFor(t, core.EventConversationJoined, 1)[0].args[0].(*core.Conversation)
	assert.NotSame(t, b, joined, "a conversation joined again is a new object, as with the vendor")
	assert.Equal(t, core.StatusJoined, joined.Status())
	b = joined
	assert.Equal(t, wire.CodeForbidden, wire.CodeOf(b.Delete(ctx)), "only the creator deletes")
	require.NoError(t, a.RemoveParticipant(ctx, "bob"))
	onBob.waitFor(t, core.EventConversationRemoved, 2)
	assert.Len(t, onBob.named(core.EventConversationLeft), 2)

	require.NoError(t, a.Add(ctx, "bob", nil))
	b = onBob.waitFor(t, core.EventConversationJoined, 2)[1].args[0].(*core.Conversation)
	require.NoError(t, a.Delete(ctx))
	removed := onBob.waitFor(t, core.EventConversationRemoved, 3)[2].args[0].(*core.Conversation)
	assert.Same(t, b, removed)
	assert.Len(t, onBob.named(core.EventConversationLeft), 3, "a deleted conversation is left first")
	assert.Empty(t, onBob.named(core.EventConversationUpdated))
	assert.Empty(t, onBob.named(core.EventParticipantLeft))
	_, err = bob.GetConversationBySid(ctx, a.Sid())
	assert.Equal(t, wire.CodeNotFound, wire.CodeOf(err))
}

func TestUsersReachabilityAndUpdates(t *testing.T) {
	env := servertest.Start(t)
	ctx := testCtx(t)
	alice, bob := newClient(t, env, "alice", nil), newClient(t, env, "bob", nil)
	var onBob recorder
	onBob.watch(bob, core.EventUserUpdated, core.EventUserSubscribed, core.EventUserUnsubscribed)

	u, err := bob.GetUser(ctx, "alice")
	require.NoError(t, err)
	assert.True(t, u.IsOnline())
	assert.True(t, u.IsSubscribed())
	again, err := bob.GetUser(ctx, "alice")
	require.NoError(t, err)
	assert.Same(t, u, again)
	onBob.waitFor(t, core.EventUserSubscribed, 1)

	require.NoError(t, alice.User().UpdateFriendlyName(ctx, "Alice A."))
	upd := onBob.waitFor(t, core.EventUserUpdated, 1)[0].args[0].(core.UserUpdate)
	assert.Same(t, u, upd.User)
	assert.Contains(t, upd.UpdateReasons, wire.ReasonFriendlyName)
	assert.Equal(t, "Alice A.", u.FriendlyName())
	assert.Equal(t, wire.CodeForbidden, wire.CodeOf(u.UpdateFriendlyName(ctx, "not mine")))

	require.NoError(t, alice.Shutdown(ctx))
	waitFor(t, "alice offline", func() bool { return !u.IsOnline() })

	subs, err := bob.GetSubscribedUsers(ctx)
	require.NoError(t, err)
	assert.Equal(t, []*core.User{u}, subs)
	require.NoError(t, u.Unsubscribe(ctx))
	onBob.waitFor(t, core.EventUserUnsubscribed, 1)
	assert.False(t, u.IsSubscribed())
}

func TestMediaMessagesUploadAndServeTheirContent(t *testing.T) {
	env := servertest.Start(t)
	ctx := testCtx(t)
	alice, bob := newClient(t, env, "alice", nil), newClient(t, env, "bob", nil)
	a, b := chatRoom(t, alice, bob)
	var onBob recorder
	onBob.watch(bob, core.EventMessageAdded)

	var progress []int64
	picture := []byte("\x89PNG pretend image bytes")
	index, err := a.PrepareMessage().SetBody("look").
		AddMedia(core.MediaUpload{ContentType: "image/png", Filename: "../../etc/cat.png", Data: picture}).
		BuildAndSend(ctx, func(sent, total int64) { progress = append(progress, sent) })
	require.NoError(t, err)
	assert.EqualValues(t, 0, index)
	assert.NotEmpty(t, progress)
	assert.EqualValues(t, len(picture), progress[len(progress)-1])

	m := onBob.waitFor(t, core.EventMessageAdded, 1)[0].args[0].(*core.Message)
	media := m.AttachedMedia()
	require.Len(t, media, 1)
	assert.Equal(t, "image/png", media[0].ContentType())
	assert.Equal(t, "cat.png", media[0].Filename(), "path components are stripped")
	assert.EqualValues(t, len(picture), media[0].Size())
	assert.Equal(t, wire.MediaCategoryMedia, media[0].Category())

	url, err := media[0].GetContentTemporaryURL(ctx)
	require.NoError(t, err)
	res, err := http.Get(url)
	require.NoError(t, err)
	got, _ := io.ReadAll(res.Body)
	res.Body.Close()
	assert.Equal(t, 200, res.StatusCode)
	assert.Equal(t, picture, got)
	_ = b
}

func TestTokenWarningsAndRenewal(t *testing.T) {
	env := servertest.Start(t)
	ctx := testCtx(t)
	short, err := auth.Mint(env.Key, "alice", 3*time.Second, env.URL)
	require.NoError(t, err)
	c := core.New(short, &core.Options{DeferStart: true, Logf: t.Logf, BackoffMin: 20 * time.Millisecond, BackoffMax: 100 * time.Millisecond})
	t.Cleanup(func() { c.Shutdown(context.Background()) })
	var events recorder
	events.watch(c, core.EventTokenAboutToExpire, core.EventTokenExpired, core.EventConnectionStateChanged)
	c.Start()
	require.NoError(t, c.WaitInitialized(ctx))

	// A 3 s token is warned at half its life, before it expires.
	about := events.waitFor(t, core.EventTokenAboutToExpire, 1)[0].args[0].(time.Duration)
	assert.Greater(t, about, time.Duration(0))
	events.waitFor(t, core.EventTokenExpired, 1)
	waitFor(t, "denied", func() bool { return c.ConnectionState() == core.StateDenied })

	// A new token brings it back.
	require.NoError(t, c.UpdateToken(ctx, env.Token("alice", time.Hour)))
	waitFor(t, "connected again", func() bool { return c.ConnectionState() == core.StateConnected })
	assert.Equal(t, wire.CodeTokenIdentity, wire.CodeOf(c.UpdateToken(ctx, env.Token("mallory", time.Hour))))

	// On a live connection the swap keeps the connection.
	states := len(events.named(core.EventConnectionStateChanged))
	require.NoError(t, c.UpdateToken(ctx, env.Token("alice", 2*time.Hour)))
	_, err = c.CreateConversation(ctx, core.CreateConversationOptions{})
	require.NoError(t, err)
	assert.Len(t, events.named(core.EventConnectionStateChanged), states, "no reconnect")
}

func TestSendsWhileOfflineGoOutInOrder(t *testing.T) {
	env := servertest.Start(t)
	ctx := testCtx(t)
	var d dialer
	alice, bob := newClient(t, env, "alice", &d), newClient(t, env, "bob", nil)
	bobSaw := messageLog(bob)
	a, _ := chatRoom(t, alice, bob)

	d.setRefuse(true)
	d.cut()
	waitFor(t, "alice offline", func() bool { return alice.ConnectionState() == core.StateConnecting })
	var wg sync.WaitGroup
	results := make([]int64, 5)
	for i := range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			idx, err := a.SendMessage(ctx, fmt.Sprintf("offline%d", i), nil)
			assert.NoError(t, err)
			results[i] = idx
		}()
		time.Sleep(20 * time.Millisecond) // fixes the order in which they were made
	}
	// The sends wait, and so do the stream's events behind them; the client's own news does not.
	var news recorder
	news.watch(alice, core.EventConnectionError, core.EventConnectionStateChanged)
	news.waitFor(t, core.EventConnectionError, 2)
	d.setRefuse(false)
	alice.NetworkOnline()
	news.waitFor(t, core.EventConnectionStateChanged, 1)
	wg.Wait()
	assert.Equal(t, []int64{0, 1, 2, 3, 4}, results)
	waitFor(t, "bob to get them", func() bool { return len(bobSaw.snapshot()) == 5 })
	assert.Equal(t, []string{"offline0", "offline1", "offline2", "offline3", "offline4"}, bobSaw.snapshot())
}

func TestPushRegistrationMakesTheUserNotifiable(t *testing.T) {
	env := servertest.Start(t)
	ctx := testCtx(t)
	alice := newClient(t, env, "alice", nil)
	assert.False(t, alice.User().IsNotifiable())
	require.NoError(t, alice.SetPushRegistrationID(ctx, wire.PushFCM, "device-token-1"))
	waitFor(t, "notifiable", func() bool { return alice.User().IsNotifiable() })
	require.NoError(t, alice.UnsetPushRegistrationID(ctx, wire.PushFCM))
	waitFor(t, "not notifiable", func() bool { return !alice.User().IsNotifiable() })
	assert.Equal(t, core.CodeClientArgument, wire.CodeOf(alice.SetPushRegistrationID(ctx, "pigeon", "x")))
}

func TestStartUpInitialisesThenAnnouncesEachConversationAddedThenJoined(t *testing.T) {
	env := servertest.Start(t)
	ctx := testCtx(t)
	alice := newClient(t, env, "alice", nil)
	for _, name := range []string{"one", "two"} {
		conv, err := alice.CreateConversation(ctx, core.CreateConversationOptions{FriendlyName: name})
		require.NoError(t, err)
		require.NoError(t, conv.Join(ctx))
		require.NoError(t, conv.Add(ctx, "bob", nil)) // bob is offline
	}

	bob := core.New(env.Token("bob", time.Hour), &core.Options{DeferStart: true, Logf: t.Logf})
	t.Cleanup(func() { _ = bob.Shutdown(context.Background()) })
	var seen recorder
	var own recorder
	own.watch(bob, core.EventUserUpdated, core.EventUserSubscribed, core.EventInitialized)
	seen.watch(bob, core.EventConversationAdded, core.EventConversationJoined, core.EventInitialized)
	bob.Start()
	require.NoError(t, bob.WaitInitialized(ctx))
	seen.waitFor(t, core.EventConversationJoined, 2)
	assert.Equal(t, core.EventInitialized, seen.names()[0], "initialized first, then the conversations")
	assert.Equal(t, []string{core.EventUserUpdated, core.EventUserSubscribed, core.EventInitialized}, own.names(),
		"the own user's record, then initialized")
	upd := own.named(core.EventUserUpdated)[0].args[0].(core.UserUpdate)
	assert.Equal(t, []string{wire.ReasonReachabilityOnline}, upd.UpdateReasons)
	assert.Same(t, bob.User(), upd.User)
	var got []string
	for _, r := range seen.got {
		if r.name == core.EventInitialized {
			continue
		}
		got = append(got, r.name+" "+r.args[0].(*core.Conversation).FriendlyName())
	}
	assert.ElementsMatch(t, []string{"conversationAdded one", "conversationJoined one", "conversationAdded two", "conversationJoined two"}, got)
	for i := 0; i+1 < len(got); i += 2 {
		assert.Equal(t, strings.Replace(got[i], "Added", "Joined", 1), got[i+1], "each conversation: added, then joined")
	}
}
