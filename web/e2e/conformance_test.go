package e2e

// Conformance scenarios: the SDK in headless Chromium against a real server, checked against
// the vendor client's behaviour as docs/VENDOR-BEHAVIOUR.md specifies it (section numbers
// below are that document's). Each tab runs a recorder that listens, in the page, to every
// Client event and, when asked, to a Conversation, Message, Participant or User, appending
// compact records to one ordered log; `R.mark(name, promise)` appends "resolved:name" in the
// promise's continuation, where an app's `await` would resume. A scenario waits for the
// records it expects plus a short settle time, filters the log to the records it is about and
// compares the exact sequence with the specification's.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/convo-sdk/convo/server/auth"
	"github.com/convo-sdk/convo/server/servertest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// settleTime is how long a scenario keeps listening after its expected records arrived, so that
// an extra or late record shows up in the comparison.
const settleTime = 300 * time.Millisecond

// pageErrorsScript runs before any of the page's own scripts, in every document of the tab:
// it records uncaught exceptions, unhandled rejections and console.error lines (the SDK
// reports exceptions thrown by listeners there).
const pageErrorsScript = `(() => {
	window.__pageErrors = [];
	const describe = (x) => (x && (x.stack || x.message)) || String(x);
	window.addEventListener('error', (e) => window.__pageErrors.push('uncaught error: ' + (e.error ? describe(e.error) : e.message)));
	window.addEventListener('unhandledrejection', (e) => window.__pageErrors.push('unhandled rejection: ' + describe(e.reason)));
	const consoleError = console.error.bind(console);
	console.error = (...args) => { window.__pageErrors.push('console.error: ' + args.map(describe).join(' ')); consoleError(...args); };
})();`

// recorderScript makes a Client from token, with the recorder's listeners registered in the
// same task as the constructor (so nothing the client emits is missed), and waits for
// initialisation. The app's own initialized listener lists the subscribed conversations, as
// vendor apps do at start-up, and logs "app:subscribed:<friendly names>".
func recorderScript(token string) string {
	return `
		const { Client } = await import('/sdk/index.js');
		const R = window.R = { log: [], convs: {}, watched: new Set() };
		R.push = (s, sid, st) => R.log.push({ s, sid: sid || '', st: st || '' });
		R.reset = () => { R.log = []; };
		const note = (c) => { if (c && c.sid) R.convs[c.sid] = c; return c; };
		const reasons = (a) => (a.updateReasons || []).join(',');
		// Each describer returns [detail, conversation sid, conversation status].
		const d = {
			conversation: (c) => { note(c); return [c.friendlyName || '', c.sid, c.status]; },
			conversationUpdate: (a) => { note(a.conversation); return [reasons(a), a.conversation.sid, a.conversation.status]; },
			participant: (p) => [p.identity, p.conversation && p.conversation.sid],
			participantUpdate: (a) => [a.participant.identity + ':' + reasons(a), a.participant.conversation && a.participant.conversation.sid],
			message: (m) => ['#' + m.index + ':' + m.body, m.conversation && m.conversation.sid],
			messageUpdate: (a) => ['#' + a.message.index + ':' + reasons(a), a.message.conversation && a.message.conversation.sid],
			user: (u) => [u.identity],
			userUpdate: (a) => [a.user.identity + ':' + reasons(a)],
			string: (s) => [String(s)],
			none: () => [''],
			connectionError: (e) => [e && e.terminal ? 'terminal' : 'transient'],
			initFailed: (a) => [String(a && a.error && a.error.message)],
		};
		const listen = (obj, scope, events) => {
			for (const [ev, kind] of Object.entries(events)) {
				obj.on(ev, (arg) => {
					try {
						const [detail, sid, st] = d[kind](arg);
						R.push(scope + ':' + ev + (detail ? ':' + detail : ''), sid, st);
					} catch (e) {
						window.__pageErrors.push('recorder failed on ' + scope + ':' + ev + ': ' + e.message);
					}
				});
			}
		};
		R.events = {
			client: {
				connectionStateChanged: 'string', connectionError: 'connectionError', stateChanged: 'string',
				initialized: 'none', initFailed: 'initFailed', tokenAboutToExpire: 'none', tokenExpired: 'none',
				conversationAdded: 'conversation', conversationJoined: 'conversation', conversationLeft: 'conversation',
				conversationRemoved: 'conversation', conversationUpdated: 'conversationUpdate',
				participantJoined: 'participant', participantLeft: 'participant', participantUpdated: 'participantUpdate',
				messageAdded: 'message', messageUpdated: 'messageUpdate', messageRemoved: 'message',
				typingStarted: 'participant', typingEnded: 'participant',
				userUpdated: 'userUpdate', userSubscribed: 'user', userUnsubscribed: 'user',
			},
			conv: {
				participantJoined: 'participant', participantLeft: 'participant', participantUpdated: 'participantUpdate',
				messageAdded: 'message', messageUpdated: 'messageUpdate', messageRemoved: 'message',
				typingStarted: 'participant', typingEnded: 'participant', updated: 'conversationUpdate', removed: 'conversation',
			},
			message: { updated: 'messageUpdate' },
			participant: { typingStarted: 'participant', typingEnded: 'participant', updated: 'participantUpdate' },
			user: { updated: 'userUpdate', userSubscribed: 'user', userUnsubscribed: 'user' },
		};
		// watch records a Conversation's, Message's, Participant's or User's own events.
		R.watch = (obj, scope) => {
			if (!obj) throw new Error('nothing to watch for ' + scope);
			if (R.watched.has(obj)) return obj;
			R.watched.add(obj);
			listen(obj, scope, R.events[scope]);
			return obj;
		};
		R.conv = async (sid) => note(R.convs[sid] || await R.client.getConversationBySid(sid));
		// mark logs "resolved:name" (or "rejected:name:message") where the caller's await resumes.
		R.mark = (name, p) => p.then(
			(v) => { R.push('resolved:' + name); return v; },
			(e) => { R.push('rejected:' + name + ':' + (e && e.message)); throw e; });
		const matches = (r, spec) => {
			if (spec.sid && r.sid && r.sid !== spec.sid) return false;
			return spec.keep.some((k) => r.s === k || r.s.startsWith(k + ':'));
		};
		R.select = (spec) => R.log.filter((r) => matches(r, spec)).map((r) => r.s);
		// wait polls until n records match spec, then listens settleMs more.
		R.wait = async (spec, n, settleMs, timeoutMs) => {
			const deadline = Date.now() + timeoutMs;
			while (R.select(spec).length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
			await new Promise((r) => setTimeout(r, settleMs));
			return R.select(spec);
		};

		const client = R.client = new Client(` + jsString(token) + `);
		listen(client, 'client', R.events.client);
		client.on('initialized', () => {
			client.getSubscribedConversations().then(
				(p) => R.push('app:subscribed:' + p.items.map((c) => c.friendlyName).sort().join(',')),
				(e) => R.push('app:subscribedFailed:' + e.message));
		});
		await new Promise((resolve, reject) => {
			const timer = setTimeout(() => reject(new Error('not initialised after 10 s: ' + JSON.stringify(R.log))), 10000);
			client.on('initialized', () => { clearTimeout(timer); resolve(); });
			client.on('initFailed', ({ error }) => { clearTimeout(timer); reject(error); });
		});
		return client.user.identity;`
}

