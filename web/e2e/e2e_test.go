package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/convo-sdk/convo/server/servertest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// dist is the demo page and npm package built from the current source for this test run.
var dist string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "convo-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := BuildDist(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	dist = filepath.Join(dir, "dist")
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// startServer runs a real convo server on 127.0.0.1 serving the built web folder, with the
// dev token endpoint the demo page logs in through.
func startServer(t *testing.T) *servertest.Env {
	return servertest.Start(t, servertest.Options{Static: os.DirFS(dist), DevTokens: true})
}

// loginScript makes a client for identity in the page and keeps what the test inspects on
// window.t: the client, its received messages and its connection states.
// With viaCreate the client comes from the static Client.create, which resolves once
// initialised; otherwise from new Client().
func loginScript(identity string, viaCreate bool) string {
	construct := "new Client(token)"
	if viaCreate {
		construct = "await Client.create(token)"
	}
	return `
		const { Client } = await import('/sdk/index.js');
		const res = await fetch('/v1/dev/token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ identity: '` + identity + `' }) });
		if (!res.ok) throw new Error('dev token: HTTP ' + res.status);
		const { token } = await res.json();
		const client = ` + construct + `;
		const t = window.t = { client, states: [], messages: [], convMessages: [] };
		client.on('connectionStateChanged', (s) => t.states.push(s));
		client.on('messageAdded', (m) => t.messages.push({
			body: m.body, author: m.author, index: m.index, sid: m.sid,
			isDate: m.dateCreated instanceof Date, convSid: m.conversation.sid,
		}));
		// Registered after initialisation on purpose: replay must still deliver it.
		await new Promise((resolve, reject) => {
			const poll = () => client.connectionState === 'connected' ? setTimeout(resolve, 200) : setTimeout(poll, 20);
			poll();
			client.on('initFailed', ({ error }) => reject(error));
		});
		await new Promise((resolve) => client.onWithReplay('initialized', resolve));
		return { identity: client.user.identity, states: t.states, isClient: client instanceof Client };
	`
}

type loginResult struct {
	Identity string   `json:"identity"`
	States   []string `json:"states"`
	IsClient bool     `json:"isClient"`
}

type seenMessage struct {
	Body    string `json:"body"`
	Author  string `json:"author"`
	Index   int    `json:"index"`
	Sid     string `json:"sid"`
	IsDate  bool   `json:"isDate"`
	ConvSid string `json:"convSid"`
}

// waitMessages waits until the page's client has seen n messages and returns them.
func waitMessages(t *testing.T, tab *Tab, n int) []seenMessage {
	t.Helper()
	return MustEval[[]seenMessage](tab, fmt.Sprintf(`
		const deadline = Date.now() + 10000;
		while (window.t.messages.length < %d) {
			if (Date.now() > deadline) throw new Error('only ' + window.t.messages.length + ' messages arrived: ' + JSON.stringify(window.t.messages));
			await new Promise((r) => setTimeout(r, 20));
		}
		return window.t.messages;`, n))
}

