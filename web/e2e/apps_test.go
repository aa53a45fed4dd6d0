package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/convo-sdk/convo/server"
	"github.com/convo-sdk/convo/server/servertest"
	"github.com/stretchr/testify/require"
)

// The React example app (web/apps/react-chat), installed from the packed package and built
// with Vite and with webpack 5 once per test run by web/apps/build.sh.
var (
	appsOnce sync.Once
	appsDir  string // the installed app: dist-vite/, dist-webpack/, node_modules/
	appsErr  error
)

func reactApp(t *testing.T) string {
	t.Helper()
	appsOnce.Do(func() {
		root, err := repoRoot()
		if err != nil {
			appsErr = err
			return
		}
		out := filepath.Join(filepath.Dir(dist), "apps") // removed with dist by TestMain
		cmd := exec.Command("bash", filepath.Join(root, "web", "apps", "build.sh"), filepath.Join(dist, "sdk"), out)
		if b, err := cmd.CombinedOutput(); err != nil {
			appsErr = fmt.Errorf("web/apps/build.sh (it needs npm and the npm registry): %v\n%s", err, b)
			return
		}
		appsDir = filepath.Join(out, "react-chat")
	})
	if appsErr != nil {
		t.Fatal(appsErr)
	}
	return appsDir
}

// serveStatic serves dir from its own port: another origin than the convo server's.
func serveStatic(t *testing.T, dir string) *httptest.Server {
	hs := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(hs.Close)
	return hs
}

func hostOf(t *testing.T, rawURL string) string {
	u, err := url.Parse(rawURL)
	require.NoError(t, err)
	return u.Host
}

// startServerAllowing runs a convo server that accepts pages from origin host.
func startServerAllowing(t *testing.T, host string) *servertest.Env {
	return servertest.Start(t, servertest.Options{Configure: func(c *server.Config) {
		c.AllowedOrigins = []string{host}
	}})
}

// waitPage polls a JS condition in the page until it holds, failing with what and with the
// page's #status and #error when it never does.
func waitPage(t *testing.T, tab *Tab, what, cond string) {
	t.Helper()
	MustEval[bool](tab, fmt.Sprintf(`
		const deadline = Date.now() + 20000;
		const text = (sel) => { const el = document.querySelector(sel); return el ? el.textContent : ''; };
		for (;;) {
			if (%s) return true;
			if (Date.now() > deadline) throw new Error(%s + ' (status: ' + text('#status') + ', error: ' + text('#error') + ')');
			await new Promise((r) => setTimeout(r, 25));
		}`, cond, jsString("never saw: "+what)))
}

// bodies returns the texts of the open conversation's messages, in order.
const bodiesJS = `[...document.querySelectorAll('#messages .message .body')].map((e) => e.textContent).join(',')`

// listJS is the text of the conversation list entry named name (” when missing).
func listJS(name string) string {
	return fmt.Sprintf(`([...document.querySelectorAll('#conversations .conversation')].find((li) => li.querySelector('.name').textContent === %s) || { textContent: '' })`, jsString(name))
}

func unreadIs(name, want string) string {
	return fmt.Sprintf(`((li) => li.querySelector && li.querySelector('.unread').textContent === %s)(%s)`, jsString(want), listJS(name))
}

func openConversation(t *testing.T, tab *Tab, name string) {
	t.Helper()
	MustEval[bool](tab, listJS(name)+`.click(); return true;`)
	waitPage(t, tab, "conversation "+name+" open", `text('#conversation h2').startsWith(`+jsString(name)+`)`)
}

func say(tab *Tab, text string) {
	tab.Do(chromedp.SendKeys(chromedp.CSS("#draft"), text), chromedp.Click(chromedp.CSS("#send")))
}

// TestReactAppBuiltWithViteAndWebpack drives the React example app, built by Vite and by
// webpack 5 from the installed package, through the vendor SDK's usual patterns, with alice
// and bob in two tabs. The app is served from another origin than the convo server, which
// names that origin in its allowed origins.
//
// The Vite build is served the way web/README.md tells: the package's precompressed copies of
// convo.wasm put next to the renamed asset, here on a second convod that serves them.
func TestReactAppBuiltWithViteAndWebpack(t *testing.T) {
	app := reactApp(t)
	t.Run("vite", func(t *testing.T) {
		site := compressedCopy(t, app, "dist-vite")
		env := startServerAllowing(t, hostOf(t, site.HTTPURL))
		chatScenario(t, env, site.HTTPURL+"/", "vite room", true)
	})
	t.Run("webpack", func(t *testing.T) {
		site := serveStatic(t, filepath.Join(app, "dist-webpack"))
		env := startServerAllowing(t, hostOf(t, site.URL))
		chatScenario(t, env, site.URL+"/", "webpack room", false)
	})
}