// recTab is one identity's tab in the suite.
type recTab struct {
	*Tab
	identity string
	url      string // the page the tab loads
	token    func() string
}

// login (re)loads the page and makes a fresh recorded client there.
func (c *recTab) login(t *testing.T) {
	t.Helper()
	c.Navigate(c.url)
	require.Equal(t, c.identity, evalIn[string](t, c, recorderScript(c.token())))
}

// evalIn runs an async function body in c's page and decodes its result; t (the running
// subtest, not the one that opened the tab) fails if the script throws.
func evalIn[T any](t *testing.T, c *recTab, body string) T {
	t.Helper()
	v, err := Eval[T](c.Tab, body)
	if err != nil {
		t.Fatalf("[%s] script failed: %v\n%s", c.identity, err, body)
	}
	return v
}

// eval runs a script in the tab for its effects.
func (c *recTab) eval(t *testing.T, body string) {
	t.Helper()
	evalIn[any](t, c, body+"\nreturn null;")
}

// until polls a JS condition for up to 10 s.
func (c *recTab) until(t *testing.T, cond, what string) {
	t.Helper()
	evalIn[bool](t, c, `
		const deadline = Date.now() + 10000;
		while (!(`+cond+`)) {
			if (Date.now() > deadline) throw new Error(`+jsString("timed out waiting for "+what)+` + '; log: ' + JSON.stringify(R.log.map((r) => r.s)));
			await new Promise((r) => setTimeout(r, 20));
		}
		return true;`)
}

// records waits until n records about conversation sid (or about no conversation) whose
// names start with one of keep have arrived, plus the settleTime time, and returns them in order.
// After 10 s it returns what there is.
func (c *recTab) records(t *testing.T, sid string, n int, keep ...string) []string {
	t.Helper()
	spec, err := json.Marshal(map[string]any{"sid": sid, "keep": keep})
	require.NoError(t, err)
	return evalIn[[]string](t, c, fmt.Sprintf(`return await R.wait(%s, %d, %d, 10000);`, spec, n, settleTime.Milliseconds()))
}

// reset empties the tab's log.
func (c *recTab) reset(t *testing.T) { c.eval(t, `R.reset();`) }

// pageErrors returns and clears what the page recorded as uncaught.
func (c *recTab) pageErrors(t *testing.T) []string {
	t.Helper()
	return evalIn[[]string](t, c, `const e = window.__pageErrors || ['no page error recorder']; window.__pageErrors = []; return e;`)
}

// conformance is the suite: the server, browser and logged-in tabs the scenarios share.
type conformance struct {
	env               *servertest.Env
	browser           *Browser
	alice, bob, carol *recTab
	aliceLink         *cutProxy
	names             int
}

// name returns a fresh friendly name.
func (s *conformance) name(prefix string) string {
	s.names++
	return fmt.Sprintf("%s %d", prefix, s.names)
}

func (s *conformance) tabs() []*recTab { return []*recTab{s.alice, s.bob, s.carol} }

// resetAll empties every tab's log.
func (s *conformance) resetAll(t *testing.T) {
	t.Helper()
	for _, c := range s.tabs() {
		if c != nil {
			c.reset(t)
		}
	}
}

// noPageErrors fails the test when any tab saw an uncaught error, an unhandled rejection or
// a console.error since the last check.
func (s *conformance) noPageErrors(t *testing.T) {
	t.Helper()
	for _, c := range s.tabs() {
		if c == nil {
			continue
		}
		assert.Empty(t, c.pageErrors(t), "[%s] uncaught errors or unhandled rejections in the page", c.identity)
	}
}

// room has owner create a conversation called name, join it and add members, and waits until
// every member holds it joined and the owner has seen each member join; then empties every
// log. It returns the sid.
func (s *conformance) room(t *testing.T, name string, owner *recTab, members ...*recTab) string {
	t.Helper()
	ids := make([]string, len(members))
	for i, m := range members {
		ids[i] = m.identity
	}
	list, err := json.Marshal(ids)
	require.NoError(t, err)
	sid := evalIn[string](t, owner, `
		const c = await R.client.createConversation({ friendlyName: `+jsString(name)+` });
		await c.join();
		for (const id of `+string(list)+`) await c.add(id);
		return c.sid;`)
	for _, m := range members {
		m.until(t, `R.convs[`+jsString(sid)+`] && R.convs[`+jsString(sid)+`].status === 'joined' && R.log.some((r) => r.sid === `+jsString(sid)+` && r.s.startsWith('client:conversationJoined'))`,
			m.identity+" to hold "+name+" joined")
		owner.until(t, `R.log.some((r) => r.sid === `+jsString(sid)+` && r.s === 'client:participantJoined:`+m.identity+`')`,
			owner.identity+" to see "+m.identity+" join "+name)
	}
	time.Sleep(settleTime)
	s.resetAll(t)
	return sid
}

// expectSeq compares a record sequence with the expected one (CONFORMANCE_DEBUG=1 logs every
// actual sequence, matching or not). An expected record is either
// exact or "head~a,b": the record starts with head and the comma-separated list after it (the
// update reasons) contains a and b.
func expectSeq(t *testing.T, who string, want, got []string) bool {
	t.Helper()
	ok := len(want) == len(got)
	for i := 0; ok && i < len(want); i++ {
		ok = recordMatches(want[i], got[i])
	}
	if os.Getenv("CONFORMANCE_DEBUG") != "" {
		t.Logf("DEBUG [%s] %s", who, fmtSeq(got))
	}
	if !ok {
		t.Errorf("[%s] event sequence differs from the specification\nexpected: %s\nactual:   %s", who, fmtSeq(want), fmtSeq(got))
	}
	return ok
}

