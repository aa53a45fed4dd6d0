package e2e

// The SDK's figures in headless Chromium for `make bench` (tools/benchreport, section browser),
// each beside an anchor measured in the same run. They run only when CONVO_BENCH_OUT names
// the JSON file to write, so `make test` never runs them:
//
//	CONVO_BENCH_OUT       the JSON file; each TestBench* sets its own key in it
//	CONVO_BENCH_VENDOR    the vendor bundle (twilio-conversations.min.js) to load beside the SDK
//	CONVO_BENCH_DIST      the built web folder to measure (default: the one TestMain builds)
//	CONVO_BENCH_QUICK=1   small loads, to check the harness; the figures mean nothing
//
// Data is written through the store API into the server's SQLite before the pages load, not
// through the rate-limited protocol.

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/heapprofiler"
	"github.com/chromedp/cdproto/network"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/convo-sdk/convo/internal/benchfig"
	"github.com/convo-sdk/convo/server"
	"github.com/convo-sdk/convo/server/servertest"
	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/wire"
	"github.com/stretchr/testify/require"
)

// benchConfig is what the TestBench* functions share.
type benchConfig struct {
	out   string
	quick bool
}

// benchSetup skips the test unless a bench run asked for it.
func benchSetup(t *testing.T) benchConfig {
	out := os.Getenv("CONVO_BENCH_OUT")
	if out == "" {
		t.Skip("a benchmark for `make bench`: set CONVO_BENCH_OUT to the JSON file to write")
	}
	return benchConfig{out: out, quick: os.Getenv("CONVO_BENCH_QUICK") == "1"}
}

// pick returns full, or quick in a quick run.
func (c benchConfig) pick(full, quick int) int {
	if c.quick {
		return quick
	}
	return full
}

// record sets key in the JSON file to v, keeping what the other benchmarks wrote.
func (c benchConfig) record(t *testing.T, key string, v any) {
	t.Helper()
	all := map[string]wire.RawJSON{}
	if b, err := os.ReadFile(c.out); err == nil && len(b) > 0 {
		require.NoError(t, json.Unmarshal(b, &all), "reading %s", c.out)
	}
	b, err := json.Marshal(v)
	require.NoError(t, err)
	all[key] = b
	all["quick"], _ = json.Marshal(c.quick)
	b, err = json.MarshalIndent(all, "", "  ")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(c.out, append(b, '\n'), 0o644))
}

// benchStatic is what the bench server serves: the built web folder, the bench pages under
// /bench/ and, when asked, the vendor bundle under /vendor/ with the same precompressed copies
// as the SDK has, so both travel the same way.
func benchStatic(t *testing.T, withVendor bool) fs.FS {
	t.Helper()
	root := dist
	if d := os.Getenv("CONVO_BENCH_DIST"); d != "" {
		root = d
	}
	if _, err := os.Stat(filepath.Join(root, "sdk", "index.js")); err != nil {
		t.Fatalf("no built SDK in %s (run make web): %v", root, err)
	}
	files := fstest.MapFS{}
	modTime := time.Now()
	add := func(name string, data []byte) {
		files[name] = &fstest.MapFile{Data: data, Mode: 0o644, ModTime: modTime}
	}
	require.NoError(t, fs.WalkDir(os.DirFS(root), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(filepath.Join(root, p))
		add(p, b)
		return err
	}))
	pages, err := filepath.Glob(filepath.Join("testdata", "bench*"))
	require.NoError(t, err)
	for _, p := range pages {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		add(path.Join("bench", filepath.Base(p)), b)
	}
	if withVendor {
		vendor := os.Getenv("CONVO_BENCH_VENDOR")
		if vendor == "" {
			t.Fatal("CONVO_BENCH_VENDOR must name twilio-conversations.min.js (tools/benchreport installs it)")
		}
		b, err := os.ReadFile(vendor)
		require.NoError(t, err)
		add("vendor/twilio-conversations.min.js", b)
		var gz bytes.Buffer
		w, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
		w.Write(b)
		require.NoError(t, w.Close())
		add("vendor/twilio-conversations.min.js.gz", gz.Bytes())
		// The SDK's brotli copy exists when web/build.sh found brotli; give the vendor the same.
		if _, ok := files["sdk/convo.wasm.br"]; ok {
			br, err := exec.Command("brotli", "-q", "11", "-c", vendor).Output()
			require.NoError(t, err, "brotli")
			add("vendor/twilio-conversations.min.js.br", br)
		}
	}
	return files
}

