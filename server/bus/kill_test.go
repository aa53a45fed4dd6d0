package bus_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/internal/natstest"
	"github.com/convo-sdk/convo/server/bus"
)

// helperEnv names the NATS URL for TestHelperBusNode when this binary runs as another node.
const helperEnv = "CONVO_BUS_HELPER_NATS"

// TestNodeKilledGoesOffline runs a node in a child process, SIGKILLs it and checks that
// its user goes offline on this node once the heartbeat timeout has passed.
func TestNodeKilledGoesOffline(t *testing.T) {
	url := natstest.Start(t)
	watcher, rw := node(t, url, expiring)

	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperBusNode$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+url)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if sc.Text() == "ready" {
				ready <- nil
				return
			}
		}
		ready <- fmt.Errorf("child exited before it was ready: %v", sc.Err())
	}()
	select {
	case err := <-ready:
		require.NoError(t, err)
	case <-time.After(wait):
		t.Fatal("child node not ready")
	}
	knows(t, watcher, "zoe", true)

	require.NoError(t, cmd.Process.Kill()) // SIGKILL: no goodbye
	killed := time.Now()
	knows(t, watcher, "zoe", false)
	assert.GreaterOrEqual(t, time.Since(killed), timeout-beat, "offline only once the timeout passed")
	assert.Equal(t, []string{"zoe+", "zoe-"}, rw.reachOf())
}

// TestHelperBusNode is the child of TestNodeKilledGoesOffline: a node with "zoe" connected
// that waits to be killed (and gives up after a while, should nobody kill it).
func TestHelperBusNode(t *testing.T) {
	url := os.Getenv(helperEnv)
	if url == "" {
		t.Skip("runs only as the child of TestNodeKilledGoesOffline")
	}
	b, err := bus.NewNATS(bus.NATSOptions{URL: url, Heartbeat: beat, HeartbeatTimeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	b.Up("zoe")
	fmt.Println("ready")
	time.Sleep(time.Minute)
}
