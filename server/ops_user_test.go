package server_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/server/auth"
	"github.com/convo-sdk/convo/server/servertest"
	"github.com/convo-sdk/convo/wire"
)

func userSignal(t *testing.T, c *servertest.Client) wire.UserUpdatedSignal {
	t.Helper()
	f, err := c.NextSignal(ctxT(t))
	require.NoError(t, err)
	require.Equal(t, wire.SignalUserUpdated, f.Event)
	return decode[wire.UserUpdatedSignal](t, f)
}

// quiet checks that no signal is pending on c after a round trip.
func quiet(t *testing.T, c *servertest.Client) {
	t.Helper()
	require.NoError(t, c.Call(ctxT(t), wire.OpConversationList, wire.ListArgs{}, nil))
	assert.Empty(t, c.Signals)
}

func TestUserSubscribeAndUpdate(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t)
	alice := env.Connect(ctx, "alice")
	bob := env.Connect(ctx, "bob")
	carol := env.Connect(ctx, "carol")
	assert.True(t, alice.Welcome.User.IsOnline)
	assert.False(t, alice.Welcome.User.IsNotifiable)

	assert.Equal(t, wire.CodeNotFound, code(t, bob.Call(ctx, wire.OpUserSubscribe, wire.UserRef{Identity: "nobody"}, nil)))
	assert.Equal(t, wire.CodeBadRequest, code(t, bob.Call(ctx, wire.OpUserSubscribe, wire.UserRef{}, nil)))
	var u wire.User
	require.NoError(t, bob.Call(ctx, wire.OpUserSubscribe, wire.UserRef{Identity: "alice"}, &u))
	assert.Equal(t, wire.User{Identity: "alice", Attributes: wire.RawJSON(`{}`), IsOnline: true}, u)

	// user.update changes only the caller's own record.
	assert.Equal(t, wire.CodeTooLarge, code(t, alice.Call(ctx, wire.OpUserUpdate, wire.UpdateUserArgs{FriendlyName: str(string(repeat('n', 257)))}, nil)))
	assert.Equal(t, wire.CodeTooLarge, code(t, alice.Call(ctx, wire.OpUserUpdate, wire.UpdateUserArgs{
		Attributes: wire.RawJSON(`{"x":"` + string(repeat('a', wire.MaxUserAttrsBytes)) + `"}`)}, nil)))
	require.NoError(t, alice.Call(ctx, wire.OpUserUpdate, wire.UpdateUserArgs{FriendlyName: str("Alice"), Attributes: wire.RawJSON(`{"a":1}`)}, &u))
	assert.Equal(t, "Alice", u.FriendlyName)
	for _, c := range []*servertest.Client{bob, alice} {
		s := userSignal(t, c)
		assert.Equal(t, []string{wire.ReasonFriendlyName, wire.ReasonAttributes}, s.UpdateReasons)
		assert.Equal(t, "Alice", s.User.FriendlyName)
		assert.JSONEq(t, `{"a":1}`, string(s.User.Attributes))
		assert.True(t, s.User.IsOnline)
	}
	quiet(t, carol)

	// After unsubscribing bob hears nothing more.
	require.NoError(t, bob.Call(ctx, wire.OpUserUnsubscribe, wire.UserRef{Identity: "alice"}, nil))
	require.NoError(t, alice.Call(ctx, wire.OpUserUpdate, wire.UpdateUserArgs{FriendlyName: str("A.")}, nil))
	assert.Equal(t, []string{wire.ReasonFriendlyName}, userSignal(t, alice).UpdateReasons)
	quiet(t, bob)
	// Unchanged: no signal.
	require.NoError(t, alice.Call(ctx, wire.OpUserUpdate, wire.UpdateUserArgs{FriendlyName: str("A.")}, nil))
	quiet(t, alice)
}

func TestReachability(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t)
	bob := env.Connect(ctx, "bob")
	_, err := env.Store.EnsureUser(ctx, "alice")
	require.NoError(t, err)
	var u wire.User
	require.NoError(t, bob.Call(ctx, wire.OpUserSubscribe, wire.UserRef{Identity: "alice"}, &u))
	assert.False(t, u.IsOnline)

	a1 := env.Connect(ctx, "alice")
	s := userSignal(t, bob)
	assert.Equal(t, []string{wire.ReasonReachabilityOnline}, s.UpdateReasons)
	assert.True(t, s.User.IsOnline)
	a2 := env.Connect(ctx, "alice") // still online: no transition
	quiet(t, bob)
	quiet(t, a1)
	a1.Close()
	quiet(t, bob)
	a2.Close()
	s = userSignal(t, bob)
	assert.Equal(t, []string{wire.ReasonReachabilityOnline}, s.UpdateReasons)
	assert.False(t, s.User.IsOnline)

	// Notifiable while a push registration exists; the user's own connections hear it too.
	a3 := env.Connect(ctx, "alice")
	assert.True(t, userSignal(t, bob).User.IsOnline)
	assert.Equal(t, wire.CodeBadRequest, code(t, a3.Call(ctx, wire.OpPushRegister, wire.PushRegistrationArgs{ChannelType: "sms", RegistrationID: "x"}, nil)))
	assert.Equal(t, wire.CodeBadRequest, code(t, a3.Call(ctx, wire.OpPushRegister, wire.PushRegistrationArgs{ChannelType: wire.PushFCM}, nil)))
	require.NoError(t, a3.Call(ctx, wire.OpPushRegister, wire.PushRegistrationArgs{ChannelType: wire.PushFCM, RegistrationID: "dev1"}, nil))
	for _, c := range []*servertest.Client{bob, a3} {
		s = userSignal(t, c)
		assert.Equal(t, []string{wire.ReasonReachabilityNotify}, s.UpdateReasons)
		assert.True(t, s.User.IsNotifiable)
	}
	require.NoError(t, a3.Call(ctx, wire.OpPushRegister, wire.PushRegistrationArgs{ChannelType: wire.PushAPN, RegistrationID: "dev2"}, nil))
	require.NoError(t, a3.Call(ctx, wire.OpPushRegister, wire.PushRegistrationArgs{ChannelType: wire.PushFCM, RegistrationID: "dev1"}, nil), "again: idempotent")
	quiet(t, bob)
	regs, err := env.Store.PushRegistrations(ctx, []string{"alice", "bob"})
	require.NoError(t, err)
	assert.Len(t, regs["alice"], 2)
	assert.NotContains(t, regs, "bob")
	require.NoError(t, a3.Call(ctx, wire.OpPushUnregister, wire.PushRegistrationArgs{ChannelType: wire.PushFCM, RegistrationID: "dev1"}, nil))
	quiet(t, bob)
	require.NoError(t, a3.Call(ctx, wire.OpPushUnregister, wire.PushRegistrationArgs{ChannelType: wire.PushAPN}, nil))
	s = userSignal(t, bob)
	assert.Equal(t, []string{wire.ReasonReachabilityNotify}, s.UpdateReasons)
	assert.False(t, s.User.IsNotifiable)
}