// startBenchServer runs a real server on 127.0.0.1 serving benchStatic.
func benchServer(t *testing.T, withVendor bool, opts servertest.Options) *servertest.Env {
	opts.Static = benchStatic(t, withVendor)
	return servertest.Start(t, opts)
}

// seedConversations writes n conversations with member and a seed author as participants
// and perConv messages each, through the store, and returns their sids.
func benchSeedConversations(t *testing.T, env *servertest.Env, member string, n, perConv int) []string {
	t.Helper()
	ctx := context.Background()
	st := env.Store
	const author = "bench-author"
	start := time.Now()
	sids := make([]string, 0, n)
	for i := range n {
		c, err := st.CreateConversation(ctx, store.NewConversation{FriendlyName: fmt.Sprintf("bench %d", i), CreatedBy: author})
		require.NoError(t, err)
		p, _, err := st.AddParticipant(ctx, store.NewParticipant{ConversationSid: c.Sid, Identity: author})
		require.NoError(t, err)
		_, _, err = st.AddParticipant(ctx, store.NewParticipant{ConversationSid: c.Sid, Identity: member})
		require.NoError(t, err)
		benchSeedMessages(t, env, c.Sid, author, p.Sid, perConv)
		sids = append(sids, c.Sid)
	}
	t.Logf("seeded %d conversations of %d messages for %s in %v", n, perConv, member, time.Since(start).Round(time.Millisecond))
	return sids
}

// seedMessages writes n messages by author into a conversation through the store. The bodies
// are chat-sized (about 80 characters).
func benchSeedMessages(t *testing.T, env *servertest.Env, conv, author, participantSid string, n int) {
	t.Helper()
	ctx := context.Background()
	for i := range n {
		body := fmt.Sprintf("message %d: the quick brown fox jumps over the lazy dog, then naps in the sun", i)
		_, _, _, err := env.Store.SendMessage(ctx, store.NewMessage{ConversationSid: conv, Author: author, ParticipantSid: participantSid, Body: &body})
		require.NoError(t, err)
	}
}

// openLab opens a tab on the lab page (bench-lab.js) and waits until the SDK has loaded.
func benchOpenLab(t *testing.T, b *Browser, env *servertest.Env, name string) *Tab {
	t.Helper()
	tab := b.NewTab(name)
	tab.Navigate(env.HTTPURL + "/bench/bench-lab.html")
	MustEval[bool](tab, `
		const deadline = Date.now() + 120000;
		while (!window.labReady) {
			if (Date.now() > deadline) throw new Error('the lab page did not load the SDK');
			await new Promise((r) => setTimeout(r, 10));
		}
		return true;`)
	return tab
}

func benchMedian(xs []float64) float64 {
	return benchPercentile(xs, 50)
}