// compressedCopy copies the build and puts convo.wasm.br and .gz from the installed package
// beside each .wasm under its emitted name, then serves the copy from a convod of its own.
func compressedCopy(t *testing.T, app, build string) *servertest.Env {
	dir := filepath.Join(t.TempDir(), build)
	require.NoError(t, os.CopyFS(dir, os.DirFS(filepath.Join(app, build))))
	wasms, err := filepath.Glob(filepath.Join(dir, "assets", "*.wasm"))
	require.NoError(t, err)
	require.Len(t, wasms, 1, "one renamed convo.wasm in the Vite build")
	pkg := filepath.Join(app, "node_modules", "@convo-sdk", "conversations")
	for _, ext := range []string{".br", ".gz"} {
		b, err := os.ReadFile(filepath.Join(pkg, "convo.wasm"+ext))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(wasms[0]+ext, b, 0o644))
	}
	return servertest.Start(t, servertest.Options{Static: os.DirFS(dir)})
}

func chatScenario(t *testing.T, env *servertest.Env, pageURL, room string, compressed bool) {
	browser := NewBrowser(t, 150*time.Second)
	alice, bob := browser.NewTab("alice"), browser.NewTab("bob")
	bobURL := pageURL + "?token=" + url.QueryEscape(env.Token("bob", time.Hour))
	alice.Navigate(pageURL + "?token=" + url.QueryEscape(env.Token("alice", time.Hour)))
	bob.Navigate(bobURL)
	for _, tab := range []*Tab{alice, bob} {
		waitPage(t, tab, "the client initialised", `text('#status') === 'ready'`)
	}
	// The engine came from the build's renamed copy, compressed on the wire when so served.
	type wasmEntry struct {
		Name    string `json:"name"`
		Encoded int    `json:"encoded"`
		Decoded int    `json:"decoded"`
	}
	w := MustEval[wasmEntry](alice, `
		const e = performance.getEntriesByType('resource').find((r) => r.name.endsWith('.wasm'));
		return e ? { name: e.name, encoded: e.encodedBodySize, decoded: e.decodedBodySize } : { name: '' };`)
	require.NotEmpty(t, w.Name, "no .wasm loaded")
	require.NotContains(t, path.Base(w.Name), "convo.wasm", "the bundler's renamed copy must be loaded")
	if compressed {
		require.Less(t, w.Encoded*2, w.Decoded, "%s must come compressed", w.Name)
	} else {
		require.Equal(t, w.Encoded, w.Decoded, "%s is served raw here", w.Name)
	}

	// alice creates a conversation and adds bob: both lists show it, from conversationJoined.
	alice.Do(
		chromedp.SendKeys(chromedp.CSS("#new-name"), room),
		chromedp.SendKeys(chromedp.CSS("#invitee"), "bob"),
		chromedp.Click(chromedp.CSS("#create")),
	)
	waitPage(t, alice, "the new conversation in alice's list", listJS(room)+`.textContent !== ''`)
	waitPage(t, bob, "the conversation alice added bob to, in bob's list", listJS(room)+`.textContent !== ''`)
	waitPage(t, alice, "the new conversation open", `text('#conversation h2').startsWith(`+jsString(room)+`)`)

	// Six messages; bob opens the conversation on the newest page of five, then pages back.
	for i := 1; i <= 6; i++ {
		say(alice, fmt.Sprintf("m%d", i))
		waitPage(t, alice, fmt.Sprintf("m%d sent", i), bodiesJS+fmt.Sprintf(`.endsWith('m%d')`, i))
	}
	openConversation(t, bob, room)
	waitPage(t, bob, "the newest page", bodiesJS+` === 'm2,m3,m4,m5,m6' && !!document.querySelector('#older')`)
	bob.Do(chromedp.Click(chromedp.CSS("#older")))
	waitPage(t, bob, "the older page before it", bodiesJS+` === 'm1,m2,m3,m4,m5,m6' && !document.querySelector('#older')`)

	// Read horizon: open means read; a message while closed is unread until opened again.
	waitPage(t, bob, "no unread messages once read", unreadIs(room, "0"))
	bob.Do(chromedp.Click(chromedp.CSS("#close")))
	say(alice, "m7")
	waitPage(t, bob, "one unread message", unreadIs(room, "1"))
	openConversation(t, bob, room)
	waitPage(t, bob, "m7 shown", bodiesJS+`.endsWith('m6,m7')`)
	waitPage(t, bob, "m7 read", unreadIs(room, "0"))

	// Typing: bob types without sending; alice sees it start, then end; then bob sends it.
	bob.Do(chromedp.SendKeys(chromedp.CSS("#draft"), "typing"))
	waitPage(t, alice, "bob typing", `text('#typing') === 'bob typing…'`)
	waitPage(t, alice, "bob's typing ended", `text('#typing') === ''`)
	bob.Do(chromedp.Click(chromedp.CSS("#send")))
	waitPage(t, alice, "bob's typed message", bodiesJS+`.endsWith('m7,typing')`)

	// Media: alice sends an image as FormData; bob's page shows it through its temporary URL.
	png := filepath.Join(t.TempDir(), "dot.png")
	require.NoError(t, os.WriteFile(png, onePixelPNG, 0o644))
	alice.Do(chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{png}))
	for _, tab := range []*Tab{alice, bob} {
		waitPage(t, tab, "the image loaded", `[...document.querySelectorAll('#messages img.media')].some((img) => img.complete && img.naturalWidth === 1)`)
	}

	// bob answers.
	say(bob, "hi alice")
	waitPage(t, alice, "bob's answer", bodiesJS+`.endsWith('hi alice')`)
	waitPage(t, bob, "bob's answer in his own page", bodiesJS+`.endsWith('hi alice')`)

	// bob reloads: a new client lists the conversation again, from conversationJoined.
	bob.Navigate(bobURL)
	waitPage(t, bob, "the client initialised after the reload", `text('#status') === 'ready'`)
	waitPage(t, bob, "the conversation listed after the reload", listJS(room)+`.textContent !== ''`)
	openConversation(t, bob, room)
	waitPage(t, bob, "the history after the reload", bodiesJS+`.endsWith('hi alice')`)
}

