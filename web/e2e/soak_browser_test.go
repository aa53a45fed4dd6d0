package e2e

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/convo-sdk/convo/core"
	"github.com/convo-sdk/convo/internal/benchfig"
	"github.com/convo-sdk/convo/server/servertest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// soakState is what the soak page counts: it keeps counters, not lists, so that its own
// bookkeeping does not grow the heap being watched.
type soakState struct {
	Sent      int    `json:"sent"`
	Failed    int    `json:"failed"`
	Seen      int    `json:"seen"`
	LastIndex int    `json:"lastIndex"`
	Disorder  int    `json:"disorder"`
	LastError string `json:"lastError"`
}

// TestSoakBrowser is `make soak-browser`: one page sends at 20 messages a second for
// CONVO_SOAK_BROWSER_DURATION (default 10m) against the real server and receives them back;
// a Go client in the same conversation receives them too. Nothing may be lost or repeated,
// and after the warm-up (the first fifth) the wasm memory and the JS heap, each sampled after
// a forced collection every 30 s, must stay flat: the last third's median at most 10 % plus
// 1 MB above the first third's. Never part of `make test`.
func TestSoakBrowser(t *testing.T) {
	if os.Getenv("CONVO_SOAK_BROWSER") != "1" {
		t.Skip("a soak for `make soak-browser`: set CONVO_SOAK_BROWSER=1")
	}
	duration := 10 * time.Minute
	if d := os.Getenv("CONVO_SOAK_BROWSER_DURATION"); d != "" {
		var err error
		duration, err = time.ParseDuration(d)
		require.NoError(t, err, "CONVO_SOAK_BROWSER_DURATION")
	}
	const rate = 20
	every := 30 * time.Second
	if duration < 5*time.Minute {
		every = duration / 10
	}

	env := benchServer(t, false, servertest.Options{})
	browser := NewBrowser(t, duration+5*time.Minute)
	tab := benchOpenLab(t, browser, env, "soak")
	peer, room := nativeRoom(t, env, "soak-peer", "soaker")
	var mu sync.Mutex
	peerSaw := map[string]int{}
	peer.OnMessageAdded(func(m *core.Message) {
		mu.Lock()
		peerSaw[*m.Body()]++
		mu.Unlock()
	})

	MustEval[bool](tab, `
		const { Client } = await import('/sdk/index.js');
		const client = new Client(`+jsString(env.Token("soaker", time.Hour))+`);
		await new Promise((resolve, reject) => {
			client.on('initialized', resolve);
			client.on('initFailed', ({ error }) => reject(error));
		});
		let conv = null;
		while (!conv) {
			conv = (await client.getSubscribedConversations()).items.find((c) => c.sid === `+jsString(room.Sid())+`);
			if (!conv) await new Promise((r) => setTimeout(r, 20));
		}
		const s = window.soak = { sent: 0, failed: 0, seen: 0, lastIndex: -1, disorder: 0, lastError: '' };
		client.on('messageAdded', (m) => {
			s.seen++;
			if (m.index !== s.lastIndex + 1) s.disorder++;
			s.lastIndex = m.index;
		});
		window.soakTimer = setInterval(() => {
			const n = s.sent++;
			conv.sendMessage('soak ' + n).catch((e) => { s.failed++; s.lastError = String(e && e.message); });
		}, `+strconv.Itoa(1000/rate)+`);
		return true;`)

	var samples []benchfig.MemorySample
	started := time.Now()
	for time.Since(started) < duration {
		time.Sleep(every)
		s := benchMeasureMemory(t, tab)
		samples = append(samples, s)
		st := MustEval[soakState](tab, `return window.soak;`)
		t.Logf("%6.0fs: wasm %.1f MB, JS heap %.1f MB; sent %d, seen %d, failed %d", time.Since(started).Seconds(),
			float64(s.WasmBytes)/1e6, float64(s.JSHeapBytes)/1e6, st.Sent, st.Seen, st.Failed)
	}
	MustEval[bool](tab, `clearInterval(window.soakTimer); return true;`)

	// Every message sent comes back once, in order, to the page and to the peer.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var st soakState
	for ctx.Err() == nil {
		st = MustEval[soakState](tab, `return window.soak;`)
		mu.Lock()
		peerCount := len(peerSaw)
		mu.Unlock()
		if st.Seen >= st.Sent-st.Failed && peerCount >= st.Sent-st.Failed {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(time.Second) // a repeat would show up here
	st = MustEval[soakState](tab, `return window.soak;`)
	assert.Zero(t, st.Failed, "sends that failed (last: %s)", st.LastError)
	assert.Equal(t, st.Sent, st.Seen, "messageAdded once per message sent")
	assert.Zero(t, st.Disorder, "messages announced out of order")
	mu.Lock()
	for i := range st.Sent {
		body := fmt.Sprintf("soak %d", i)
		if peerSaw[body] != 1 {
			t.Errorf("the peer saw %q %d times", body, peerSaw[body])
		}
	}
	mu.Unlock()

	// Flat after the warm-up.
	require.GreaterOrEqual(t, len(samples), 5, "too few memory samples")
	rest := samples[len(samples)/5:]
	third := max(len(rest)/3, 1)
	median := func(xs []benchfig.MemorySample, f func(benchfig.MemorySample) int64) float64 {
		v := make([]float64, len(xs))
		for i, x := range xs {
			v[i] = float64(f(x))
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	for _, m := range []struct {
		name string
		f    func(benchfig.MemorySample) int64
	}{
		{"wasm memory", func(s benchfig.MemorySample) int64 { return s.WasmBytes }},
		{"JS heap", func(s benchfig.MemorySample) int64 { return s.JSHeapBytes }},
	} {
		first, last := median(rest[:third], m.f), median(rest[len(rest)-third:], m.f)
		t.Logf("%s: %.1f MB after the warm-up, %.1f MB at the end", m.name, first/1e6, last/1e6)
		assert.LessOrEqual(t, last, first*1.10+1e6, "%s grows: %.1f MB → %.1f MB", m.name, first/1e6, last/1e6)
	}
}