// percentile is the nearest-rank percentile of xs (0 when empty).
func benchPercentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if p == 50 && len(s)%2 == 0 {
		return (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	i := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}

func benchRound(x float64, digits int) float64 {
	f := math.Pow(10, float64(digits))
	return math.Round(x*f) / f
}

// --- 2. Ready time and initialisation --------------------------------------------------------

// benchReadyResult is one page load of the ready comparison.
type benchReadyResult struct {
	Ms       float64 `json:"ms"`
	OK       bool    `json:"ok"`
	Transfer int64   `json:"transfer"`
}

// benchLoads numbers page loads, so every navigation has its own URL and is a real one (a URL
// that differs only in its fragment would not reload the page).
var benchLoads int

func benchURL(base, page, fragment string) string {
	benchLoads++
	u := fmt.Sprintf("%s/bench/%s?load=%d", base, page, benchLoads)
	if fragment != "" {
		u += "#" + fragment
	}
	return u
}

// benchLoadReady navigates to a ready page and returns what it recorded.
func benchLoadReady(t *testing.T, tab *Tab, url string) benchReadyResult {
	t.Helper()
	tab.Navigate(url)
	r := MustEval[benchReadyResult](tab, `
		const deadline = Date.now() + 30000;
		while (!window.benchReady) {
			if (Date.now() > deadline) throw new Error('the page never became ready');
			await new Promise((r) => setTimeout(r, 5));
		}
		let transfer = performance.getEntriesByType('navigation')[0].transferSize;
		for (const e of performance.getEntriesByType('resource')) transfer += e.transferSize;
		return { ...window.benchReady, transfer };`)
	require.True(t, r.OK, "the Client of %s is not a constructor", url)
	return r
}

type benchInitResult struct {
	ReadyMs       float64 `json:"readyMs"`
	InitializedMs float64 `json:"initializedMs"`
	Conversations int     `json:"conversations"`
	StoreBytes    int64   `json:"storeBytes"`
	State         string  `json:"state"`
	Error         string  `json:"error"`
}

// benchLoadInit navigates to the init page and returns what it recorded.
func benchLoadInit(t *testing.T, tab *Tab, url string, wantConvs int) benchInitResult {
	t.Helper()
	tab.Navigate(url)
	r := MustEval[benchInitResult](tab, `
		const deadline = Date.now() + 30000;
		while (!window.benchInit) {
			if (Date.now() > deadline) throw new Error('the client never initialised');
			await new Promise((r) => setTimeout(r, 5));
		}
		return window.benchInit;`)
	require.Empty(t, r.Error)
	require.Equal(t, wantConvs, r.Conversations, "conversations announced with initialized")
	return r
}

// benchSetCache turns the tab's HTTP cache off (cold loads) or on.
func benchSetCache(t *testing.T, tab *Tab, disabled bool) {
	t.Helper()
	// The Network domain is on only to switch the cache; with its default buffers DevTools
	// keeps (and at the end re-encodes) a copy of every response body on the page's main
	// thread, a cost no user pays that grows with the size of what is loaded.
	none := int64(0)
	_, err := chromedp.Call(tab.Ctx, network.Enable, network.EnableParams{MaxTotalBufferSize: &none, MaxResourceBufferSize: &none})
	require.NoError(t, err)
	_, err = chromedp.Call(tab.Ctx, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: disabled})
	require.NoError(t, err)
}

// benchEmulateLink throttles every request of the tab: latency in ms, throughputs in bytes/s
// (-1: unthrottled).
func benchEmulateLink(t *testing.T, tab *Tab, latencyMs, down, up float64) {
	t.Helper()
	_, err := chromedp.Call(tab.Ctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
		MatchedNetworkConditions: []*network.Conditions{{Latency: latencyMs, DownloadThroughput: down, UploadThroughput: up}},
	})
	require.NoError(t, err)
}

