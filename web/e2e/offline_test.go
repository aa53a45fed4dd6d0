package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/chromedp"
	"github.com/convo-sdk/convo/core"
	"github.com/convo-sdk/convo/server/auth"
	"github.com/convo-sdk/convo/server/servertest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// wsGate is a TCP proxy in front of the server that lets page loads through always and the
// server's API (the WebSocket, media uploads) only while it is up: a page can be reloaded
// "offline" and find the server unreachable, as a browser does with a cached page.
type wsGate struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	down   bool
	ws     map[net.Conn]bool // every open connection
}

func newWSGate(t *testing.T, target string) *wsGate {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	g := &wsGate{ln: ln, target: target, ws: map[net.Conn]bool{}}
	t.Cleanup(func() { ln.Close(); g.setDown(true) })
	go g.serve()
	return g
}

func (g *wsGate) addr() string { return g.ln.Addr().String() }

// setDown closes every open connection and refuses new ones to the API (true), or lets them
// through again (false).
func (g *wsGate) setDown(down bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.down = down
	if down {
		for c := range g.ws {
			c.Close()
		}
	}
}

func (g *wsGate) serve() {
	for {
		in, err := g.ln.Accept()
		if err != nil {
			return
		}
		go g.pipe(in)
	}
}

func (g *wsGate) pipe(in net.Conn) {
	defer in.Close()
	// Read the request head to see whether it is a WebSocket upgrade.
	r := bufio.NewReader(in)
	var head strings.Builder
	for {
		line, err := r.ReadString('\n')
		head.WriteString(line)
		if err != nil {
			return
		}
		if line == "\r\n" {
			break
		}
	}
	isWS := strings.Contains(strings.ToLower(head.String()), "upgrade: websocket")
	_, path, _ := strings.Cut(head.String(), " ")
	isAPI := isWS || strings.HasPrefix(path, "/v1/") // the WebSocket and media uploads
	g.mu.Lock()
	if isAPI && g.down {
		g.mu.Unlock()
		return
	}
	out, err := net.Dial("tcp", g.target)
	if err != nil {
		g.mu.Unlock()
		return
	}
	defer out.Close()
	// Every connection is tracked, not only WebSockets: a kept-alive one that loaded the page
	// would otherwise carry a later upload through.
	g.ws[in], g.ws[out] = true, true
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		delete(g.ws, in)
		delete(g.ws, out)
		g.mu.Unlock()
	}()
	if _, err := io.WriteString(out, head.String()); err != nil {
		return
	}
	done := make(chan struct{}, 2)
	go func() { io.Copy(out, r); done <- struct{}{} }()
	go func() { io.Copy(in, out); done <- struct{}{} }()
	<-done
}

// gatedPage opens the server's page through a wsGate in a new browser, with a token whose
// WebSocket URL goes through the gate too.
func gatedPage(t *testing.T, env *servertest.Env, identity string) (*wsGate, *Tab, string) {
	gate := newWSGate(t, strings.TrimPrefix(env.HTTPURL, "http://"))
	token, err := auth.Mint(env.Key, identity, time.Hour, "ws://"+gate.addr()+"/v1/ws")
	require.NoError(t, err)
	tab := NewBrowser(t, 120*time.Second).NewTab(identity)
	tab.Navigate("http://" + gate.addr() + "/")
	return gate, tab, token
}

// offlineLogin starts a client in the page and waits for initialized, without waiting for a
// connection; window.t keeps what the test inspects.
func offlineLogin(token string) string {
	return `
		const { Client } = await import('/sdk/index.js');
		const client = new Client(` + jsString(token) + `);
		const t = window.t = { client, messages: [], warnings: [] };
		client.on('messageAdded', (m) => t.messages.push(m.body));
		await new Promise((resolve, reject) => {
			client.on('initialized', resolve);
			client.on('initFailed', ({ error }) => reject(error));
		});
		return client.connectionState;`
}

type offlineView struct {
	Conversations []string `json:"conversations"`
	Messages      []string `json:"messages"`
	Participants  int      `json:"participants"`
	Pending       []string `json:"pending"`
	Earlier       []bool   `json:"earlier"`
	Files         []string `json:"files"`
	OfflineCode   int      `json:"offlineCode"`
	OfflineMillis float64  `json:"offlineMillis"`
}

// offlineRead reads what the page's client holds, and tries a call that needs the server.
const offlineRead = `
	const c = window.t.client;
	const page = await c.getSubscribedConversations();
	const conv = page.items[0];
	const msgs = await conv.getMessages();
	const parts = await conv.getParticipants();
	const pending = await c.getPendingMessages();
	const started = performance.now();
	let offlineCode = 0;
	try { await c.createConversation({ friendlyName: 'needs the server' }); } catch (e) { offlineCode = e.code; }
	return {
		conversations: page.items.map((x) => x.friendlyName),
		messages: msgs.items.map((m) => m.body),
		participants: parts.length,
		pending: pending.map((p) => p.body),
		earlier: pending.map((p) => p.fromEarlierSession),
		files: pending.flatMap((p) => p.files.map((f) => f.filename + ':' + f.size)),
		offlineCode, offlineMillis: performance.now() - started,
	};`

