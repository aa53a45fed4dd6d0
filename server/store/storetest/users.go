package storetest

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/wire"
)

var _ = register(
	test{"UpdateUser", testUpdateUser},
	test{"PushRegistrations", testPushRegistrations},
)

func testUpdateUser(t *testing.T, h *harness) {
	ctx, s := h.begin()
	u, reasons, err := s.UpdateUser(ctx, "alice", ptr("Alice"), wire.RawJSON(`{"a":1}`))
	require.NoError(t, err, "the user is created when needed")
	assert.Equal(t, []string{wire.ReasonFriendlyName, wire.ReasonAttributes}, reasons)
	assert.Equal(t, "Alice", u.FriendlyName)
	assert.JSONEq(t, `{"a":1}`, string(u.Attributes))
	u, reasons, err = s.UpdateUser(ctx, "alice", ptr("Alice"), wire.RawJSON(`{ "a": 1 }`))
	require.NoError(t, err)
	assert.Empty(t, reasons)
	assert.Equal(t, "Alice", u.FriendlyName)
	u, reasons, err = s.UpdateUser(ctx, "alice", nil, wire.RawJSON(`{}`))
	require.NoError(t, err)
	assert.Equal(t, []string{wire.ReasonAttributes}, reasons)
	assert.Equal(t, "Alice", u.FriendlyName, "nil keeps the name")
	got, err := s.User(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, u, got)
	assert.False(t, got.IsNotifiable)
	ensured, err := s.EnsureUser(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, "Alice", ensured.FriendlyName, "EnsureUser keeps what is there")
}

func testPushRegistrations(t *testing.T, h *harness) {
	ctx, s := h.begin()
	added, err := s.AddPushRegistration(ctx, store.PushRegistration{Identity: "a", ChannelType: wire.PushFCM, RegistrationID: "1"})
	require.NoError(t, err)
	assert.True(t, added)
	added, err = s.AddPushRegistration(ctx, store.PushRegistration{Identity: "a", ChannelType: wire.PushFCM, RegistrationID: "1"})
	require.NoError(t, err)
	assert.False(t, added)
	_, err = s.AddPushRegistration(ctx, store.PushRegistration{Identity: "b", ChannelType: wire.PushAPN, RegistrationID: "2"})
	require.NoError(t, err)
	got, err := s.PushRegistrations(ctx, []string{"a", "b", "c"})
	require.NoError(t, err)
	assert.Equal(t, map[string][]store.PushRegistration{
		"a": {{Identity: "a", ChannelType: wire.PushFCM, RegistrationID: "1"}},
		"b": {{Identity: "b", ChannelType: wire.PushAPN, RegistrationID: "2"}},
	}, got)
	none, err := s.PushRegistrations(ctx, nil)
	require.NoError(t, err)
	assert.Empty(t, none)
	u, err := s.User(ctx, "a")
	require.NoError(t, err, "registering creates the user")
	assert.True(t, u.IsNotifiable)
	n, err := s.RemovePushRegistrations(ctx, "a", wire.PushFCM, "")
	require.NoError(t, err)
	assert.EqualValues(t, 1, n)
	u, err = s.User(ctx, "a")
	require.NoError(t, err)
	assert.False(t, u.IsNotifiable)

	// An identity keeps its most recently registered devices only.
	for i := range store.MaxPushRegistrations + 2 {
		_, err := s.AddPushRegistration(ctx, store.PushRegistration{Identity: "c", ChannelType: wire.PushAPN, RegistrationID: fmt.Sprint(i)})
		require.NoError(t, err)
	}
	added, err = s.AddPushRegistration(ctx, store.PushRegistration{Identity: "c", ChannelType: wire.PushAPN, RegistrationID: "2"})
	require.NoError(t, err)
	assert.False(t, added, "registering again refreshes it")
	_, err = s.AddPushRegistration(ctx, store.PushRegistration{Identity: "c", ChannelType: wire.PushFCM, RegistrationID: "new"})
	require.NoError(t, err)
	got, err = s.PushRegistrations(ctx, []string{"c"})
	require.NoError(t, err)
	require.Len(t, got["c"], store.MaxPushRegistrations)
	ids := map[string]bool{}
	for _, r := range got["c"] {
		ids[r.RegistrationID] = true
	}
	assert.False(t, ids["0"] || ids["1"] || ids["3"], "the least recently registered went: %v", ids)
	assert.True(t, ids["2"] && ids["new"] && ids["21"], "%v", ids)

	n, err = s.RemovePushRegistrations(ctx, "c", wire.PushAPN, "5")
	require.NoError(t, err)
	assert.EqualValues(t, 1, n)
	n, err = s.RemovePushRegistrations(ctx, "c", wire.PushAPN, "")
	require.NoError(t, err)
	assert.EqualValues(t, store.MaxPushRegistrations-2, n)
	n, err = s.RemovePushRegistrations(ctx, "nobody", wire.PushAPN, "")
	require.NoError(t, err)
	assert.Zero(t, n)
}