func TestBenchReady(t *testing.T) {
	cfg := benchSetup(t)
	env := benchServer(t, true, servertest.Options{})
	const identity = "bench-init"
	nConv, perConv := 100, 50
	n := cfg.pick(11, 3) // loads of each page; odd, so the median is one load

	browser := NewBrowser(t, 10*time.Minute)
	tab := browser.NewTab("ready")
	convoURL := func() string { return benchURL(env.HTTPURL, "bench-ready-convo.html", "") }
	vendorURL := func() string { return benchURL(env.HTTPURL, "bench-ready-vendor.html", "") }
	// A fresh token per load would change nothing measured; one serves every load.
	token := env.Token(identity, time.Hour)
	initURL := func() string { return benchURL(env.HTTPURL, "bench-init.html", token) }

	// The pair is measured alternately, so drift on a shared machine hits both alike; one
	// unmeasured load of each first (browser and server warm-up, and the cache in warm mode).
	pair := func(cold bool, n int) benchfig.ReadyPair {
		benchSetCache(t, tab, cold)
		benchLoadReady(t, tab, convoURL())
		benchLoadReady(t, tab, vendorURL())
		var p benchfig.ReadyPair
		for range n {
			c := benchLoadReady(t, tab, convoURL())
			v := benchLoadReady(t, tab, vendorURL())
			p.ConvoAll = append(p.ConvoAll, benchRound(c.Ms, 1))
			p.VendorAll = append(p.VendorAll, benchRound(v.Ms, 1))
			p.ConvoTransfer, p.VendorTransfer = c.Transfer, v.Transfer
		}
		p.ConvoMs, p.VendorMs = benchMedian(p.ConvoAll), benchMedian(p.VendorAll)
		p.Ratio = benchRound(p.ConvoMs/p.VendorMs, 2)
		return p
	}
	fig := benchfig.Ready{Loads: n}
	fig.Cold = pair(true, n)
	fig.Warm = pair(false, n)
	// A slow mobile link, as DevTools emulates it: 1.6 Mbit/s down, 750 kbit/s up, 150 ms
	// round trip (DevTools' "Slow 4G" is about this).
	fig.SlowLink, fig.SlowLoads = "1.6 Mbit/s down, 750 kbit/s up, 150 ms RTT", cfg.pick(5, 1)
	benchEmulateLink(t, tab, 150, 1.6e6/8, 750e3/8)
	fig.SlowCold = pair(true, fig.SlowLoads)
	fig.SlowWarm = pair(false, fig.SlowLoads)
	benchEmulateLink(t, tab, 0, -1, -1)

	// Seeded only now: the store's background work after the writes (checkpoints, link
	// moves) would otherwise share the CPU with the first ready loads.
	benchSeedConversations(t, env, identity, nConv, perConv)
	fig.Init = benchfig.Init{Conversations: nConv, MessagesPerConversation: perConv}
	var warmReady []float64
	for _, cold := range []bool{true, false} {
		benchSetCache(t, tab, cold)
		benchLoadInit(t, tab, initURL(), nConv)
		for range n {
			r := benchLoadInit(t, tab, initURL(), nConv)
			if cold {
				fig.Init.ColdAll = append(fig.Init.ColdAll, benchRound(r.InitializedMs, 1))
			} else {
				fig.Init.WarmAll = append(fig.Init.WarmAll, benchRound(r.InitializedMs, 1))
				warmReady = append(warmReady, r.ReadyMs)
			}
		}
	}
	fig.Init.ColdMs, fig.Init.WarmMs = benchMedian(fig.Init.ColdAll), benchMedian(fig.Init.WarmAll)
	fig.Init.WarmReadyMs = benchRound(benchMedian(warmReady), 1)

	// From the local store (HTTP cache on): one load opens every conversation so the store
	// holds 100 × 50, then each load is initialised by it, before the server answers.
	storedURL := func(mode string) string {
		return benchURL(env.HTTPURL, "bench-init.html", "") + "&" + mode + "=1#" + token
	}
	primed := benchLoadInit(t, tab, storedURL("prime"), nConv)
	fig.Init.StoreBytes = primed.StoreBytes
	benchLoadInit(t, tab, storedURL("store"), nConv)
	for range n {
		r := benchLoadInit(t, tab, storedURL("store"), nConv)
		require.Equal(t, "connecting", r.State, "initialised by the store, before the server answered")
		fig.Init.StoredAll = append(fig.Init.StoredAll, benchRound(r.InitializedMs-r.ReadyMs, 1))
	}
	fig.Init.StoredMs = benchMedian(fig.Init.StoredAll)
	var sinceReady []float64
	for i, ms := range fig.Init.WarmAll {
		if i < len(warmReady) {
			sinceReady = append(sinceReady, ms-warmReady[i])
		}
	}
	fig.Init.WarmSinceReadyMs = benchRound(benchMedian(sinceReady), 1)
	t.Logf("ready: %+v", fig)
	cfg.record(t, "ready", fig)
}

// --- 3. Delivery throughput and latency ------------------------------------------------------

type benchReplay struct {
	Ms        float64 `json:"ms"`
	Messages  int     `json:"messages"`
	BodyChars int     `json:"bodyChars"`
	LastIndex int     `json:"lastIndex"`
}