// expectOneOf is expectSeq with several allowed sequences; it returns the index of the one
// that matched, or -1.
func expectOneOf(t *testing.T, who string, got []string, allowed ...[]string) int {
	t.Helper()
	if os.Getenv("CONFORMANCE_DEBUG") != "" {
		t.Logf("DEBUG [%s] %s", who, fmtSeq(got))
	}
	for i, want := range allowed {
		if len(want) != len(got) {
			continue
		}
		match := true
		for j := range want {
			match = match && recordMatches(want[j], got[j])
		}
		if match {
			return i
		}
	}
	alts := make([]string, len(allowed))
	for i, want := range allowed {
		alts[i] = fmtSeq(want)
	}
	t.Errorf("[%s] event sequence is none of those the specification allows\nexpected: %s\nactual:   %s", who, strings.Join(alts, "\n   or:    "), fmtSeq(got))
	return -1
}

func recordMatches(want, got string) bool {
	head, need, pattern := strings.Cut(want, "~")
	if !pattern {
		return want == got
	}
	rest, ok := strings.CutPrefix(got, head)
	if !ok || strings.Contains(rest, ":") {
		return false
	}
	have := strings.Split(rest, ",")
	for _, r := range strings.Split(need, ",") {
		if !slices.Contains(have, r) {
			return false
		}
	}
	return true
}

func fmtSeq(s []string) string {
	if len(s) == 0 {
		return "(nothing)"
	}
	return "[" + strings.Join(s, "  ") + "]"
}

// cutProxy forwards TCP connections to the server and can cut them: a connection loss for
// the one tab that goes through it.
type cutProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	down   bool
	conns  map[net.Conn]struct{}
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &cutProxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	t.Cleanup(func() {
		ln.Close()
		p.cut()
	})
	go p.serve()
	return p
}

func (p *cutProxy) addr() string { return p.ln.Addr().String() }

func (p *cutProxy) serve() {
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		down := p.down
		if !down {
			p.conns[in] = struct{}{}
		}
		p.mu.Unlock()
		if down {
			in.Close()
			continue
		}
		go p.pipe(in)
	}
}

func (p *cutProxy) pipe(in net.Conn) {
	out, err := net.Dial("tcp", p.target)
	if err != nil {
		in.Close()
		return
	}
	p.mu.Lock()
	p.conns[out] = struct{}{}
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	go func() { io.Copy(out, in); done <- struct{}{} }()
	go func() { io.Copy(in, out); done <- struct{}{} }()
	<-done
	in.Close()
	out.Close()
	p.mu.Lock()
	delete(p.conns, in)
	delete(p.conns, out)
	p.mu.Unlock()
}

// cut drops every open connection and refuses new ones until restore.
func (p *cutProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

func (p *cutProxy) restore() {
	p.mu.Lock()
	p.down = false
	p.mu.Unlock()
}

// newCTab opens a tab whose page records uncaught errors from its first script on.
func (s *conformance) newCTab(t *testing.T, identity, url string, token func() string) *recTab {
	t.Helper()
	tab := s.browser.NewTab(identity)
	_, err := chromedp.Call(tab.Ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: pageErrorsScript})
	require.NoError(t, err)
	return &recTab{Tab: tab, identity: identity, url: url, token: token}
}

func TestConformance(t *testing.T) {
	env := startServer(t)
	s := &conformance{env: env, browser: NewBrowser(t, 170*time.Second)}
	// Alice goes through a proxy the connection-loss scenario cuts; the page comes through it
	// too, so the WebSocket is same-origin.
	s.aliceLink = newCutProxy(t, strings.TrimPrefix(env.HTTPURL, "http://"))
	aliceWS := "ws://" + s.aliceLink.addr() + "/v1/ws"
	s.alice = s.newCTab(t, "alice", "http://"+s.aliceLink.addr()+"/", func() string {
		tok, err := auth.Mint(env.Key, "alice", time.Hour, aliceWS)
		require.NoError(t, err)
		return tok
	})
	s.bob = s.newCTab(t, "bob", env.HTTPURL+"/", func() string { return env.Token("bob", time.Hour) })
	s.alice.login(t)
	s.bob.login(t)

	t.Run("the page error recorder sees uncaught errors", s.pageErrorRecorder)
	t.Run("start-up", s.startUp)
	if s.carol == nil {
		t.Fatal("carol has no tab; the other scenarios need her")
	}
	if ok, err := Eval[bool](s.carol.Tab, `return !!(window.R && window.R.client);`); err != nil || !ok {
		t.Fatalf("carol could not log in (%v); the other scenarios need her", err)
	}
	t.Run("createConversation emits conversationAdded before it resolves", s.createConversation)
	t.Run("join resolves before conversationJoined", s.join)
	t.Run("add resolves before participantJoined", s.add)
	t.Run("being added while online", s.beingAdded)
	t.Run("sendMessage resolves before messageAdded", s.sendMessage)
	t.Run("message updateBody", func(t *testing.T) { s.messageUpdate(t, "updateBody", `m.updateBody('edited')`, "body") })
	t.Run("message updateAttributes", func(t *testing.T) {
		s.messageUpdate(t, "updateAttributes", `m.updateAttributes({ edited: true })`, "attributes")
	})
	t.Run("message remove resolves before messageRemoved", s.messageRemove)
	t.Run("conversation updateFriendlyName", func(t *testing.T) {
		s.conversationUpdate(t, "updateFriendlyName", `c.updateFriendlyName('renamed')`, "friendlyName")
	})
	t.Run("conversation updateAttributes", func(t *testing.T) {
		s.conversationUpdate(t, "updateAttributes", `c.updateAttributes({ topic: 'conformance' })`, "attributes")
	})
	t.Run("conversation updateUniqueName", func(t *testing.T) {
		s.conversationUpdate(t, "updateUniqueName", `c.updateUniqueName('unique-' + c.sid)`, "uniqueName")
	})
	t.Run("conversation setUserNotificationLevel", func(t *testing.T) {
		s.conversationUpdate(t, "setUserNotificationLevel", `c.setUserNotificationLevel('muted')`, "notificationLevel")
	})
	t.Run("participant updateAttributes", s.participantUpdate)
	t.Run("user updateFriendlyName", func(t *testing.T) {
		s.userUpdate(t, "updateFriendlyName", `u.updateFriendlyName('Alice ' + Date.now())`, "friendlyName")
	})
	t.Run("user updateAttributes", func(t *testing.T) {
		s.userUpdate(t, "updateAttributes", `u.updateAttributes({ at: Date.now() })`, "attributes")
	})
	t.Run("read horizon", s.readHorizon)
	t.Run("typing ends before the typer's message", s.typingThenMessage)
	t.Run("typing ends when its timer runs out", s.typingTimeout)
	t.Run("leave", s.leave)
	t.Run("leave when not joined", s.leaveNotJoined)
	t.Run("removed by another participant", s.removedByOther)
	t.Run("delete by the creator", s.deleteByCreator)
	t.Run("connection loss and return", s.connectionLoss)
}

