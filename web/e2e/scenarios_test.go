package e2e

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// clientScript makes a client from a given token and keeps it on window.t, with the events a
// typical app listens to recorded in window.t.log.
func clientScript(token string) string {
	return `
		const { Client } = await import('/sdk/index.js');
		const client = new Client(` + jsString(token) + `);
		const t = window.t = { client, log: [], messages: [] };
		for (const ev of ['typingStarted', 'typingEnded', 'tokenAboutToExpire', 'tokenExpired', 'connectionStateChanged', 'conversationUpdated', 'participantUpdated']) {
			client.on(ev, (arg) => t.log.push(ev + (typeof arg === 'string' ? ':' + arg : '')));
		}
		client.on('messageAdded', (m) => t.messages.push(m.body));
		await new Promise((resolve, reject) => {
			client.onWithReplay('initialized', resolve);
			client.on('initFailed', ({ error }) => reject(error));
		});
		return client.user.identity;`
}

// waitJS polls a JS condition in the page for up to 10 s.
func waitJS(t *testing.T, tab *Tab, cond, what string) {
	t.Helper()
	MustEval[bool](tab, `
		const deadline = Date.now() + 10000;
		while (!(`+cond+`)) {
			if (Date.now() > deadline) throw new Error(`+jsString("timed out waiting for "+what)+` + ': ' + JSON.stringify(window.t.log));
			await new Promise((r) => setTimeout(r, 20));
		}
		return true;`)
}