// A returning page reads its conversations and messages while the server is out of reach;
// what was typed offline, across a reload, is delivered once and in order when the network
// returns; a third load, online, announces nothing again.
func TestOfflineReloadKeepsStateAndSends(t *testing.T) {
	env := startServer(t)
	gate, tab, token := gatedPage(t, env, "alice")
	assert.Equal(t, "connected", MustEval[string](tab, offlineLogin(token)), "a first start is initialised by the server")

	bob, room := nativeRoom(t, env, "bob", "alice")
	bobSaw := watchBodies(bob)
	for _, body := range []string{"one", "two", "three"} {
		_, err := room.SendMessage(context.Background(), body, nil)
		require.NoError(t, err)
	}
	// The page shows the member list, as a chat app does.
	MustEval[bool](tab, `while (window.t.messages.length < 3) await new Promise((r) => setTimeout(r, 20));
		await (await window.t.client.getSubscribedConversations()).items[0].getParticipants();
		return true;`)
	time.Sleep(2 * core.PersistDelay)

	gate.setDown(true)
	MustEval[bool](tab, `
		while (window.t.client.connectionState === 'connected') await new Promise((r) => setTimeout(r, 20));
		const conv = (await window.t.client.getSubscribedConversations()).items[0];
		conv.sendMessage('offline 1').catch(() => {});
		conv.sendMessage('offline 2').catch(() => {});
		conv.sendMessage({ contentType: 'text/plain', filename: 'notes.txt', media: new Blob(['typed offline, attached']) }).catch(() => {});
		while ((await window.t.client.getPendingMessages()).length < 3) await new Promise((r) => setTimeout(r, 20));
		return true;`)

	tab.Do(chromedp.Reload())
	assert.Equal(t, "connecting", MustEval[string](tab, offlineLogin(token)), "initialised from the store before any connection")
	view := MustEval[offlineView](tab, offlineRead)
	assert.Equal(t, []string{"room"}, view.Conversations)
	assert.Equal(t, []string{"one", "two", "three"}, view.Messages)
	assert.Equal(t, 2, view.Participants)
	assert.Equal(t, []string{"offline 1", "offline 2", ""}, view.Pending)
	assert.Equal(t, []bool{true, true, true}, view.Earlier)
	assert.Equal(t, []string{"notes.txt:23"}, view.Files)
	assert.Equal(t, int(core.CodeClientOffline), view.OfflineCode)
	assert.Less(t, view.OfflineMillis, 1000.0, "a call that needs the server fails at once")
	assert.Empty(t, MustEval[[]string](tab, `return window.t.messages;`), "stored messages are history")

	gate.setDown(false)
	MustEval[bool](tab, `window.dispatchEvent(new Event('online'));
		while (window.t.messages.length < 3) await new Promise((r) => setTimeout(r, 20));
		while ((await window.t.client.getPendingMessages()).length > 0) await new Promise((r) => setTimeout(r, 20));
		return true;`)
	waitUntil(t, "bob to get all three", func() bool { return len(bobSaw.list()) >= 6 })
	time.Sleep(500 * time.Millisecond)
	assert.Equal(t, []string{"one", "two", "three", "offline 1", "offline 2", "[notes.txt]"}, bobSaw.list(), "delivered once, in order")
	assert.Equal(t, []string{"offline 1", "offline 2", ""}, MustEval[[]string](tab, `return window.t.messages.map((b) => b || '');`))
	time.Sleep(2 * core.PersistDelay)

	tab.Do(chromedp.Reload())
	MustEval[string](tab, offlineLogin(token))
	MustEval[bool](tab, `while (window.t.client.connectionState !== 'connected') await new Promise((r) => setTimeout(r, 20)); return true;`)
	time.Sleep(500 * time.Millisecond)
	assert.Empty(t, MustEval[[]string](tab, `return window.t.messages;`), "nothing announced again")
	assert.Empty(t, MustEval[[]string](tab, `return (await window.t.client.getPendingMessages()).map((p) => p.body);`))
	assert.Len(t, bobSaw.list(), 6)
}