// pageErrorRecorder checks that what the scenarios assert is empty can be non-empty.
func (s *conformance) pageErrorRecorder(t *testing.T) {
	s.alice.eval(t, `
		Promise.reject(new Error('deliberate rejection'));
		setTimeout(() => { throw new Error('deliberate throw'); }, 0);
		await new Promise((r) => setTimeout(r, 100));`)
	got := s.alice.pageErrors(t)
	require.Len(t, got, 2, "%q", got)
	all := strings.Join(got, "\n")
	assert.Contains(t, all, "unhandled rejection: Error: deliberate rejection")
	assert.Contains(t, all, "uncaught error: Error: deliberate throw")
}

// §1: a user added to two conversations while offline logs in.
func (s *conformance) startUp(t *testing.T) {
	defer s.noPageErrors(t)
	one, two := s.name("startup"), s.name("startup")
	// Bob makes two conversations with carol in them before carol's first login; one has a
	// message, which must not be announced at start-up.
	evalIn[bool](t, s.bob, `
		for (const name of [`+jsString(one)+`, `+jsString(two)+`]) {
			const c = await R.client.createConversation({ friendlyName: name });
			await c.join();
			await c.add('carol');
			if (name === `+jsString(one)+`) await c.sendMessage('before carol logs in');
		}
		return true;`)
	s.carol = s.newCTab(t, "carol", s.env.HTTPURL+"/", func() string { return s.env.Token("carol", time.Hour) })

	check := func(t *testing.T, what string, startUp []string) {
		t.Helper()
		pairs := []string{"client:initialized", "client:conversationAdded", "client:conversationJoined"}
		got := s.carol.records(t, "", 5, pairs...)
		expectOneOf(t, "carol, "+what+": initialized, then each conversation added immediately followed by joined", got,
			[]string{"client:initialized", "client:conversationAdded:" + one, "client:conversationJoined:" + one, "client:conversationAdded:" + two, "client:conversationJoined:" + two},
			[]string{"client:initialized", "client:conversationAdded:" + two, "client:conversationJoined:" + two, "client:conversationAdded:" + one, "client:conversationJoined:" + one},
		)
		// getSubscribedConversations() called in the initialized listener lists both, once
		// every start-up pair has fired (§1.5).
		got = s.carol.records(t, "", 3, "client:conversationJoined", "app")
		listed := "app:subscribed:" + one + "," + two
		expectOneOf(t, "carol, "+what+": getSubscribedConversations() in the initialized listener", got,
			[]string{"client:conversationJoined:" + one, "client:conversationJoined:" + two, listed},
			[]string{"client:conversationJoined:" + two, "client:conversationJoined:" + one, listed},
		)
		// The whole start-up (§1.2, §1.3): connection states, the own user subscribed,
		// stateChanged then initialized; nothing about what already exists in the
		// conversations (§1.4: no conversationUpdated, participantJoined or messageAdded).
		got = s.carol.records(t, "", 0, "client:connectionStateChanged", "client:userSubscribed", "client:stateChanged",
			"client:initialized", "client:conversationUpdated", "client:participantJoined", "client:messageAdded", "client:initFailed", "client:connectionError")
		expectSeq(t, "carol, "+what+": the start-up events", startUp, got)
		// The conversations are joined when announced.
		status := evalIn[[]string](t, s.carol, `return R.log.filter((r) => /^client:conversation(Added|Joined)/.test(r.s)).map((r) => r.st);`)
		assert.Equal(t, []string{"joined", "joined", "joined", "joined"}, status, "carol, %s: status when conversationAdded/conversationJoined fire", what)
	}
	s.carol.login(t)
	check(t, "first login", []string{
		"client:connectionStateChanged:connecting", "client:connectionStateChanged:connected", "client:userSubscribed:carol",
		"client:stateChanged:initialized", "client:initialized",
	})
	// A reload: a new client in a fresh page starts from its local store (a convo extension,
	// docs/MIGRATION.md "Offline"): the same events, but initialized comes while it is still
	// connecting, before the server answers.
	s.carol.login(t)
	check(t, "after a reload", []string{
		"client:connectionStateChanged:connecting", "client:userSubscribed:carol",
		"client:stateChanged:initialized", "client:initialized", "client:connectionStateChanged:connected",
	})
}

// §2.1: conversationAdded reaches listeners before the promise's continuation runs; creating
// does not join.
func (s *conformance) createConversation(t *testing.T) {
	defer s.noPageErrors(t)
	name := s.name("created")
	s.resetAll(t)
	type result struct {
		Sid    string `json:"sid"`
		Status string `json:"status"`
	}
	r := evalIn[result](t, s.alice, `
		const c = await R.mark('createConversation', R.client.createConversation({ friendlyName: `+jsString(name)+` }));
		return { sid: c.sid, status: c.status };`)
	got := s.alice.records(t, r.Sid, 2, "client:conversationAdded", "client:conversationJoined", "resolved")
	expectSeq(t, "alice", []string{"client:conversationAdded:" + name, "resolved:createConversation"}, got)
	assert.Equal(t, "notParticipating", r.Status, "status when createConversation resolves")
	st := evalIn[[]string](t, s.alice, `return R.log.filter((r) => r.s.startsWith('client:conversationAdded') && r.sid === `+jsString(r.Sid)+`).map((r) => r.st);`)
	assert.Equal(t, []string{"notParticipating"}, st, "status when conversationAdded fires")
}

