//go:build !js

package main

// TestNetworkFaults: the checks of TestCrashSafety with the server left running and the
// network failing instead. Every chatting client reaches convod through a loopback proxy
// (faultproxy_test.go) that, at random moments, drops connections, delays traffic, cuts a
// connection in the middle of a WebSocket frame, or turns one into a black hole that only
// the client's keep-alive can notice. Meanwhile one client is refused by its proxy while the
// others send more events than the server retains, so on its return it resynchronises.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/convo-sdk/convo/core"
)

const (
	netClients       = 20
	netConversations = 4
	netSendsEach     = 20
	netBackSends     = 5 // sent by the returning client
	// The absent client misses several times this many events, so it cannot resume.
	netRetention = 30
)

func TestNetworkFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the server binary behind a faulty proxy; skipped with -short")
	}
	began := time.Now()
	testCtx, cancelAll := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancelAll()

	h := newChatHarness(t, testCtx, "--retention", fmt.Sprint(netRetention))
	// Short enough to notice a black hole in a couple of seconds, long enough that the
	// delays injected (at most 250 ms a chunk) rarely pass for one.
	h.opts.PingInterval, h.opts.PingTimeout = time.Second, 1500*time.Millisecond
	fnet := newFaultNet(t, h.srv.addr)
	proxies := make([]*faultProxy, netClients)
	for i := range proxies {
		proxies[i] = fnet.listen(t)
	}
	h.setup(netClients, netConversations, nil, func(i int) core.DialFunc {
		return func(ctx context.Context, _ string) (core.Conn, error) {
			return core.DialWebSocket(ctx, "ws://"+proxies[i].addr()+"/v1/ws")
		}
	})
	t.Logf("setup done in %v: %d clients, %d conversations", time.Since(began).Round(time.Millisecond), netClients, netConversations)

	// u00 goes away: its proxy drops its connection and refuses new ones.
	away := h.clients[0]
	resumedBefore := away.resumed.Load()
	proxies[0].setRefuse(true)
	awayFrom := time.Now()

	// The others chat while the network fails under them.
	chatStart := time.Now()
	senders := h.send(h.clients[1:], netSendsEach, "")
	var (
		faultMu    sync.Mutex
		faultTimes []time.Time
		chaos      sync.WaitGroup
	)
	stopChaos := make(chan struct{})
	chaos.Add(1)
	go func() {
		defer chaos.Done()
		for {
			select {
			case <-time.After(time.Duration(100+rand.IntN(250)) * time.Millisecond):
			case <-stopChaos:
				return
			}
			if fnet.fault() {
				faultMu.Lock()
				faultTimes = append(faultTimes, time.Now())
				faultMu.Unlock()
			}
		}
	}()
	if !waitGroup(senders, time.Minute) {
		// A client stuck on a dead connection shows here, not as a 2-minute timeout.
		close(stopChaos)
		t.Fatalf("the senders did not finish within a minute: some client is stuck")
	}
	close(stopChaos)
	chaos.Wait()
	sendsDone := time.Since(chatStart)

	// u00 comes back, must resynchronise, and then sends a few of its own.
	resyncsBefore := away.fresh.Load()
	proxies[0].setRefuse(false)
	awayUntil := time.Now()
	for away.fresh.Load() == resyncsBefore {
		if time.Since(awayUntil) > 20*time.Second {
			t.Fatalf("%s did not reconnect with a resync within 20 s of its return", away.id)
		}
		time.Sleep(20 * time.Millisecond)
	}
	backAfter := time.Since(awayUntil)
	h.send([]*chatClient{away}, netBackSends, "back").Wait()

	settleFrom := time.Now()
	stored := h.settle(30 * time.Second)
	settleTime := time.Since(settleFrom)
	serverConns := -1.0
	if m, err := scrapeMetrics(testCtx, h.srv.addr); err == nil {
		serverConns = m["convo_connections"]
	} else {
		t.Logf("reading /metrics: %v", err)
	}
	h.shutdownClients()

	faultMu.Lock()
	n := h.check(stored, faultTimes)
	faults := len(faultTimes)
	faultMu.Unlock()

	// The absent client's own figures: what it missed, and that it came back by resync.
	missed := 0
	for _, conv := range away.convs {
		for _, m := range stored[conv.Sid()] {
			if d := m.DateCreated(); d.After(awayFrom) && d.Before(awayUntil) {
				missed++
			}
		}
	}
	if missed <= netRetention {
		t.Errorf("%s missed only %d messages while away, not more than the retention of %d events: the test did not force a resync", away.id, missed, netRetention)
	}
	if got := away.resumed.Load(); got != resumedBefore {
		t.Errorf("%s resumed after missing %d messages with a retention of %d", away.id, missed, netRetention)
	}

	// Black holes are only found by the clients' keep-alive; count what it noticed.
	h.logs.mu.Lock()
	detected := 0
	for _, l := range h.logs.lines {
		if strings.Contains(l, "no answer from the server") {
			detected++
		}
	}
	h.logs.mu.Unlock()
	truncs := fnet.truncUp.Load() + fnet.truncDown.Load()
	if fnet.drops.Load() == 0 || fnet.delays.Load() == 0 || truncs == 0 || fnet.stalls.Load() == 0 {
		t.Errorf("not every kind of fault happened: %d drops, %d delays, %d cuts mid-frame, %d black holes",
			fnet.drops.Load(), fnet.delays.Load(), truncs, fnet.stalls.Load())
	}
	if fnet.stalls.Load() > 0 && detected == 0 {
		t.Errorf("%d black holes, none noticed by a client's keep-alive", fnet.stalls.Load())
	}

	t.Logf("network fault test: %d faults over %v: %d drops, %d delays, %d cuts mid-frame (%d armed; %d client→server, %d server→client), %d black holes (%d noticed by keep-alive), %d refused connects; total %v",
		faults, sendsDone.Round(time.Millisecond), fnet.drops.Load(), fnet.delays.Load(), truncs, fnet.truncations.Load(),
		fnet.truncUp.Load(), fnet.truncDown.Load(), fnet.stalls.Load(), detected, fnet.refusals.Load(), time.Since(began).Round(time.Millisecond))
	t.Logf("  %s away %v, missed %d messages (retention %d events), back by resync %v after its return, settled %v after its sends",
		away.id, awayUntil.Sub(awayFrom).Round(time.Millisecond), missed, netRetention, backAfter.Round(time.Millisecond), settleTime.Round(time.Millisecond))
	t.Logf("  server connections after settling: %.0f for %d live clients (the server has no keep-alive: black-holed sockets stay open until the proxy closes them)",
		serverConns, netClients)
	n.log(t, "fault")
}

// waitGroup waits for wg up to d and reports whether it finished.
func waitGroup(wg *sync.WaitGroup, d time.Duration) bool {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}