// Two tabs of one identity send at once: every message is delivered once; one tab writes
// the store (the Web Lock's holder), and a reload of the other starts from it.
func TestTwoTabsOfOneIdentityShareTheStore(t *testing.T) {
	env := startServer(t)
	browser := NewBrowser(t, 120*time.Second)
	token := env.Token("alice", time.Hour)
	first, second := browser.NewTab("alice-1"), browser.NewTab("alice-2")
	for _, tab := range []*Tab{first, second} {
		tab.Navigate(env.HTTPURL + "/")
		MustEval[string](tab, offlineLogin(token))
	}
	bob, _ := nativeRoom(t, env, "bob", "alice")
	bobSaw := watchBodies(bob)
	for _, tab := range []*Tab{first, second} {
		MustEval[bool](tab, `while ((await window.t.client.getSubscribedConversations()).items.length < 1) await new Promise((r) => setTimeout(r, 20)); return true;`)
	}
	send := func(tab *Tab, name string) {
		MustEval[bool](tab, fmt.Sprintf(`
			const conv = (await window.t.client.getSubscribedConversations()).items[0];
			await Promise.all([0, 1, 2, 3, 4].map((i) => conv.sendMessage(%s + ' ' + i)));
			return true;`, jsString(name)))
	}
	var wg sync.WaitGroup
	for i, tab := range []*Tab{first, second} {
		wg.Add(1)
		go func() { defer wg.Done(); send(tab, fmt.Sprintf("tab%d", i+1)) }()
	}
	wg.Wait()
	waitUntil(t, "bob to get ten", func() bool { return len(bobSaw.list()) >= 10 })
	time.Sleep(500 * time.Millisecond)
	got := bobSaw.list()
	assert.Len(t, got, 10, "each message once: %v", got)
	seen := map[string]bool{}
	for _, b := range got {
		assert.False(t, seen[b], "twice: %s", b)
		seen[b] = true
	}
	time.Sleep(2 * core.PersistDelay)

	// The second tab reloads: it starts from the store the first one keeps writing.
	second.Do(chromedp.Reload())
	MustEval[string](second, offlineLogin(token))
	msgs := MustEval[[]string](second, `
		const conv = (await window.t.client.getSubscribedConversations()).items[0];
		return (await conv.getMessages(50)).items.map((m) => m.body);`)
	assert.Len(t, msgs, 10)
}

// An IndexedDB record that cannot be decoded is discarded with a warning and the page starts
// from the server.
func TestABadBrowserStoreIsDiscarded(t *testing.T) {
	env := startServer(t)
	browser := NewBrowser(t, 120*time.Second)
	token := env.Token("alice", time.Hour)
	tab := browser.NewTab("alice")
	tab.Navigate(env.HTTPURL + "/")
	MustEval[string](tab, offlineLogin(token))
	_, room := nativeRoom(t, env, "bob", "alice")
	_, err := room.SendMessage(context.Background(), "hello", nil)
	require.NoError(t, err)
	MustEval[bool](tab, `while (window.t.messages.length < 1) await new Promise((r) => setTimeout(r, 20)); return true;`)
	time.Sleep(2 * core.PersistDelay)
	MustEval[bool](tab, `await window.t.client.shutdown(); return true;`)

	// Spoil the stored conversation record.
	MustEval[bool](tab, `
		const dbs = await indexedDB.databases();
		const name = dbs.map((d) => d.name).find((n) => n.startsWith('convo'));
		const db = await new Promise((ok, fail) => { const r = indexedDB.open(name); r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });
		const tx = db.transaction('kv', 'readwrite');
		const s = tx.objectStore('kv');
		const keys = await new Promise((ok) => { const r = s.getAllKeys(); r.onsuccess = () => ok(r.result); });
		const conv = keys.find((k) => k.startsWith('conv\u0000'));
		s.put(new TextEncoder().encode('7\n{broken'), conv);
		await new Promise((ok) => { tx.oncomplete = ok; });
		db.close();
		return true;`)
	tab.Do(chromedp.Reload())
	MustEval[string](tab, offlineLogin(token))
	n := MustEval[int](tab, `return (await window.t.client.getSubscribedConversations()).items.length;`)
	assert.Equal(t, 1, n, "started from the server")
	assert.Equal(t, "connected", MustEval[string](tab, `return window.t.client.connectionState;`))

	// Log-out erases the store.
	left := MustEval[[]string](tab, `
		await new Promise((r) => setTimeout(r, 600)); // the first write
		if (!(await indexedDB.databases()).some((d) => d.name.startsWith('convo'))) throw new Error('nothing stored');
		await window.t.client.eraseLocalStore();
		return (await indexedDB.databases()).map((d) => d.name).filter((n) => n.startsWith('convo'));`)
	assert.Empty(t, left, "eraseLocalStore deletes the database")
	assert.Equal(t, "disconnected", MustEval[string](tab, `return window.t.client.connectionState;`))
}

