package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/convo-sdk/convo/internal/benchfig"
)

// runBrowser runs the browser benchmarks of web/e2e against the built web folder and the
// vendor bundle, and appends the budgets of issue 6 items 2 to 4.
func runBrowser(cfg config, r *Report) error {
	dist, err := filepath.Abs(cfg.dist)
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(dist, "sdk", "index.js")); err != nil {
		return fmt.Errorf("no built SDK in %s (run make web): %w", cfg.dist, err)
	}
	vendorJS, err := vendorBundle(cfg.scratch)
	if err != nil {
		return err
	}
	out := filepath.Join(cfg.scratch, "browser.json")
	os.Remove(out) // each test adds its part to the file
	cmd := exec.Command("go", "test", "./web/e2e", "-run", "^TestBench", "-count=1", "-timeout", "20m", "-v")
	cmd.Dir = cfg.root
	cmd.Env = append(os.Environ(), "CONVO_BENCH_OUT="+out, "CONVO_BENCH_VENDOR="+vendorJS, "CONVO_BENCH_DIST="+dist)
	if cfg.quick {
		cmd.Env = append(cmd.Env, "CONVO_BENCH_QUICK=1")
	}
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr // the test log is the progress report
	runErr := cmd.Run()
	b, err := os.ReadFile(out)
	if err != nil {
		if runErr != nil {
			return fmt.Errorf("go test ./web/e2e -run ^TestBench: %w", runErr)
		}
		return err
	}
	var f benchfig.Figures
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("reading %s: %w", out, err)
	}
	r.Browser = &f
	// Budgets of what was measured, even when a later test failed.
	if f.Ready != nil {
		r.Budgets = append(r.Budgets,
			budget("ready (cold): convo / vendor, navigation → Client", f.Ready.Cold.Ratio, 1.3, "x", false),
			budget("ready (warm): convo / vendor, navigation → Client", f.Ready.Warm.Ratio, 2, "x", false),
			budget(fmt.Sprintf("initialized, %d conversations × %d messages (cold)", f.Ready.Init.Conversations, f.Ready.Init.MessagesPerConversation), f.Ready.Init.ColdMs, 150, "ms", false),
			budget("initialized from the local store, after the Client is usable", f.Ready.Init.StoredMs, 30, "ms", false))
	}
	if f.Throughput != nil {
		r.Budgets = append(r.Budgets, budget("delivery into JS: SDK / bare WebSocket ceiling", f.Throughput.Ratio*100, 65, "%", true))
	}
	if f.Latency != nil {
		r.Budgets = append(r.Budgets, budget("latency A.sendMessage → B.messageAdded, p99", f.Latency.P99Ms, 30, "ms", false))
	}
	if f.Memory != nil {
		r.Budgets = append(r.Budgets, budget(fmt.Sprintf("memory, %d conversations × %d cached messages", f.Memory.Conversations, f.Memory.MessagesPerConversation), float64(f.Memory.Loaded.TotalBytes)/1e6, 70, "MB", false))
	}
	if runErr != nil {
		return fmt.Errorf("go test ./web/e2e -run ^TestBench: %w", runErr)
	}
	return nil
}

func printBrowser(f *benchfig.Figures) {
	note := ""
	if f.Quick {
		note = " (quick: small loads, not comparable)"
	}
	fmt.Printf("\nSDK in headless Chromium%s\n", note)
	if r := f.Ready; r != nil {
		fmt.Printf("%-52s %12s %12s %10s\n", fmt.Sprintf("ready, navigation → Client (median of %d)", r.Loads), "convo", "vendor", "ratio")
		for _, p := range []struct {
			name string
			benchfig.ReadyPair
		}{{"  cold (HTTP cache off)", r.Cold}, {"  warm (cached)", r.Warm},
			{fmt.Sprintf("  slow link, cold (median of %d)", r.SlowLoads), r.SlowCold}, {fmt.Sprintf("  slow link, warm (median of %d)", r.SlowLoads), r.SlowWarm}} {
			fmt.Printf("%-52s %9.1f ms %9.1f ms %9.2fx\n", p.name, p.ConvoMs, p.VendorMs, p.Ratio)
		}
		fmt.Printf("%-52s %9.0f kB %9.0f kB\n", "  bytes over the wire, cold", float64(r.Cold.ConvoTransfer)/1e3, float64(r.Cold.VendorTransfer)/1e3)
		fmt.Printf("%-52s %9.1f ms (warm %.1f ms; Client usable at %.1f ms)\n",
			fmt.Sprintf("initialized, %d conversations × %d messages, cold", r.Init.Conversations, r.Init.MessagesPerConversation),
			r.Init.ColdMs, r.Init.WarmMs, r.Init.WarmReadyMs)
		if r.Init.StoredAll != nil {
			fmt.Printf("%-52s %9.1f ms after the Client is usable (from the server: %.1f ms); store %.0f kB\n",
				"  from the local store, before the server answers", r.Init.StoredMs, r.Init.WarmSinceReadyMs, float64(r.Init.StoreBytes)/1e3)
		}
	}
	if t := f.Throughput; t != nil {
		fmt.Printf("%-52s %12s %12s %10s\n", fmt.Sprintf("delivery, %d messages × %d rounds (median msg/s)", t.Messages, t.Rounds), "SDK", "bare WS", "ratio")
		fmt.Printf("%-52s %12.0f %12.0f %9.1f%%\n", "  messageAdded listener vs JSON.parse per frame", t.SDKPerSec, t.BarePerSec, t.Ratio*100)
	}
	if l := f.Latency; l != nil {
		fmt.Printf("%-52s p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
			fmt.Sprintf("latency A.sendMessage → B.messageAdded (%d, 1/%d ms)", l.Messages, l.IntervalMs), l.P50Ms, l.P99Ms, l.MaxMs)
	}
	if m := f.Memory; m != nil {
		fmt.Printf("%-52s %12s %12s %12s\n", fmt.Sprintf("memory, %d × %d cached messages (MB)", m.Conversations, m.MessagesPerConversation), "wasm", "JS heap", "total")
		for _, s := range []struct {
			name string
			benchfig.MemorySample
		}{{"  empty client", m.Empty}, {"  loaded", m.Loaded}} {
			fmt.Printf("%-52s %12.1f %12.1f %12.1f\n", s.name, float64(s.WasmBytes)/1e6, float64(s.JSHeapBytes)/1e6, float64(s.TotalBytes)/1e6)
		}
		fmt.Printf("%-52s %12.0f\n", "  bytes per cached message (loaded − empty)", m.BytesPerMessage)
	}
}
