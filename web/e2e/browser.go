// Package e2e drives the real SDK (the wasm build and the npm package files) and the demo page
// in headless Chromium against a real convo server on 127.0.0.1.
package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/convo-sdk/convo/internal/wasmbuild"
)

// BuildDist compiles the wasm SDK from the current source and assembles the web folder
// (demo page + npm package) into dir, exactly as `make web` does.
func BuildDist(dir string) error {
	root, err := repoRoot()
	if err != nil {
		return err
	}
	wasm := filepath.Join(dir, "convo.wasm")
	build := exec.Command("go", append(append([]string{"build"}, wasmbuild.Flags...), "-o", wasm, "./wasm")...)
	build.Dir = root
	build.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("building the wasm SDK: %v\n%s", err, out)
	}
	assemble := exec.Command("bash", filepath.Join(root, "web", "build.sh"), wasm)
	assemble.Env = append(os.Environ(), "CONVO_DIST="+filepath.Join(dir, "dist"))
	if out, err := assemble.CombinedOutput(); err != nil {
		return fmt.Errorf("assembling web/dist: %v\n%s", err, out)
	}
	return nil
}

func repoRoot() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", fmt.Errorf("cannot locate the repository")
	}
	return filepath.Abs(filepath.Join(filepath.Dir(file), "..", ".."))
}

// chromiumPath finds the browser; make test installs Debian's chromium.
func chromiumPath() (string, error) {
	for _, name := range []string{os.Getenv("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no Chromium found: run `make test-deps` (apt-get install chromium) or set CHROMIUM")
}

// Browser is a headless Chromium for one test; tabs share it.
type Browser struct {
	t   testing.TB
	ctx context.Context
}

// NewBrowser starts Chromium. It stops when the test ends or after timeout.
func NewBrowser(t testing.TB, timeout time.Duration) *Browser {
	t.Helper()
	path, err := chromiumPath()
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.DisableGPU,
		chromedp.NoSandbox, // as root Chromium refuses to start with its sandbox
		// The network is closed here: stop Chromium dialling out on its own.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	ctx, cancelTimeout := context.WithTimeout(context.Background(), timeout)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
		cancelTimeout()
	})
	if err := chromedp.Do(browserCtx); err != nil { // starts the browser
		t.Fatalf("starting Chromium: %v", err)
	}
	return &Browser{t: t, ctx: browserCtx}
}

// Tab is one page.
type Tab struct {
	t    testing.TB
	name string
	Ctx  context.Context
}

// NewTab opens a tab whose console lines go to the test log, prefixed with name.
func (b *Browser) NewTab(name string) *Tab {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	if err := chromedp.Do(ctx); err != nil { // opens the tab
		cancel()
		b.t.Fatalf("opening a tab: %v", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range chromedp.Console(ctx) {
			if err != nil {
				return
			}
			b.t.Logf("[%s] %s", name, m.String())
		}
	}()
	// Stop the console reader before the test ends: logging after that panics.
	b.t.Cleanup(func() {
		cancel()
		<-done
	})
	return &Tab{t: b.t, name: name, Ctx: ctx}
}

// Navigate opens url and waits for the load event.
func (tab *Tab) Navigate(url string) {
	tab.t.Helper()
	tab.Do(chromedp.Navigate(url))
}

// Do runs chromedp actions, failing the test on error.
func (tab *Tab) Do(actions ...chromedp.Action[chromedp.Void]) {
	tab.t.Helper()
	if err := chromedp.Do(tab.Ctx, actions...); err != nil {
		tab.t.Fatalf("[%s] %v", tab.name, err)
	}
}

// Eval runs an async JS function body in the page, awaits it and decodes its JSON result.
func Eval[T any](tab *Tab, body string) (T, error) {
	expr := "(async () => {\n" + body + "\n})()"
	return chromedp.Run(tab.Ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
}

// MustEval is Eval that fails the test on error.
func MustEval[T any](tab *Tab, body string) T {
	tab.t.Helper()
	v, err := Eval[T](tab, body)
	if err != nil {
		tab.t.Fatalf("[%s] script failed: %v\n%s", tab.name, err, body)
	}
	return v
}

// Text returns the text content of the first element matching a CSS selector.
func (tab *Tab) Text(selector string) string {
	tab.t.Helper()
	s, err := chromedp.Run(tab.Ctx, chromedp.TextContent(chromedp.CSS(selector)))
	if err != nil {
		tab.t.Fatalf("[%s] text of %s: %v", tab.name, selector, err)
	}
	return s
}
