package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/server/auth"
)

func TestTokenFromFlags(t *testing.T) {
	var out bytes.Buffer
	secret := "0123456789abcdef0123"
	require.NoError(t, run([]string{"token", "--key-id", "k1", "--secret", secret, "--identity", "alice", "--ttl", "2h", "--url", "ws://h/v1/ws"}, &out))
	kr, err := auth.NewKeyring(auth.Key{ID: "k1", Secret: secret})
	require.NoError(t, err)
	c, err := kr.Verify(strings.TrimSpace(out.String()))
	require.NoError(t, err)
	assert.Equal(t, "alice", c.Identity)
	assert.Equal(t, "ws://h/v1/ws", c.URL)
	assert.WithinDuration(t, time.Now().Add(2*time.Hour), c.ExpiresAt.Time, 5*time.Second)
}

func TestTokenFromEnv(t *testing.T) {
	t.Setenv("CONVO_API_KEYS", "k2:abcdefabcdefabcdefab,k3:0000000000000000000000")
	var out bytes.Buffer
	require.NoError(t, run([]string{"token", "--identity", "bob"}, &out))
	kr, err := auth.ParseKeyring("k2:abcdefabcdefabcdefab")
	require.NoError(t, err)
	_, err = kr.Verify(strings.TrimSpace(out.String()))
	require.NoError(t, err)
}

func TestTokenErrors(t *testing.T) {
	t.Setenv("CONVO_API_KEYS", "")
	for _, args := range [][]string{
		{},
		{"nope"},
		{"token"},
		{"token", "--identity", "a"},
		{"token", "--identity", "a", "--key-id", "k"},
	} {
		assert.Error(t, run(args, &bytes.Buffer{}), args)
	}
}
