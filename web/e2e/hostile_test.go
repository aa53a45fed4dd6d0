package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestEveryMethodSurvivesBadArguments calls each method of the live objects with wrong types
// and absurd values. Each call must throw an Error, reject with an Error that has a numeric
// code, or resolve; none may hang or kill the wasm instance, and the SDK must work afterwards.
func TestEveryMethodSurvivesBadArguments(t *testing.T) {
	env := startServer(t)
	browser := NewBrowser(t, 180*time.Second)
	tab := browser.NewTab("hostile")
	tab.Navigate(env.HTTPURL + "/")
	MustEval[string](tab, clientScript(env.Token("hostile", time.Hour)))

	type report struct {
		Calls    int      `json:"calls"`
		Problems []string `json:"problems"`
		After    int      `json:"after"`
	}
	r := MustEval[report](tab, `
		const api = await import('/sdk/index.js');
		const client = window.t.client;
		const conversation = await client.createConversation({ friendlyName: 'target' });
		await conversation.join();
		await conversation.sendMessage('seed');
		const message = (await conversation.getMessages()).items[0];
		const participant = (await conversation.getParticipants())[0];
		const objects = {
			client, conversation, message, participant, user: client.user,
			paginator: await conversation.getMessages(), builder: conversation.prepareMessage(),
		};
		// Calls that end the session or destroy the fixtures are left out: their refusal of
		// bad input is covered elsewhere, and their success would stop the test.
		const skip = new Set(['shutdown', 'eraseLocalStore', 'delete', 'leave', 'remove', 'removeParticipant', 'unsubscribe',
			'constructor', 'emit', 'updateToken']);
		const huge = 'x'.repeat(300000);
		const bad = [[], [null], [undefined], [42], [-1], [NaN], [{}], [[1, 2]], [huge], [Symbol('s')],
			[() => {}], ['ok', { toJSON() { throw new Error('nope'); } }], [{ media: 5 }], [new Date(0)]];
		const problems = [];
		let calls = 0;
		const settle = (p) => Promise.race([p.then(() => 'resolved', (e) => e),
			new Promise((r) => setTimeout(() => r('hung'), 5000))]);
		for (const [name, obj] of Object.entries(objects)) {
			const proto = Object.getPrototypeOf(obj);
			const methods = new Set();
			for (let p = proto; p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
				for (const k of Object.getOwnPropertyNames(p)) {
					const d = Object.getOwnPropertyDescriptor(p, k);
					if (d && typeof d.value === 'function' && !skip.has(k)) methods.add(k);
				}
			}
			for (const m of methods) {
				for (const args of bad) {
					calls++;
					const where = name + '.' + m + '(' + args.map((a) => typeof a === 'string' && a.length > 20 ? 'huge' : String(a)).join(', ') + ')';
					let result;
					try {
						result = obj[m](...args);
					} catch (e) {
						if (!(e instanceof Error)) problems.push(where + ' threw a non-Error: ' + String(e));
						continue;
					}
					if (result && typeof result.then === 'function') {
						const outcome = await settle(result);
						if (outcome === 'hung') problems.push(where + ' never settled');
						else if (outcome !== 'resolved') {
							if (!(outcome instanceof Error)) problems.push(where + ' rejected with a non-Error: ' + String(outcome));
							else if (typeof outcome.code !== 'number') problems.push(where + ' rejected without a numeric code: ' + outcome.message);
						}
					}
				}
			}
		}
		// The instance is alive and the session works.
		const after = await conversation.sendMessage('still alive');
		return { calls, problems, after };`)
	t.Logf("%d calls with bad arguments", r.Calls)
	assert.Greater(t, r.Calls, 500)
	assert.Empty(t, r.Problems, strings.Join(r.Problems, "\n"))
	assert.Greater(t, r.After, 0)
}