// §2.2: join resolves on the request's answer, before conversationJoined; no
// conversationAdded again and no participantJoined for oneself.
func (s *conformance) join(t *testing.T) {
	defer s.noPageErrors(t)
	name := s.name("join")
	sid := evalIn[string](t, s.alice, `return (await R.client.createConversation({ friendlyName: `+jsString(name)+` })).sid;`)
	time.Sleep(settleTime)
	s.resetAll(t)
	s.alice.eval(t, `const c = await R.conv(`+jsString(sid)+`); R.watch(c, 'conv'); await R.mark('join', c.join());`)
	got := s.alice.records(t, sid, 2, "client:conversationAdded", "client:conversationJoined", "client:participantJoined", "conv:participantJoined", "resolved")
	expectSeq(t, "alice", []string{"resolved:join", "client:conversationJoined:" + name}, got)
}

// §2.3: add resolves before participantJoined, which reaches the Client's listeners before
// the Conversation's.
func (s *conformance) add(t *testing.T) {
	defer s.noPageErrors(t)
	name := s.name("add")
	sid := s.room(t, name, s.alice)
	s.alice.eval(t, `const c = await R.conv(`+jsString(sid)+`); R.watch(c, 'conv'); await R.mark('add', c.add('bob'));`)
	got := s.alice.records(t, sid, 3, "client:participantJoined", "conv:participantJoined", "resolved")
	expectSeq(t, "alice (adder)", []string{"resolved:add", "client:participantJoined:bob", "conv:participantJoined:bob"}, got)
}

// §2.2 "not known": a user added by someone else while online gets conversationAdded, then
// conversationJoined.
func (s *conformance) beingAdded(t *testing.T) {
	defer s.noPageErrors(t)
	name := s.name("added")
	sid := s.room(t, name, s.alice)
	s.alice.eval(t, `const c = await R.conv(`+jsString(sid)+`); await c.add('carol');`)
	got := s.carol.records(t, sid, 2, "client:conversationAdded", "client:conversationJoined", "client:participantJoined", "client:messageAdded")
	expectSeq(t, "carol (added)", []string{"client:conversationAdded:" + name, "client:conversationJoined:" + name}, got)
}

// §3.1: sendMessage resolves with the index before messageAdded; the other participant gets
// messageAdded; both get conversationUpdated with lastMessage.
func (s *conformance) sendMessage(t *testing.T) {
	defer s.noPageErrors(t)
	sid := s.room(t, s.name("send"), s.alice, s.bob)
	for _, c := range []*recTab{s.alice, s.bob} {
		c.eval(t, `R.watch(await R.conv(`+jsString(sid)+`), 'conv');`)
	}
	index := evalIn[any](t, s.alice, `return await R.mark('sendMessage', (await R.conv(`+jsString(sid)+`)).sendMessage('hello'));`)
	assert.Equal(t, float64(0), index, "sendMessage resolves with the message's index")

	got := s.alice.records(t, sid, 3, "client:messageAdded", "conv:messageAdded", "resolved")
	expectSeq(t, "alice (sender)", []string{"resolved:sendMessage", "client:messageAdded:#0:hello", "conv:messageAdded:#0:hello"}, got)
	got = s.alice.records(t, sid, 3, "client:conversationUpdated", "conv:updated", "resolved")
	expectSeq(t, "alice (sender): the last message", []string{"resolved:sendMessage", "client:conversationUpdated:~lastMessage", "conv:updated:~lastMessage"}, got)
	got = s.bob.records(t, sid, 2, "client:messageAdded", "conv:messageAdded")
	expectSeq(t, "bob", []string{"client:messageAdded:#0:hello", "conv:messageAdded:#0:hello"}, got)
	got = s.bob.records(t, sid, 2, "client:conversationUpdated", "conv:updated")
	expectSeq(t, "bob: the last message", []string{"client:conversationUpdated:~lastMessage", "conv:updated:~lastMessage"}, got)
}

// §3.2: an edit resolves before messageUpdated; listeners run Client, Conversation, Message.
func (s *conformance) messageUpdate(t *testing.T, method, call, reason string) {
	defer s.noPageErrors(t)
	sid := s.room(t, s.name(method), s.alice, s.bob)
	s.alice.eval(t, `await (await R.conv(`+jsString(sid)+`)).sendMessage('original');`)
	s.bob.until(t, `R.log.some((r) => r.s === 'client:messageAdded:#0:original')`, "bob to get the message")
	time.Sleep(settleTime)
	s.resetAll(t)
	s.alice.eval(t, `
		const c = R.watch(await R.conv(`+jsString(sid)+`), 'conv');
		const m = R.watch((await c.getMessages(1)).items[0], 'message');
		await R.mark(`+jsString(method)+`, `+call+`);`)
	got := s.alice.records(t, sid, 4, "client:messageUpdated", "conv:messageUpdated", "message:updated", "resolved")
	expectSeq(t, "alice (editor)", []string{
		"resolved:" + method, "client:messageUpdated:#0:~" + reason, "conv:messageUpdated:#0:~" + reason, "message:updated:#0:~" + reason,
	}, got)
	got = s.bob.records(t, sid, 1, "client:messageUpdated")
	expectSeq(t, "bob", []string{"client:messageUpdated:#0:~" + reason}, got)
}

// §3.3: remove resolves before messageRemoved (Client, then Conversation); nothing on the
// Message.
func (s *conformance) messageRemove(t *testing.T) {
	defer s.noPageErrors(t)
	sid := s.room(t, s.name("remove"), s.alice, s.bob)
	s.alice.eval(t, `await (await R.conv(`+jsString(sid)+`)).sendMessage('doomed');`)
	s.bob.until(t, `R.log.some((r) => r.s === 'client:messageAdded:#0:doomed')`, "bob to get the message")
	time.Sleep(settleTime)
	s.resetAll(t)
	s.alice.eval(t, `
		const c = R.watch(await R.conv(`+jsString(sid)+`), 'conv');
		const m = R.watch((await c.getMessages(1)).items[0], 'message');
		await R.mark('remove', m.remove());`)
	got := s.alice.records(t, sid, 3, "client:messageRemoved", "conv:messageRemoved", "message", "resolved")
	expectSeq(t, "alice", []string{"resolved:remove", "client:messageRemoved:#0:doomed", "conv:messageRemoved:#0:doomed"}, got)
	got = s.bob.records(t, sid, 1, "client:messageRemoved")
	expectSeq(t, "bob", []string{"client:messageRemoved:#0:doomed"}, got)
}