func TestTypicalAppScenarios(t *testing.T) {
	env := startServer(t)
	browser := NewBrowser(t, 120*time.Second)
	alice, bob := browser.NewTab("alice"), browser.NewTab("bob")
	alice.Navigate(env.HTTPURL + "/")
	bob.Navigate(env.HTTPURL + "/")
	MustEval[string](alice, clientScript(env.Token("alice", time.Hour)))
	MustEval[string](bob, clientScript(env.Token("bob", time.Hour)))

	sid := MustEval[string](alice, `
		const c = await window.t.client.createConversation({ friendlyName: 'scenarios' });
		await c.join();
		await c.add('bob');
		window.t.conv = c;
		for (let i = 0; i < 45; i++) await c.sendMessage('m' + i);
		return c.sid;`)
	MustEval[bool](bob, `window.t.conv = await window.t.client.getConversationBySid('`+sid+`'); return true;`)

	t.Run("paging history", func(t *testing.T) {
		pages := MustEval[[][]int](bob, `
			const out = [];
			let page = await window.t.conv.getMessages(20);
			out.push(page.items.map((m) => m.index));
			while (page.hasPrevPage) {
				page = await page.prevPage();
				out.push(page.items.map((m) => m.index));
			}
			return out;`)
		require.Len(t, pages, 3)
		assert.Equal(t, 25, pages[0][0])
		assert.Equal(t, 44, pages[0][19])
		assert.Equal(t, 5, pages[1][0])
		assert.Equal(t, []int{0, 1, 2, 3, 4}, pages[2])
	})

	t.Run("read horizon", func(t *testing.T) {
		counts := MustEval[[]any](bob, `
			const c = window.t.conv;
			const before = await c.getUnreadMessagesCount();
			const afterAdvance = await c.advanceLastReadMessageIndex(39);
			const notBack = await c.advanceLastReadMessageIndex(10);
			const server = await c.getUnreadMessagesCount();
			const allRead = await c.setAllMessagesRead();
			return [before, afterAdvance, notBack, server, allRead, c.lastReadMessageIndex];`)
		assert.Equal(t, []any{nil, float64(5), float64(5), float64(5), float64(0), float64(44)}, counts)
		waitJS(t, alice, `window.t.log.includes('participantUpdated')`, "bob's read horizon to reach alice")
	})

	t.Run("message fields cross into JS intact", func(t *testing.T) {
		// A wrapper's fields are copied into its JS object when it is made (and again on a
		// change): characters outside ASCII and outside the BMP must come out whole.
		bodies := []string{"héllo wörld", "😀 emoji 🎉", "日本語のメッセージ", "a\u0000b", "plain"}
		MustEval[bool](bob, `
			window.t.fields = [];
			window.t.conv.on('messageAdded', (m) => window.t.fields.push([m.sid, m.body, m.author, m.participantSid, m.index]));
			return true;`)
		list, err := json.Marshal(bodies)
		require.NoError(t, err)
		sent := MustEval[[][]any](alice, `
			const out = [];
			for (const b of `+string(list)+`) {
				const index = await window.t.conv.sendMessage(b);
				const m = (await window.t.conv.getMessages(1)).items[0];
				out.push([m.sid, m.body, m.author, m.participantSid, index]);
			}
			return out;`)
		for i, b := range bodies {
			assert.Regexp(t, `^IM[0-9a-f]{32}$`, sent[i][0])
			assert.Equal(t, b, sent[i][1])
		}
		waitJS(t, bob, `window.t.fields.length === `+fmt.Sprint(len(bodies)), "bob's messageAdded for every body")
		got := MustEval[[][]any](bob, `return window.t.fields;`)
		assert.Equal(t, sent, got)
		// An edit refreshes the fields through the same path.
		edited := MustEval[string](alice, `
			const m = (await window.t.conv.getMessages(1)).items[0];
			await m.updateBody('édité 😀');
			return m.body;`)
		assert.Equal(t, "édité 😀", edited)
	})

	t.Run("typing", func(t *testing.T) {
		MustEval[bool](alice, `await window.t.conv.typing(); return true;`)
		waitJS(t, bob, `window.t.log.includes('typingStarted')`, "typingStarted")
		MustEval[bool](alice, `await window.t.conv.sendMessage('stopped typing'); return true;`)
		waitJS(t, bob, `window.t.log.includes('typingEnded')`, "typingEnded on alice's message")
	})

	t.Run("media upload and temporary URL", func(t *testing.T) {
		type media struct {
			Type        string `json:"type"`
			Filename    string `json:"filename"`
			ContentType string `json:"contentType"`
			Size        int    `json:"size"`
			Content     string `json:"content"`
		}
		MustEval[int](alice, `
			const blob = new Blob(['hello, media'], { type: 'text/plain' });
			const form = new FormData();
			form.append('file', blob, 'note.txt');
			return await window.t.conv.sendMessage(form);`)
		got := MustEval[media](bob, `
			const deadline = Date.now() + 10000;
			let m;
			while (!(m = (await window.t.conv.getMessages(1)).items[0]) || m.type !== 'media') {
				if (Date.now() > deadline) throw new Error('no media message');
				await new Promise((r) => setTimeout(r, 20));
			}
			const media = m.attachedMedia[0];
			const url = await media.getContentTemporaryUrl();
			const content = await (await fetch(url)).text();
			return { type: m.type, filename: media.filename, contentType: media.contentType, size: media.size, content };`)
		assert.Equal(t, media{Type: "media", Filename: "note.txt", ContentType: "text/plain", Size: 12, Content: "hello, media"}, got)
	})

	t.Run("reconnect after a server restart loses nothing", func(t *testing.T) {
		before := MustEval[int](bob, `return window.t.messages.length;`)
		env.Restart()
		for i := range 3 {
			// Sent as soon as alice is back; her outbox holds them while she reconnects.
			MustEval[int](alice, fmt.Sprintf(`return await window.t.conv.sendMessage('after restart %d');`, i))
		}
		waitJS(t, bob, fmt.Sprintf(`window.t.messages.length >= %d`, before+3), "the messages sent after the restart")
		tail := MustEval[[]string](bob, `return window.t.messages.slice(-3);`)
		assert.Equal(t, []string{"after restart 0", "after restart 1", "after restart 2"}, tail)
		assert.Equal(t, before+3, MustEval[int](bob, `return window.t.messages.length;`), "nothing twice")
	})
}

func TestTokenRenewalOnTokenAboutToExpire(t *testing.T) {
	env := startServer(t)
	browser := NewBrowser(t, 60*time.Second)
	tab := browser.NewTab("renew")
	tab.Navigate(env.HTTPURL + "/")
	// A 4 s token is warned at half its life; the app renews it as vendor apps do.
	MustEval[string](tab, clientScript(env.Token("carol", 4*time.Second)))
	fresh := env.Token("carol", time.Hour)
	MustEval[bool](tab, `
		window.t.client.on('tokenAboutToExpire', async () => {
			await window.t.client.updateToken(`+jsString(fresh)+`);
			window.t.log.push('renewed');
		});
		return true;`)
	waitJS(t, tab, `window.t.log.includes('renewed')`, "the renewal")
	time.Sleep(3 * time.Second) // past the old token's expiry
	state := MustEval[string](tab, `
		await window.t.client.createConversation({ friendlyName: 'still here' });
		return window.t.client.connectionState;`)
	assert.Equal(t, "connected", state)
	log := MustEval[[]string](tab, `return window.t.log;`)
	assert.NotContains(t, log, "tokenExpired", "the renewed token never expired")
	assert.NotContains(t, log, "connectionStateChanged:denied")
}