// With a storage quota of one byte (Chromium refuses every IndexedDB write with
// QuotaExceededError) the client says it keeps its state in memory, and chats.
func TestAFullBrowserStoreLeavesTheClientInMemory(t *testing.T) {
	env := startServer(t)
	browser := NewBrowser(t, 120*time.Second)
	tab := browser.NewTab("carol")
	tab.Navigate(env.HTTPURL + "/")
	quota := 1.0
	_, err := chromedp.Call(tab.Ctx, storage.OverrideQuotaForOrigin, storage.OverrideQuotaForOriginParams{Origin: env.HTTPURL, QuotaSize: &quota})
	require.NoError(t, err)
	MustEval[bool](tab, `
		window.logged = [];
		for (const level of ['log', 'warn', 'error']) {
			const orig = console[level].bind(console);
			console[level] = (...a) => { window.logged.push(a.join(' ')); orig(...a); };
		}
		return true;`)
	MustEval[string](tab, offlineLogin(env.Token("carol", time.Hour)))
	_, room := nativeRoom(t, env, "bob", "carol")
	_, err = room.SendMessage(context.Background(), "to carol", nil)
	require.NoError(t, err)
	MustEval[bool](tab, `while (window.t.messages.length < 1) await new Promise((r) => setTimeout(r, 20)); return true;`)
	time.Sleep(2 * core.PersistDelay)
	logged := MustEval[[]string](tab, `return window.logged;`)
	assert.Contains(t, strings.Join(logged, "\n"), "in memory", "the client says it keeps its state in memory")
	sent := MustEval[int](tab, `
		const conv = (await window.t.client.getSubscribedConversations()).items[0];
		return await conv.sendMessage('from carol');`)
	assert.Equal(t, 1, sent)
}

// nativeRoom makes identity (a Go client) create a conversation "room" and add other to it.
func nativeRoom(t *testing.T, env *servertest.Env, identity, other string) (*core.Client, *core.Conversation) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c := core.New(env.Token(identity, time.Hour), &core.Options{Logf: t.Logf})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c.Shutdown(ctx)
	})
	require.NoError(t, c.WaitInitialized(ctx))
	conv, err := c.CreateConversation(ctx, core.CreateConversationOptions{FriendlyName: "room"})
	require.NoError(t, err)
	require.NoError(t, conv.Join(ctx))
	require.NoError(t, conv.Add(ctx, other, nil))
	return c, conv
}

type bodyLog struct {
	mu  sync.Mutex
	got []string
}

func (l *bodyLog) list() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.got...)
}

func watchBodies(c *core.Client) *bodyLog {
	l := &bodyLog{}
	c.OnMessageAdded(func(m *core.Message) {
		s := ""
		if b := m.Body(); b != nil {
			s = *b
		}
		for _, f := range m.AttachedMedia() {
			s += "[" + f.Filename() + "]"
		}
		l.mu.Lock()
		l.got = append(l.got, s)
		l.mu.Unlock()
	})
	return l
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The server's event log is pruned past the page's stored position while the page is away:
// the returning page starts from its store, resynchronises (the missed messages once, in
// order, and the rename), and its store then holds the corrected state, which an offline
// reload shows.
func TestAPrunedLogResyncsTheStoredState(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Static: os.DirFS(dist), Retention: 2})
	gate, tab, token := gatedPage(t, env, "alice")
	MustEval[string](tab, offlineLogin(token))
	_, room := nativeRoom(t, env, "bob", "alice")
	_, err := room.SendMessage(context.Background(), "before", nil)
	require.NoError(t, err)
	MustEval[bool](tab, `while (window.t.messages.length < 1) await new Promise((r) => setTimeout(r, 20));
		await window.t.client.shutdown(); return true;`)

	missed := []string{"m1", "m2", "m3", "m4", "m5"}
	for _, body := range missed {
		_, err := room.SendMessage(context.Background(), body, nil)
		require.NoError(t, err)
	}
	renamed := "renamed"
	require.NoError(t, room.Update(context.Background(), core.UpdateConversationOptions{FriendlyName: &renamed}))

	tab.Do(chromedp.Reload())
	MustEval[string](tab, offlineLogin(token))
	MustEval[bool](tab, `while (window.t.messages.length < 5) await new Promise((r) => setTimeout(r, 20)); return true;`)
	time.Sleep(500 * time.Millisecond)
	assert.Equal(t, missed, MustEval[[]string](tab, `return window.t.messages;`), "the missed messages, once, in order")
	time.Sleep(2 * core.PersistDelay)

	gate.setDown(true)
	tab.Do(chromedp.Reload())
	MustEval[string](tab, offlineLogin(token))
	view := MustEval[offlineView](tab, offlineRead)
	assert.Equal(t, []string{"renamed"}, view.Conversations)
	assert.Equal(t, append([]string{"before"}, missed...), view.Messages)
}