func TestUserSubscriptionEviction(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t, unlimited)
	bob := env.Connect(ctx, "bob")
	for i := range 101 {
		id := fmt.Sprintf("u%03d", i)
		_, err := env.Store.EnsureUser(ctx, id)
		require.NoError(t, err)
		require.NoError(t, bob.Call(ctx, wire.OpUserSubscribe, wire.UserRef{Identity: id}, nil))
	}
	first := env.Connect(ctx, "u000") // evicted: bob hears nothing
	quiet(t, bob)
	second := env.Connect(ctx, "u001") // still subscribed
	s := userSignal(t, bob)
	assert.Equal(t, "u001", s.User.Identity)
	_, _ = first, second

	// Subscriptions end with the connection.
	bob.Close()
	bob2 := env.Connect(ctx, "bob")
	env.Connect(ctx, "u002")
	quiet(t, bob2)
}

// An identity keeps at most 20 push registrations: the least recently registered go first.
func TestPushRegistrationsCapped(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t, unlimited)
	alice := env.Connect(ctx, "alice")
	register := func(id string) {
		t.Helper()
		require.NoError(t, alice.Call(ctx, wire.OpPushRegister, wire.PushRegistrationArgs{ChannelType: wire.PushFCM, RegistrationID: id}, nil))
	}
	for i := range 20 {
		register(fmt.Sprintf("dev-%02d", i))
	}
	register("dev-00") // registering again makes it the newest
	for i := 20; i < 25; i++ {
		register(fmt.Sprintf("dev-%02d", i))
	}
	regs, err := env.Store.PushRegistrations(ctx, []string{"alice"})
	require.NoError(t, err)
	var ids []string
	for _, r := range regs["alice"] {
		ids = append(ids, r.RegistrationID)
	}
	assert.Len(t, ids, 20)
	assert.Contains(t, ids, "dev-00")
	assert.Contains(t, ids, "dev-24")
	for i := 1; i <= 5; i++ {
		assert.NotContains(t, ids, fmt.Sprintf("dev-%02d", i), "the oldest are dropped")
	}
	assert.Contains(t, ids, "dev-06")
}

func TestTokenRenewal(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t)
	// Long enough for the renewal below to come first however loaded the machine is.
	c, err := servertest.Dial(ctx, env.URL, env.Token("alice", 5*time.Second), nil)
	require.NoError(t, err)
	defer c.Close()
	oldExpiry := time.UnixMilli(c.Welcome.TokenExpires)

	err = c.Call(ctx, wire.OpSessionUpdateToken, wire.UpdateTokenArgs{Token: env.Token("bob", time.Hour)}, nil)
	assert.Equal(t, wire.CodeTokenIdentity, code(t, err))
	assert.Equal(t, wire.CodeTokenInvalid, code(t, c.Call(ctx, wire.OpSessionUpdateToken, wire.UpdateTokenArgs{Token: "junk"}, nil)))
	assert.Equal(t, wire.CodeTokenExpired, code(t, c.Call(ctx, wire.OpSessionUpdateToken, wire.UpdateTokenArgs{Token: expiredToken(t, env.Key)}, nil)))

	var res wire.UpdateTokenResult
	minted := time.Now()
	renewed := env.Token("alice", time.Hour)
	require.NoError(t, c.Call(ctx, wire.OpSessionUpdateToken, wire.UpdateTokenArgs{Token: renewed}, &res))
	// JWT times are whole seconds.
	assert.GreaterOrEqual(t, res.TokenExpires, minted.Add(time.Hour-time.Second).UnixMilli())
	assert.LessOrEqual(t, res.TokenExpires, time.Now().Add(time.Hour).UnixMilli())
	require.True(t, time.Now().Before(oldExpiry), "renewed before the old expiry")
	// The old token's deadline (exp + leeway) passes and the connection lives on.
	time.Sleep(time.Until(oldExpiry.Add(auth.Leeway)) + time.Second)
	require.NoError(t, c.Call(ctx, wire.OpConversationList, wire.ListArgs{}, nil))

	// Without renewal the connection ends at expiry (TestLiveTokenExpiry covers the bye).
	short, err := servertest.Dial(ctx, env.URL, env.Token("alice", 1500*time.Millisecond), nil)
	require.NoError(t, err)
	defer short.Close()
	_, err = short.NextEvent(ctx)
	assert.Equal(t, wire.CodeTokenExpired, code(t, err))
}
