package auth

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckSecret(t *testing.T) {
	k1, k2 := NewKey("k1"), NewKey("k2")
	kr, err := NewKeyring(k1, k2)
	require.NoError(t, err)
	assert.True(t, kr.CheckSecret("k1", k1.Secret))
	assert.True(t, kr.CheckSecret("k2", k2.Secret), "every key of the ring works")
	assert.False(t, kr.CheckSecret("k1", k2.Secret))
	assert.False(t, kr.CheckSecret("k1", k1.Secret+"x"))
	assert.False(t, kr.CheckSecret("k1", ""))
	assert.False(t, kr.CheckSecret("k3", k1.Secret))
	assert.False(t, kr.CheckSecret("", ""))
}