// §4.1: each update resolves before conversationUpdated with its reason; Client listeners
// before the Conversation's.
func (s *conformance) conversationUpdate(t *testing.T, method, call, reason string) {
	defer s.noPageErrors(t)
	sid := s.room(t, s.name(method), s.alice, s.bob)
	s.alice.eval(t, `const c = R.watch(await R.conv(`+jsString(sid)+`), 'conv'); await R.mark(`+jsString(method)+`, `+call+`);`)
	got := s.alice.records(t, sid, 3, "client:conversationUpdated", "conv:updated", "resolved")
	expectSeq(t, "alice", []string{"resolved:" + method, "client:conversationUpdated:~" + reason, "conv:updated:~" + reason}, got)
}

// §4.2: participant.updateAttributes resolves before participantUpdated; Client,
// Conversation, Participant.
func (s *conformance) participantUpdate(t *testing.T) {
	defer s.noPageErrors(t)
	sid := s.room(t, s.name("participant"), s.alice, s.bob)
	s.alice.eval(t, `
		const c = R.watch(await R.conv(`+jsString(sid)+`), 'conv');
		const p = R.watch(await c.getParticipantByIdentity('alice'), 'participant');
		await R.mark('updateAttributes', p.updateAttributes({ role: 'host' }));`)
	got := s.alice.records(t, sid, 4, "client:participantUpdated", "conv:participantUpdated", "participant:updated", "resolved")
	expectSeq(t, "alice", []string{
		"resolved:updateAttributes", "client:participantUpdated:alice:~attributes", "conv:participantUpdated:alice:~attributes", "participant:updated:alice:~attributes",
	}, got)
	got = s.bob.records(t, sid, 1, "client:participantUpdated")
	expectSeq(t, "bob", []string{"client:participantUpdated:alice:~attributes"}, got)
}

// §4.3: user updates resolve before userUpdated, one reason each; Client before User.
func (s *conformance) userUpdate(t *testing.T, method, call, reason string) {
	defer s.noPageErrors(t)
	s.resetAll(t)
	s.alice.eval(t, `const u = R.watch(R.client.user, 'user'); await R.mark(`+jsString(method)+`, `+call+`);`)
	got := s.alice.records(t, "", 3, "client:userUpdated", "user:updated", "resolved")
	expectSeq(t, "alice", []string{"resolved:" + method, "client:userUpdated:alice:" + reason, "user:updated:alice:" + reason}, got)
}

// §5: the read-horizon calls resolve with a number before conversationUpdated
// ["lastReadMessageIndex"].
func (s *conformance) readHorizon(t *testing.T) {
	defer s.noPageErrors(t)
	sid := s.room(t, s.name("read"), s.alice, s.bob)
	send := func(bodies ...string) {
		t.Helper()
		list, err := json.Marshal(bodies)
		require.NoError(t, err)
		s.alice.eval(t, `const c = await R.conv(`+jsString(sid)+`); for (const b of `+string(list)+`) await c.sendMessage(b);`)
		last := bodies[len(bodies)-1]
		s.bob.until(t, `R.log.some((r) => r.s.startsWith('client:messageAdded:') && r.s.endsWith(':'+`+jsString(last)+`))`, "bob to get "+last)
		time.Sleep(settleTime)
		s.resetAll(t)
	}
	send("r0", "r1", "r2")
	for _, step := range []struct{ method, call string }{
		{"setAllMessagesRead", "c.setAllMessagesRead()"},
		{"advanceLastReadMessageIndex", "c.advanceLastReadMessageIndex(3)"},
	} {
		if step.method == "advanceLastReadMessageIndex" {
			send("r3")
		}
		kind := evalIn[string](t, s.bob, `const c = R.watch(await R.conv(`+jsString(sid)+`), 'conv'); return typeof (await R.mark(`+jsString(step.method)+`, `+step.call+`));`)
		assert.Equal(t, "number", kind, "%s resolves with a number", step.method)
		got := s.bob.records(t, sid, 3, "client:conversationUpdated", "conv:updated", "resolved")
		expectSeq(t, "bob, "+step.method, []string{"resolved:" + step.method, "client:conversationUpdated:~lastReadMessageIndex", "conv:updated:~lastReadMessageIndex"}, got)
	}
}

// §6: typingStarted goes Participant, Client, Conversation; a message by the typer ends it
// just before its messageAdded.
func (s *conformance) typingThenMessage(t *testing.T) {
	defer s.noPageErrors(t)
	sid := s.room(t, s.name("typing"), s.alice, s.bob)
	s.alice.eval(t, `const c = R.watch(await R.conv(`+jsString(sid)+`), 'conv'); R.watch(await c.getParticipantByIdentity('bob'), 'participant');`)
	s.bob.eval(t, `await (await R.conv(`+jsString(sid)+`)).typing();`)
	keep := []string{"participant:typingStarted", "client:typingStarted", "conv:typingStarted", "participant:typingEnded", "client:typingEnded", "conv:typingEnded", "client:messageAdded", "conv:messageAdded"}
	started := []string{"participant:typingStarted:bob", "client:typingStarted:bob", "conv:typingStarted:bob"}
	got := s.alice.records(t, sid, 3, keep...)
	expectSeq(t, "alice, bob starts typing", started, got)
	s.bob.eval(t, `await (await R.conv(`+jsString(sid)+`)).sendMessage('typed');`)
	got = s.alice.records(t, sid, 8, keep...)
	expectSeq(t, "alice, bob sends", append(started,
		"participant:typingEnded:bob", "client:typingEnded:bob", "conv:typingEnded:bob", "client:messageAdded:#0:typed", "conv:messageAdded:#0:typed",
	), got)
}