func TestBenchThroughput(t *testing.T) {
	cfg := benchSetup(t)
	n := cfg.pick(20000, 2000)
	// Both readers get the messages as a replay of the stream from the store: they are
	// committed before either reads, and each reader resumes from the offset before them. The
	// server then sends the same frames down the same path (store → writer → socket) to both,
	// at the pace the reader takes them, so the bare WebSocket's rate is the ceiling of what
	// this server can hand this page, and no sender's pace or rate limit blurs either figure.
	// Retention keeps every event of the run.
	env := benchServer(t, false, servertest.Options{Retention: 2*n + 100})
	const reader, author = "bench-reader", "bench-author"
	ctx := context.Background()
	conv, err := env.Store.CreateConversation(ctx, store.NewConversation{FriendlyName: "throughput", CreatedBy: author})
	require.NoError(t, err)
	p, _, err := env.Store.AddParticipant(ctx, store.NewParticipant{ConversationSid: conv.Sid, Identity: author})
	require.NoError(t, err)
	_, _, err = env.Store.AddParticipant(ctx, store.NewParticipant{ConversationSid: conv.Sid, Identity: reader})
	require.NoError(t, err)

	browser := NewBrowser(t, 10*time.Minute)
	tab := benchOpenLab(t, browser, env, "throughput")
	token := env.Token(reader, time.Hour)
	MustEval[map[string]int](tab, `return await lab.start(`+jsString(token)+`);`)
	MustEval[int](tab, `return lab.watch();`)

	timeout := strconv.Itoa(int((5 * time.Minute).Milliseconds()))
	rounds := cfg.pick(3, 1)
	fig := benchfig.Throughput{Messages: n, Rounds: rounds}
	var sdkRates, bareRates []float64
	for range rounds {
		head, err := env.Store.StreamHead(ctx, reader)
		require.NoError(t, err)
		// Committed through the store while the SDK is connected: nothing is pushed to it
		// (the server pushes what its own handlers commit), which replay checks.
		start := time.Now()
		benchSeedMessages(t, env, conv.Sid, author, p.Sid, n)
		t.Logf("seeded %d messages in %v", n, time.Since(start).Round(time.Millisecond))
		b := MustEval[benchReplay](tab, fmt.Sprintf(`return await lab.bare(%s, %s, %s, %d, %d);`,
			jsString(env.URL), jsString(token), jsString(head.Epoch), head.Last, n))
		sdk := MustEval[benchReplay](tab, fmt.Sprintf(`return await lab.replay(%d, %s);`, n, timeout))
		require.Equal(t, n, b.Messages)
		require.Equal(t, sdk.BodyChars, b.BodyChars, "the SDK and the bare reader saw different bodies")
		require.Equal(t, sdk.LastIndex, b.LastIndex)
		fig.SDKMs = append(fig.SDKMs, benchRound(sdk.Ms, 1))
		fig.BareMs = append(fig.BareMs, benchRound(b.Ms, 1))
		sdkRates = append(sdkRates, float64(n)/sdk.Ms*1000)
		bareRates = append(bareRates, float64(n)/b.Ms*1000)
	}
	fig.SDKPerSec = benchRound(benchMedian(sdkRates), 0)
	fig.BarePerSec = benchRound(benchMedian(bareRates), 0)
	fig.Ratio = benchRound(fig.SDKPerSec/fig.BarePerSec, 3)
	t.Logf("throughput: %+v", fig)
	cfg.record(t, "throughput", fig)
}

func TestBenchLatency(t *testing.T) {
	cfg := benchSetup(t)
	n := cfg.pick(300, 40)
	const interval = 50 // ms: 20 messages a second, under every default rate limit
	env := benchServer(t, false, servertest.Options{})
	ctx := context.Background()
	conv, err := env.Store.CreateConversation(ctx, store.NewConversation{FriendlyName: "latency", CreatedBy: "bench-a"})
	require.NoError(t, err)
	for _, id := range []string{"bench-a", "bench-b"} {
		_, _, err = env.Store.AddParticipant(ctx, store.NewParticipant{ConversationSid: conv.Sid, Identity: id})
		require.NoError(t, err)
	}
	browser := NewBrowser(t, 10*time.Minute)
	a, b := benchOpenLab(t, browser, env, "A"), benchOpenLab(t, browser, env, "B")
	MustEval[map[string]int](a, `return await lab.start(`+jsString(env.Token("bench-a", time.Hour))+`);`)
	MustEval[map[string]int](b, `return await lab.start(`+jsString(env.Token("bench-b", time.Hour))+`);`)
	MustEval[bool](b, `return lab.receive();`)
	MustEval[int](a, fmt.Sprintf(`return await lab.sendPaced(%s, %d, %d);`, jsString(conv.Sid), n, interval))

	type received struct {
		At   float64 `json:"at"`
		Body string  `json:"body"`
	}
	var got []received
	deadline := time.Now().Add(30 * time.Second)
	for len(got) < n && time.Now().Before(deadline) {
		got = MustEval[[]received](b, `return lab.received();`)
		time.Sleep(50 * time.Millisecond)
	}
	require.Len(t, got, n, "messages B received")
	var lat []float64
	for _, r := range got {
		f := strings.Fields(r.Body)
		require.Len(t, f, 3, r.Body)
		sent, err := strconv.ParseFloat(f[2], 64)
		require.NoError(t, err)
		lat = append(lat, r.At-sent)
	}
	fig := benchfig.Latency{Messages: n, IntervalMs: interval,
		P50Ms: benchRound(benchPercentile(lat, 50), 2), P99Ms: benchRound(benchPercentile(lat, 99), 2), MaxMs: benchRound(slices.Max(lat), 2),
		Visibility: MustEval[string](a, `return lab.visibility();`) + "/" + MustEval[string](b, `return lab.visibility();`)}
	t.Logf("latency: %+v", fig)
	cfg.record(t, "latency", fig)
}

