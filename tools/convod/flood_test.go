//go:build !js

package main

// TestConnectionFlood opens about 2,000 WebSockets with one identity's token against the
// real convod: only --max-conns-per-identity of them are accepted, every other one gets a
// bye with CodeTooManySessions and is closed, other users connect and chat meanwhile, and
// afterwards the server's goroutines return to their baseline.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/convo-sdk/convo/core"
	"github.com/convo-sdk/convo/server/auth"
	"github.com/convo-sdk/convo/wire"
)

const (
	floodConns    = 2000
	floodCap      = 20  // --max-conns-per-identity
	floodParallel = 400 // connection attempts in flight at once
)

// raiseFileLimit lifts this process's open-file limit towards want (convod, started
// later, inherits it); it skips the test when the hard limit is too low.
func raiseFileLimit(t *testing.T, want uint64) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if lim.Cur >= want {
		return
	}
	if lim.Max < want {
		t.Skipf("the open-file limit is %d (hard); this test needs %d", lim.Max, want)
	}
	lim.Cur = want
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatalf("raising the open-file limit to %d: %v", want, err)
	}
}

func TestConnectionFlood(t *testing.T) {
	if testing.Short() {
		t.Skip("opens thousands of connections to the server binary; skipped with -short")
	}
	raiseFileLimit(t, 4*floodParallel+1024)
	began := time.Now()
	testCtx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	h := newChatHarness(t, testCtx, "--max-conns-per-identity", fmt.Sprint(floodCap))
	addr := h.srv.addr

	// Two users in a room, then the baseline: the server's goroutines with them connected.
	alice, bob := h.newCoreClient("alice", nil), h.newCoreClient("bob", nil)
	roomA, err := alice.CreateConversation(testCtx, core.CreateConversationOptions{FriendlyName: "bystanders"})
	if err != nil {
		t.Fatal(err)
	}
	if err := roomA.Join(testCtx); err != nil {
		t.Fatal(err)
	}
	roomB, err := bob.PeekConversationBySid(testCtx, roomA.Sid())
	if err != nil {
		t.Fatal(err)
	}
	if err := roomB.Join(testCtx); err != nil {
		t.Fatal(err)
	}
	var bobMu sync.Mutex
	bobSaw := make(map[string]time.Time)
	bob.OnMessageAdded(func(m *core.Message) {
		if b := m.Body(); b != nil {
			bobMu.Lock()
			bobSaw[*b] = time.Now()
			bobMu.Unlock()
		}
	})
	time.Sleep(500 * time.Millisecond) // the join's events and reachability signals settle
	baseline := serverGauges(t, testCtx, addr)

	// Sample the server while the flood runs.
	var peakMu sync.Mutex
	peak := baseline
	stopSampling := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Add(1)
	go func() {
		defer sampler.Done()
		for {
			select {
			case <-stopSampling:
				return
			case <-time.After(100 * time.Millisecond):
			}
			if g, err := gauges(testCtx, addr); err == nil {
				peakMu.Lock()
				peak.goroutines = max(peak.goroutines, g.goroutines)
				peak.conns = max(peak.conns, g.conns)
				peak.fds = max(peak.fds, g.fds)
				peakMu.Unlock()
			}
		}
	}()

	// The flood.
	tok, err := auth.Mint(h.key, "mallory", time.Hour, h.wsURL)
	if err != nil {
		t.Fatal(err)
	}
	hello, _ := wire.Encode(&wire.Frame{Type: wire.TypeHello, Data: mustMarshal(wire.HelloData{Token: tok, Client: "flood"})})
	var (
		acceptedMu                         sync.Mutex
		accepted                           []*websocket.Conn
		refused, closedAfterBye, otherErrs atomic.Int32
		errMu                              sync.Mutex
		errSamples                         []string
	)
	fail := func(format string, args ...any) {
		otherErrs.Add(1)
		errMu.Lock()
		if len(errSamples) < 10 {
			errSamples = append(errSamples, fmt.Sprintf(format, args...))
		}
		errMu.Unlock()
	}
	floodStart := time.Now()
	var flood sync.WaitGroup
	sem := make(chan struct{}, floodParallel)
	for i := range floodConns {
		sem <- struct{}{}
		flood.Add(1)
		go func() {
			defer flood.Done()
			defer func() { <-sem }()
			ctx, cancel := context.WithTimeout(testCtx, 30*time.Second)
			defer cancel()
			ws, _, err := websocket.Dial(ctx, h.wsURL, &websocket.DialOptions{Subprotocols: []string{wire.Subprotocol}})
			if err != nil {
				fail("%d: dial: %v", i, err)
				return
			}
			if err := ws.Write(ctx, websocket.MessageText, hello); err != nil {
				ws.CloseNow()
				fail("%d: hello: %v", i, err)
				return
			}
			_, b, err := ws.Read(ctx)
			var f *wire.Frame
			if err == nil {
				f, err = wire.Decode(b)
			}
			if err != nil {
				ws.CloseNow()
				fail("%d: first frame: %v", i, err)
				return
			}
			switch {
			case f.Type == wire.TypeWelcome:
				acceptedMu.Lock()
				accepted = append(accepted, ws) // held open until the flood is over
				acceptedMu.Unlock()
			case f.Type == wire.TypeBye && f.Error != nil && f.Error.Code == wire.CodeTooManySessions:
				refused.Add(1)
				// The server closes right after the bye, with 4000 + the code's hundreds.
				_, _, err := ws.Read(ctx)
				if websocket.CloseStatus(err) == 4429 {
					closedAfterBye.Add(1)
				} else {
					fail("%d: after the bye: %v", i, err)
				}
				ws.CloseNow()
			default:
				ws.CloseNow()
				fail("%d: first frame %s", i, b)
			}
		}()
	}

	// Meanwhile alice keeps talking to bob until the flood is over, and carol arrives and
	// joins in.
	var bystanders sync.WaitGroup
	var floodOver atomic.Bool
	var (
		aliceSent    []string
		aliceSendMax time.Duration
		sendErrs     []error
	)
	bystanders.Add(1)
	go func() {
		defer bystanders.Done()
		for j := 0; !floodOver.Load() || j < 5; j++ {
			body := fmt.Sprintf("alice/%02d", j)
			ctx, cancel := context.WithTimeout(testCtx, 15*time.Second)
			start := time.Now()
			_, err := roomA.SendMessage(ctx, body, nil)
			cancel()
			if err != nil {
				sendErrs = append(sendErrs, err)
				continue
			}
			aliceSent = append(aliceSent, body)
			aliceSendMax = max(aliceSendMax, time.Since(start))
			time.Sleep(50 * time.Millisecond)
		}
	}()
	time.Sleep(300 * time.Millisecond) // the flood is under way
	carolFrom := time.Now()
	carol := h.newCoreClient("carol", nil)
	carolConnect := time.Since(carolFrom)
	roomC, err := carol.PeekConversationBySid(testCtx, roomA.Sid())
	if err == nil {
		err = roomC.Join(testCtx)
	}
	if err == nil {
		_, err = roomC.SendMessage(testCtx, "carol/hello", nil)
	}
	if err != nil {
		t.Errorf("carol could not join in during the flood: %v", err)
	}
	carolDone := time.Since(carolFrom)

	flood.Wait()
	floodTime := time.Since(floodStart)
	floodOver.Store(true)
	bystanders.Wait()
	// Bob has seen everything alice and carol sent.
	want := append(append([]string(nil), aliceSent...), "carol/hello")
	deadline := time.Now().Add(15 * time.Second)
	for {
		bobMu.Lock()
		missing := 0
		for _, b := range want {
			if _, ok := bobSaw[b]; !ok {
				missing++
			}
		}
		bobMu.Unlock()
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("bob did not see %d of the %d messages sent during the flood", missing, len(want))
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = carol.Shutdown(testCtx)

	// The flood is over: close what was accepted and wait for the server to let go.
	acceptedMu.Lock()
	nAccepted := len(accepted)
	for _, ws := range accepted {
		ws.CloseNow()
	}
	acceptedMu.Unlock()
	close(stopSampling)
	sampler.Wait()
	var after serverSample
	recoverFrom := time.Now()
	for {
		after = serverGauges(t, testCtx, addr)
		if after.conns <= baseline.conns && after.goroutines <= baseline.goroutines+floodSlack {
			break
		}
		if time.Since(recoverFrom) > 20*time.Second {
			t.Errorf("20 s after the flood the server has %.0f goroutines and %.0f connections (baseline %.0f and %.0f)",
				after.goroutines, after.conns, baseline.goroutines, baseline.conns)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	recoverTime := time.Since(recoverFrom)

	if nAccepted != floodCap {
		t.Errorf("%d of mallory's connections were accepted; the cap is %d", nAccepted, floodCap)
	}
	if int(refused.Load())+nAccepted != floodConns || otherErrs.Load() > 0 {
		t.Errorf("%d accepted + %d refused with %d of %d connections; %d other outcomes, e.g. %v",
			nAccepted, refused.Load(), wire.CodeTooManySessions, floodConns, otherErrs.Load(), errSamples)
	}
	if closedAfterBye.Load() != refused.Load() {
		t.Errorf("only %d of the %d refused connections were closed with code 4429 after the bye", closedAfterBye.Load(), refused.Load())
	}
	if len(sendErrs) > 0 {
		t.Errorf("alice's sends during the flood failed %d times: %v", len(sendErrs), sendErrs[0])
	}

	t.Logf("connection flood: %d connections of one identity (%d in flight at once) in %v; total %v",
		floodConns, floodParallel, floodTime.Round(time.Millisecond), time.Since(began).Round(time.Millisecond))
	t.Logf("  %-22s %d (the cap), %d refused with %d and closed (4429): %d, other outcomes: %d",
		"accepted", nAccepted, refused.Load(), wire.CodeTooManySessions, closedAfterBye.Load(), otherErrs.Load())
	t.Logf("  %-22s alice sent %d messages (slowest acknowledged in %v), bob saw them all; carol connected in %v, joined and sent in %v",
		"meanwhile", len(aliceSent), aliceSendMax.Round(time.Millisecond), carolConnect.Round(time.Millisecond), carolDone.Round(time.Millisecond))
	t.Logf("  %-22s %6s %6s %6s", "server", "gorout", "conns", "fds")
	t.Logf("  %-22s %6.0f %6.0f %6.0f", "baseline", baseline.goroutines, baseline.conns, baseline.fds)
	t.Logf("  %-22s %6.0f %6.0f %6.0f", "peak (100 ms samples)", peak.goroutines, peak.conns, peak.fds)
	t.Logf("  %-22s %6.0f %6.0f %6.0f (%v after the flood's end)", "after", after.goroutines, after.conns, after.fds, recoverTime.Round(time.Millisecond))
}

// floodSlack is how many goroutines above the baseline count as back to it (the runtime's
// and the HTTP server's own come and go).
const floodSlack = 5

type serverSample struct{ goroutines, conns, fds float64 }

func gauges(ctx context.Context, addr string) (serverSample, error) {
	m, err := scrapeMetrics(ctx, addr)
	if err != nil {
		return serverSample{}, err
	}
	g, ok := m["go_goroutines"]
	if !ok {
		return serverSample{}, errors.New("/metrics has no go_goroutines")
	}
	return serverSample{goroutines: g, conns: m["convo_connections"], fds: m["process_open_fds"]}, nil
}

func serverGauges(t *testing.T, ctx context.Context, addr string) serverSample {
	t.Helper()
	s, err := gauges(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustMarshal(v any) wire.RawJSON {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