// §6: without a message, typing ends when the timer runs out.
func (s *conformance) typingTimeout(t *testing.T) {
	defer s.noPageErrors(t)
	sid := s.room(t, s.name("typing timeout"), s.alice, s.bob)
	s.alice.eval(t, `const c = R.watch(await R.conv(`+jsString(sid)+`), 'conv'); R.watch(await c.getParticipantByIdentity('bob'), 'participant');`)
	s.bob.eval(t, `await (await R.conv(`+jsString(sid)+`)).typing();`)
	start := time.Now()
	evalIn[[]string](t, s.alice, `return await R.wait({ sid: `+jsString(sid)+`, keep: ['participant:typingEnded', 'client:typingEnded', 'conv:typingEnded'] }, 3, 0, 15000);`)
	t.Logf("typing ended %v after bob typed", time.Since(start).Round(100*time.Millisecond))
	time.Sleep(settleTime)
	got := s.alice.records(t, sid, 6, "participant:typingStarted", "client:typingStarted", "conv:typingStarted",
		"participant:typingEnded", "client:typingEnded", "conv:typingEnded")
	expectSeq(t, "alice", []string{
		"participant:typingStarted:bob", "client:typingStarted:bob", "conv:typingStarted:bob",
		"participant:typingEnded:bob", "client:typingEnded:bob", "conv:typingEnded:bob",
	}, got)
}

// lifecycleRecords are the records of §2.4/§2.5 scenarios.
var lifecycleRecords = []string{
	"client:conversationLeft", "client:conversationRemoved", "conv:removed", "client:conversationUpdated", "conv:updated",
	"client:participantLeft", "conv:participantLeft", "resolved",
}

// §2.4: leave resolves, then conversationLeft, conversationRemoved and the Conversation's
// removed; no conversationUpdated and no participantLeft for oneself; the others see
// participantLeft. Reads in the conversationRemoved listener answer without an uncaught error.
func (s *conformance) leave(t *testing.T) {
	defer s.noPageErrors(t)
	name := s.name("leave")
	sid := s.room(t, name, s.bob, s.alice, s.carol)
	s.bob.eval(t, `await (await R.conv(`+jsString(sid)+`)).sendMessage('before carol leaves');`)
	s.carol.until(t, `R.log.some((r) => r.s === 'client:messageAdded:#0:before carol leaves')`, "carol to get the message")
	time.Sleep(settleTime)
	s.resetAll(t)
	for _, c := range s.tabs() {
		c.eval(t, `R.watch(await R.conv(`+jsString(sid)+`), 'conv');`)
	}
	// The app reads the left conversation in its conversationRemoved listener: once as a
	// careless app does, leaving any rejection unhandled, and once recording the outcome.
	s.carol.eval(t, `
		const sid = `+jsString(sid)+`;
		const onRemoved = (c) => {
			if (c.sid !== sid) return;
			R.client.off('conversationRemoved', onRemoved);
			R.push('app:status:' + c.status, c.sid);
			c.getParticipants();
			c.getMessages();
			Promise.all([c.getParticipants(), c.getMessages()]).then(
				([ps, page]) => R.push('app:reads:participants=' + ps.map((p) => p.identity).sort().join('+') + ';messages=' + page.items.length, c.sid),
				(e) => R.push('app:readsFailed:' + (e && e.constructor && e.constructor.name) + ': ' + (e && e.message), c.sid));
		};
		R.client.on('conversationRemoved', onRemoved);
		window.offRemoved = () => R.client.off('conversationRemoved', onRemoved);`)
	defer s.carol.eval(t, `window.offRemoved();`)
	s.carol.eval(t, `
		const c = await R.conv(`+jsString(sid)+`);
		const left = await R.mark('leave', c.leave());
		if (left !== c) R.push('app:leave resolved with something else than the conversation');`)
	got := s.carol.records(t, sid, 4, lifecycleRecords...)
	expectSeq(t, "carol (leaves)", []string{"resolved:leave", "client:conversationLeft:" + name, "client:conversationRemoved:" + name, "conv:removed:" + name}, got)
	got = s.carol.records(t, sid, 2, "app")
	if assert.Len(t, got, 2, "carol's conversationRemoved listener ran and its reads settled: %v", got) {
		assert.Equal(t, "app:status:notParticipating", got[0])
		assert.True(t, strings.HasPrefix(got[1], "app:reads:"), "getParticipants/getMessages on the left conversation resolve (MIGRATION: answered from held data); got %s", got[1])
		t.Logf("carol's reads after leaving: %s", got[1])
	}
	for _, other := range []*recTab{s.alice, s.bob} {
		got = other.records(t, sid, 2, lifecycleRecords...)
		expectSeq(t, other.identity+" (stays)", []string{"client:participantLeft:carol", "conv:participantLeft:carol"}, got)
	}
}

// §2.4/§8: leave() on a conversation the user is not in resolves with it at once and emits
// nothing.
func (s *conformance) leaveNotJoined(t *testing.T) {
	defer s.noPageErrors(t)
	name := s.name("never joined")
	sid := evalIn[string](t, s.alice, `return (await R.client.createConversation({ friendlyName: `+jsString(name)+` })).sid;`)
	time.Sleep(settleTime)
	s.resetAll(t)
	out := evalIn[string](t, s.alice, `
		const c = R.watch(await R.conv(`+jsString(sid)+`), 'conv');
		try {
			const v = await R.mark('leave', c.leave());
			return v === c ? 'resolved with the conversation' : 'resolved with ' + String(v);
		} catch (e) { return 'rejected: ' + e.message; }`)
	assert.Equal(t, "resolved with the conversation", out, "leave() on a created, not joined conversation")
	got := s.alice.records(t, sid, 1, slices.Concat(lifecycleRecords, []string{"client:conversationJoined", "client:conversationAdded"})...)
	expectSeq(t, "alice", []string{"resolved:leave"}, got)

	// The object the app still holds after leaving: leave() again resolves too.
	left := s.name("left twice")
	sid = s.room(t, left, s.bob, s.carol)
	s.carol.eval(t, `await (await R.conv(`+jsString(sid)+`)).leave();`)
	s.carol.until(t, `R.log.some((r) => r.sid === `+jsString(sid)+` && r.s.startsWith('client:conversationRemoved'))`, "carol's conversationRemoved")
	time.Sleep(settleTime)
	s.resetAll(t)
	out = evalIn[string](t, s.carol, `
		const c = R.convs[`+jsString(sid)+`];
		try {
			const v = await R.mark('leave', c.leave());
			return v === c ? 'resolved with the conversation' : 'resolved with ' + String(v);
		} catch (e) { return 'rejected: ' + e.message; }`)
	assert.Equal(t, "resolved with the conversation", out, "leave() on a conversation already left")
	got = s.carol.records(t, sid, 1, slices.Concat(lifecycleRecords, []string{"client:conversationJoined", "client:conversationAdded"})...)
	expectSeq(t, "carol", []string{"resolved:leave"}, got)
}

