//go:build !js

package main

// TestCrashSafety runs the real convod binary, kills it with SIGKILL at random moments while
// 20 core clients chat, restarts it on the same data directory and address, and then checks
// that no acknowledged message was lost, nothing was stored twice, and every client saw every
// message of its conversations exactly once, in index order (live, after resume or after
// resync). The harness is in harness_test.go.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	crashClients       = 20
	crashConversations = 4
	crashSendsEach     = 15
	crashKills         = 6
	// A small retention makes some reconnects resynchronise instead of resuming.
	crashRetention = 2
)

func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills the server binary repeatedly; skipped with -short")
	}
	began := time.Now()
	testCtx, cancelAll := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancelAll()

	h := newChatHarness(t, testCtx, "--retention", fmt.Sprint(crashRetention), "--metrics=false")
	srv := h.srv
	trigger := &killTrigger{fire: make(chan struct{}, 1)}
	h.setup(crashClients, crashConversations, trigger, nil)
	t.Logf("setup done in %v: %d clients, %d conversations", time.Since(began).Round(time.Millisecond), crashClients, crashConversations)

	// Chat while the killer kills.
	chatStart := time.Now()
	senders := h.send(h.clients, crashSendsEach, "")
	var killer sync.WaitGroup
	var kills atomic.Int32
	var (
		downtime  time.Duration
		killTimes []time.Time
		triggered int // kills made right after a send was written
	)
	killer.Add(1)
	go func() {
		defer killer.Done()
		for range crashKills {
			select {
			case <-time.After(time.Duration(400+rand.IntN(800)) * time.Millisecond):
			case <-testCtx.Done():
				return
			}
			// Mostly right after a send was written (plus 0-3 ms), else at once.
			if rand.IntN(4) > 0 {
				trigger.armed.Store(true)
				select {
				case <-trigger.fire:
					triggered++
					time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
				case <-time.After(500 * time.Millisecond):
					if !trigger.armed.CompareAndSwap(true, false) {
						<-trigger.fire // it fired just now
						triggered++
					}
				}
			}
			down := time.Now()
			killTimes = append(killTimes, down)
			srv.kill()
			kills.Add(1)
			time.Sleep(time.Duration(50+rand.IntN(350)) * time.Millisecond)
			if err := srv.start(); err != nil {
				t.Errorf("restart %d: %v", kills.Load(), err)
				cancelAll() // ends the senders
				return
			}
			downtime += time.Since(down)
		}
	}()
	killer.Wait()
	killsDone := time.Since(chatStart)
	senders.Wait()
	sendsDone := time.Since(chatStart)

	stored := h.settle(30 * time.Second)
	settleTime := time.Since(chatStart) - sendsDone
	h.shutdownClients()

	n := h.check(stored, killTimes)
	if int(kills.Load()) < 5 {
		t.Errorf("only %d kills", kills.Load())
	}
	t.Logf("crash test: %d kills (%d right after a send was written; downtime %v in all), %d server starts; kills done at %v, sends done at %v, settled %v later; total %v",
		kills.Load(), triggered, downtime.Round(time.Millisecond), srv.starts, killsDone.Round(time.Millisecond),
		sendsDone.Round(time.Millisecond), settleTime.Round(time.Millisecond), time.Since(began).Round(time.Millisecond))
	n.log(t, "kill")
}