func TestTwoUsersChatThroughTheSDK(t *testing.T) {
	env := startServer(t)
	browser := NewBrowser(t, 90*time.Second)
	alice, bob := browser.NewTab("alice"), browser.NewTab("bob")
	alice.Navigate(env.HTTPURL + "/")
	bob.Navigate(env.HTTPURL + "/")

	a := MustEval[loginResult](alice, loginScript("alice", false))
	assert.Equal(t, loginResult{Identity: "alice", States: []string{"connecting", "connected"}, IsClient: true}, a)
	b := MustEval[loginResult](bob, loginScript("bob", true))
	assert.Equal(t, loginResult{Identity: "bob", States: []string{}, IsClient: true}, b, "create resolves after the connection is up")

	// Alice creates a conversation through the vendor-style API and joins it.
	type created struct {
		Sid          string `json:"sid"`
		FriendlyName string `json:"friendlyName"`
		Status       string `json:"status"`
		CreatedBy    string `json:"createdBy"`
		IsDate       bool   `json:"isDate"`
	}
	conv := MustEval[created](alice, `
		const c = await window.t.client.createConversation({ friendlyName: 'e2e room' });
		window.t.conv = c;
		const joined = await c.join();
		if (joined !== c) throw new Error('join() must resolve to the same Conversation object');
		return { sid: c.sid, friendlyName: c.friendlyName, status: c.status, createdBy: c.createdBy, isDate: c.dateCreated instanceof Date };`)
	require.True(t, strings.HasPrefix(conv.Sid, "CH"), conv.Sid)
	assert.Equal(t, created{Sid: conv.Sid, FriendlyName: "e2e room", Status: "joined", CreatedBy: "alice", IsDate: true}, conv)

	// Bob finds it by sid (peek), joins, and the same sid stays the same object.
	MustEval[bool](bob, `
		const c = await window.t.client.peekConversationBySid('`+conv.Sid+`');
		await c.join();
		window.t.conv = c;
		window.t.conv.on('messageAdded', (m) => window.t.convMessages.push(m.body));
		const again = await window.t.client.getConversationBySid('`+conv.Sid+`');
		if (again !== c) throw new Error('the same sid must be the same object');
		return true;`)

	// Alice sends; sendMessage resolves to the new message's index.
	index := MustEval[int](alice, `return await window.t.conv.sendMessage('hi bob');`)
	assert.Equal(t, 0, index)
	got := waitMessages(t, bob, 1)
	assert.Equal(t, seenMessage{Body: "hi bob", Author: "alice", Index: 0, Sid: got[0].Sid, IsDate: true, ConvSid: conv.Sid}, got[0])
	assert.True(t, strings.HasPrefix(got[0].Sid, "IM"), got[0].Sid)

	// And back: Alice sees Bob's message through Client and Conversation listeners.
	index = MustEval[int](bob, `return await window.t.conv.sendMessage('hi alice');`)
	assert.Equal(t, 1, index)
	seen := waitMessages(t, alice, 2)
	assert.Equal(t, []string{"hi bob", "hi alice"}, []string{seen[0].Body, seen[1].Body})
	assert.Equal(t, "bob", seen[1].Author)
	assert.Equal(t, []string{"hi bob", "hi alice"}, MustEval[[]string](bob, `return window.t.convMessages;`))

	// History pages come back ascending, through the paginator.
	history := MustEval[[]string](bob, `
		const page = await window.t.conv.getMessages();
		if (page.hasPrevPage) throw new Error('two messages fit one page');
		return page.items.map((m) => m.author + ': ' + m.body);`)
	assert.Equal(t, []string{"alice: hi bob", "bob: hi alice"}, history)

	// Errors reject with a JS Error that carries a numeric code.
	type failure struct {
		IsError bool   `json:"isError"`
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	f := MustEval[failure](alice, `
		try { await window.t.client.getConversationBySid('CH00000000000000000000000000000000'); return {}; }
		catch (e) { return { isError: e instanceof Error, code: e.code, message: e.message }; }`)
	assert.True(t, f.IsError)
	assert.Equal(t, 40400, f.Code, f.Message)
}

func TestDemoPageChat(t *testing.T) {
	env := startServer(t)
	browser := NewBrowser(t, 90*time.Second)
	alice, bob := browser.NewTab("alice"), browser.NewTab("bob")
	for _, tab := range []*Tab{alice, bob} {
		tab.Navigate(env.HTTPURL + "/")
	}
	waitText := func(tab *Tab, selector, want string) {
		t.Helper()
		MustEval[bool](tab, fmt.Sprintf(`
			const deadline = Date.now() + 10000;
			for (;;) {
				const el = document.querySelector(%q);
				if (el && el.textContent.includes(%q)) return true;
				if (Date.now() > deadline) throw new Error('%s never showed %s; it shows: ' + (el ? el.textContent : '(missing)'));
				await new Promise((r) => setTimeout(r, 20));
			}`, selector, want, selector, want))
	}
	// The login buttons are enabled once the SDK module has booted.
	alice.Do(chromedp.WaitEnabled(chromedp.CSS("#login-alice")), chromedp.Click(chromedp.CSS("#login-alice")))
	waitText(alice, "#state", "connected")
	alice.Do(
		chromedp.SendKeys(chromedp.CSS("#new-conversation-name"), "demo room"),
		chromedp.Click(chromedp.CSS("#create-conversation")),
	)
	waitText(alice, "#conversations", "demo room")
	sid := MustEval[string](alice, `
		const deadline = Date.now() + 10000;
		while (!/^CH/.test(document.querySelector('#current-sid').textContent.trim())) {
			if (Date.now() > deadline) throw new Error('no current sid');
			await new Promise((r) => setTimeout(r, 20));
		}
		return document.querySelector('#current-sid').textContent.trim();`)

	bob.Do(chromedp.WaitEnabled(chromedp.CSS("#login-bob")), chromedp.Click(chromedp.CSS("#login-bob")))
	waitText(bob, "#state", "connected")
	bob.Do(
		chromedp.SendKeys(chromedp.CSS("#join-sid"), sid),
		chromedp.Click(chromedp.CSS("#join")),
	)
	waitText(bob, "#conversations", "demo room")

	// A body full of markup must be shown as text, never run.
	hostile := `<img src=x onerror="window.pwned=1">`
	alice.Do(
		chromedp.SendKeys(chromedp.CSS("#message-input"), "hello from alice"),
		chromedp.Click(chromedp.CSS("#send")),
	)
	waitText(bob, "#messages", "hello from alice")
	bob.Do(
		chromedp.SendKeys(chromedp.CSS("#message-input"), hostile),
		chromedp.Click(chromedp.CSS("#send")),
	)
	waitText(alice, "#messages", hostile)
	waitText(bob, "#messages", hostile)
	for _, tab := range []*Tab{alice, bob} {
		safe := MustEval[bool](tab, `return window.pwned === undefined && document.querySelectorAll('#messages img').length === 0;`)
		assert.True(t, safe, "message markup must render as text")
	}
	assert.Contains(t, alice.Text("#messages"), "hello from alice")

	// Alice edits her message through the page; Bob sees the new text.
	alice.Do(chromedp.Click(chromedp.CSS("#messages li.mine .edit")))
	MustEval[bool](alice, `document.querySelector('#message-input').value = ''; return true;`)
	alice.Do(
		chromedp.SendKeys(chromedp.CSS("#message-input"), "hello, edited"),
		chromedp.Click(chromedp.CSS("#send")),
	)
	waitText(bob, "#messages", "hello, edited")
	assert.NotContains(t, bob.Text("#messages"), "hello from alice")

	// Bob attaches an image; both pages show it, loaded through a temporary URL.
	png := filepath.Join(t.TempDir(), "dot.png")
	require.NoError(t, os.WriteFile(png, onePixelPNG, 0o644))
	bob.Do(chromedp.SetUploadFiles(chromedp.CSS("#attach"), []string{png}))
	for _, tab := range []*Tab{alice, bob} {
		waitText(tab, "#messages", "dot.png")
		loaded := MustEval[bool](tab, `
			const deadline = Date.now() + 10000;
			for (;;) {
				const img = document.querySelector('#messages img');
				if (img && img.complete && img.naturalWidth === 1) return true;
				if (Date.now() > deadline) throw new Error('image not shown: ' + (img ? img.src : 'no img'));
				await new Promise((r) => setTimeout(r, 20));
			}`)
		assert.True(t, loaded)
	}

	// Alice deletes her message; it disappears for Bob.
	alice.Do(chromedp.Click(chromedp.CSS("#messages li.mine .delete")))
	MustEval[bool](bob, `
		const deadline = Date.now() + 10000;
		while (document.querySelector('#messages').textContent.includes('hello, edited')) {
			if (Date.now() > deadline) throw new Error('the deleted message is still shown');
			await new Promise((r) => setTimeout(r, 20));
		}
		return true;`)
}

// onePixelPNG is a valid 1×1 PNG.
var onePixelPNG = []byte{
	0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
	0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
	0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0,
	0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
	0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
}