// §2.4: removed by someone else: conversationLeft, conversationRemoved, removed; the remover's
// call resolves before its participantLeft.
func (s *conformance) removedByOther(t *testing.T) {
	defer s.noPageErrors(t)
	name := s.name("removed")
	sid := s.room(t, name, s.bob, s.carol)
	for _, c := range []*recTab{s.bob, s.carol} {
		c.eval(t, `R.watch(await R.conv(`+jsString(sid)+`), 'conv');`)
	}
	s.bob.eval(t, `await R.mark('removeParticipant', (await R.conv(`+jsString(sid)+`)).removeParticipant('carol'));`)
	got := s.carol.records(t, sid, 3, lifecycleRecords...)
	expectSeq(t, "carol (removed)", []string{"client:conversationLeft:" + name, "client:conversationRemoved:" + name, "conv:removed:" + name}, got)
	got = s.bob.records(t, sid, 3, lifecycleRecords...)
	expectSeq(t, "bob (remover)", []string{"resolved:removeParticipant", "client:participantLeft:carol", "conv:participantLeft:carol"}, got)
}

// §2.5: the participants of a deleted conversation see conversationRemoved, preceded by
// conversationLeft or not depending on which Sync removal comes first.
func (s *conformance) deleteByCreator(t *testing.T) {
	defer s.noPageErrors(t)
	name := s.name("deleted")
	sid := s.room(t, name, s.bob, s.alice, s.carol)
	for _, c := range s.tabs() {
		c.eval(t, `R.watch(await R.conv(`+jsString(sid)+`), 'conv');`)
	}
	s.bob.eval(t, `const c = await R.conv(`+jsString(sid)+`); const v = await R.mark('delete', c.delete()); if (v !== c) R.push('app:delete resolved with something else than the conversation');`)
	keep := []string{"client:conversationLeft", "client:conversationRemoved", "conv:removed", "client:conversationUpdated", "conv:updated", "resolved", "app:delete"}
	documentFirst := []string{"client:conversationRemoved:" + name, "conv:removed:" + name}
	mapFirst := []string{"client:conversationLeft:" + name, "client:conversationRemoved:" + name, "conv:removed:" + name}
	mapFirstThenDocument := append(slices.Clone(mapFirst), "conv:removed:"+name)
	for _, c := range s.tabs() {
		var prefix []string
		if c == s.bob {
			prefix = []string{"resolved:delete"}
		}
		got := c.records(t, sid, len(prefix)+2, keep...)
		switch expectOneOf(t, c.identity, got, append(slices.Clone(prefix), documentFirst...), append(slices.Clone(prefix), mapFirst...), append(slices.Clone(prefix), mapFirstThenDocument...)) {
		case 0:
			t.Logf("[%s] convo takes §2.5's document-first path: %s", c.identity, fmtSeq(got))
		case 1, 2:
			t.Logf("[%s] convo takes §2.5's map-first path: %s", c.identity, fmtSeq(got))
		}
	}
}

// §7: a lost connection goes connecting → connected; what was sent meanwhile arrives once,
// in order; nothing is announced again. Alice's own send while offline waits in the outbox
// (MIGRATION) and resolves, with its index, before its messageAdded.
func (s *conformance) connectionLoss(t *testing.T) {
	defer s.noPageErrors(t)
	sid := s.room(t, s.name("reconnect"), s.bob, s.alice)
	s.alice.eval(t, `R.watch(await R.conv(`+jsString(sid)+`), 'conv');`)
	s.aliceLink.cut()
	restored := false
	defer func() {
		if !restored {
			s.aliceLink.restore()
		}
	}()
	s.alice.until(t, `R.client.connectionState !== 'connected'`, "alice to notice the lost connection")
	s.bob.eval(t, `const c = await R.conv(`+jsString(sid)+`); await c.sendMessage('away 0'); await c.sendMessage('away 1');`)
	s.alice.eval(t, `window.offlineSend = R.mark('offlineSend', (await R.conv(`+jsString(sid)+`)).sendMessage('queued'));`)
	time.Sleep(500 * time.Millisecond)
	s.aliceLink.restore()
	restored = true
	// The browser tells the page the network is back, as it does on a real return.
	s.alice.eval(t, `window.dispatchEvent(new Event('online'));`)
	ctx, cancel := context.WithTimeout(s.alice.Ctx, 15*time.Second)
	defer cancel()
	index, err := chromedp.Run(ctx, chromedp.Evaluate[any](`window.offlineSend`, chromedp.EvalAwaitPromise))
	require.NoError(t, err, "alice's send made while offline")
	assert.Equal(t, float64(2), index, "the send made while offline resolves with its index")

	got := s.alice.records(t, "", 2, "client:connectionStateChanged")
	expectSeq(t, "alice: connection states", []string{"client:connectionStateChanged:connecting", "client:connectionStateChanged:connected"}, got)
	got = s.alice.records(t, sid, 6, "client:messageAdded", "conv:messageAdded")
	expectSeq(t, "alice: messages after the gap, once and in order", []string{
		"client:messageAdded:#0:away 0", "conv:messageAdded:#0:away 0", "client:messageAdded:#1:away 1", "conv:messageAdded:#1:away 1",
		"client:messageAdded:#2:queued", "conv:messageAdded:#2:queued",
	}, got)
	got = s.alice.records(t, "", 0, "resolved:offlineSend", "client:messageAdded:#2:queued")
	expectSeq(t, "alice: the queued send resolves before its messageAdded", []string{"resolved:offlineSend", "client:messageAdded:#2:queued"}, got)
	got = s.alice.records(t, "", 0, "client:initialized", "client:stateChanged", "client:conversationAdded", "client:conversationJoined", "client:userSubscribed", "client:initFailed")
	expectSeq(t, "alice: nothing announced again after reconnecting", nil, got)
	got = s.bob.records(t, sid, 3, "client:messageAdded")
	expectSeq(t, "bob: every message once, in order", []string{"client:messageAdded:#0:away 0", "client:messageAdded:#1:away 1", "client:messageAdded:#2:queued"}, got)
}