// TestReactAppOnViteDevServer runs the same app from Vite's dev server, which serves the
// package pre-bundled from node_modules/.vite/deps/ (convo.wasm is not there).
func TestReactAppOnViteDevServer(t *testing.T) {
	app := reactApp(t)
	port := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	vite := exec.CommandContext(ctx, filepath.Join(app, "node_modules", ".bin", "vite"), "--host", "127.0.0.1", "--port", port, "--strictPort")
	vite.Dir = app
	out, err := vite.StdoutPipe()
	require.NoError(t, err)
	vite.Stderr = vite.Stdout
	require.NoError(t, vite.Start())
	ready, logged := make(chan struct{}), make(chan struct{})
	t.Cleanup(func() {
		cancel()
		<-logged // no logging once the test is over
		_ = vite.Wait()
	})
	go func() {
		defer close(logged)
		s := bufio.NewScanner(out)
		signalled := false
		for s.Scan() {
			t.Logf("[vite] %s", s.Text())
			if !signalled && strings.Contains(s.Text(), "ready in") {
				signalled = true
				close(ready)
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(30 * time.Second):
		t.Fatal("vite's dev server did not start")
	}
	origin := "http://127.0.0.1:" + port
	env := startServerAllowing(t, hostOf(t, origin))
	browser := NewBrowser(t, 90*time.Second)
	alice := browser.NewTab("alice")
	alice.Navigate(origin + "/?token=" + url.QueryEscape(env.Token("alice", time.Hour)))
	waitPage(t, alice, "the client initialised", `text('#status') === 'ready'`)
	alice.Do(chromedp.SendKeys(chromedp.CSS("#new-name"), "dev"), chromedp.Click(chromedp.CSS("#create")))
	waitPage(t, alice, "the conversation open", `text('#conversation h2').startsWith('dev')`)
	say(alice, "from vite dev")
	waitPage(t, alice, "the message", bodiesJS+` === 'from vite dev'`)
}

// TestReactAppFromDisallowedOriginSaysWhatToSet loads the built app from an origin the
// server was not told about: the app's connectionError must name the setting.
func TestReactAppFromDisallowedOriginSaysWhatToSet(t *testing.T) {
	app := reactApp(t)
	site := serveStatic(t, filepath.Join(app, "dist-webpack"))
	env := servertest.Start(t) // same-origin pages only
	browser := NewBrowser(t, 60*time.Second)
	tab := browser.NewTab("refused")
	tab.Navigate(site.URL + "/?token=" + url.QueryEscape(env.Token("alice", time.Hour)))
	host := hostOf(t, site.URL)
	waitPage(t, tab, "an error naming --allowed-origins", `text('#error').includes(`+jsString("--allowed-origins="+host)+`) && text('#error').includes('CONVO_ALLOWED_ORIGINS')`)
	waitPage(t, tab, "still not initialised", `text('#status') === 'connecting'`)
}

func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
}
