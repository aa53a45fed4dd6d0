package natstest_test

import (
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/internal/natstest"
)

func TestServerOutageAndRestartOnTheSameURL(t *testing.T) {
	s := natstest.StartT(t)
	url := s.URL()
	assert.True(t, strings.HasPrefix(url, "nats://127.0.0.1:"), url)

	reconnected := make(chan struct{}, 1)
	nc, err := nats.Connect(url, nats.MaxReconnects(-1), nats.ReconnectWait(20*time.Millisecond),
		nats.ReconnectHandler(func(*nats.Conn) { reconnected <- struct{}{} }))
	require.NoError(t, err)
	defer nc.Close()
	got := make(chan string, 4)
	_, err = nc.Subscribe("t", func(m *nats.Msg) { got <- string(m.Data) })
	require.NoError(t, err)
	require.NoError(t, nc.Flush())

	s.Shutdown()
	assert.False(t, s.Running())
	require.Eventually(t, func() bool { return !nc.IsConnected() }, 10*time.Second, 5*time.Millisecond)
	s.Shutdown() // twice is fine

	require.NoError(t, s.Restart())
	assert.True(t, s.Running())
	assert.Equal(t, url, s.URL(), "same address, so clients find it again")
	select {
	case <-reconnected:
	case <-time.After(10 * time.Second):
		t.Fatal("client did not reconnect")
	}
	require.NoError(t, nc.Publish("t", []byte("back")))
	select {
	case m := <-got:
		assert.Equal(t, "back", m)
	case <-time.After(10 * time.Second):
		t.Fatal("no message after the restart")
	}
}

func TestStartReturnsAWorkingURL(t *testing.T) {
	nc, err := nats.Connect(natstest.Start(t))
	require.NoError(t, err)
	defer nc.Close()
	assert.NoError(t, nc.Flush())
}

func TestMaxPayloadOption(t *testing.T) {
	s, err := natstest.StartServerWith(natstest.Options{MaxPayload: 1000})
	require.NoError(t, err)
	defer s.Shutdown()
	nc, err := nats.Connect(s.URL())
	require.NoError(t, err)
	defer nc.Close()
	assert.EqualValues(t, 1000, nc.MaxPayload())
}