// --- 4. Memory -------------------------------------------------------------------------------

// measureMemory forces a full GC through the DevTools protocol and reads the page's figures.
func benchMeasureMemory(t *testing.T, tab *Tab) benchfig.MemorySample {
	t.Helper()
	for i := range 2 { // a second pass collects what finalizers of the first freed
		if i > 0 {
			// FinalizationRegistry callbacks run as tasks after the collection that found their
			// objects dead: the SDK's drop the WeakRef of each collected message wrapper then.
			// Two turns of the event loop let them run, and the releases they schedule.
			MustEval[bool](tab, `await new Promise((r) => setTimeout(r, 0)); await new Promise((r) => setTimeout(r, 0)); return true;`)
		}
		_, err := chromedp.Call(tab.Ctx, heapprofiler.CollectGarbage, cdp.Empty{})
		require.NoError(t, err)
	}
	heap, err := chromedp.Call(tab.Ctx, cdpruntime.GetHeapUsage, cdp.Empty{})
	require.NoError(t, err)
	s := benchfig.MemorySample{WasmBytes: MustEval[int64](tab, `return lab.wasmBytes();`), JSHeapBytes: int64(heap.UsedSize)}
	s.TotalBytes = s.WasmBytes + s.JSHeapBytes
	return s
}

func TestBenchMemory(t *testing.T) {
	cfg := benchSetup(t)
	nConv, perConv := cfg.pick(1000, 50), cfg.pick(100, 20)
	// A thousand page requests at once: the per-connection request limit would only make the
	// load slower (the SDK retries), not change what it caches.
	env := benchServer(t, false, servertest.Options{Configure: func(c *server.Config) { c.RequestRate = -1 }})
	const identity = "bench-memory"
	benchSeedConversations(t, env, identity, nConv, perConv)

	// Each measurement has a browser of its own, so nothing else shares the JS heap.
	sample := func(name, identity string, wantConvs, wantMessages int) benchfig.MemorySample {
		browser := NewBrowser(t, 10*time.Minute)
		tab := benchOpenLab(t, browser, env, name)
		got := MustEval[map[string]int](tab, `return await lab.start(`+jsString(env.Token(identity, time.Hour))+`);`)
		require.Equal(t, wantConvs, got["conversations"])
		if wantMessages > 0 {
			loaded := MustEval[map[string]int](tab, fmt.Sprintf(`return await lab.loadMessages(%d, 20);`, perConv))
			require.Equal(t, wantMessages, loaded["messages"])
		}
		return benchMeasureMemory(t, tab)
	}
	fig := benchfig.Memory{Conversations: nConv, MessagesPerConversation: perConv, CachedMessages: nConv * perConv}
	fig.Empty = sample("empty", "bench-empty", 0, 0)
	fig.Loaded = sample("loaded", identity, nConv, nConv*perConv)
	fig.BytesPerMessage = benchRound(float64(fig.Loaded.TotalBytes-fig.Empty.TotalBytes)/float64(fig.CachedMessages), 1)
	t.Logf("memory: %+v", fig)
	cfg.record(t, "memory", fig)
}
