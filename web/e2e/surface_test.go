package e2e

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAPISurfaceIsComplete walks testdata/api-surface.txt (the vendor client's public
// members) against live objects of a real session and fails on any member that is missing
// or of the wrong kind.
func TestAPISurfaceIsComplete(t *testing.T) {
	raw, err := os.ReadFile("testdata/api-surface.txt")
	require.NoError(t, err)
	var lines []string
	for _, l := range strings.Split(string(raw), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	require.Greater(t, len(lines), 200)

	env := startServer(t)
	browser := NewBrowser(t, 90*time.Second)
	tab := browser.NewTab("surface")
	tab.Navigate(env.HTTPURL + "/")
	MustEval[loginResult](tab, loginScript("walker", false))

	type result struct {
		Checked int      `json:"checked"`
		Missing []string `json:"missing"`
	}
	res := MustEval[result](tab, `
		const api = await import('/sdk/index.js');
		const lines = `+jsString(strings.Join(lines, "\n"))+`.split('\n');
		const client = window.t.client;
		const conversation = await client.createConversation({ friendlyName: 'surface' });
		await conversation.join();
		await conversation.sendMessage('hello');
		const paginator = await conversation.getMessages();
		const message = paginator.items[0];
		const participant = (await conversation.getParticipants())[0];
		const builder = conversation.prepareMessage();
		const live = {
			Client: client, Conversation: conversation, Message: message, Participant: participant,
			User: client.user, Paginator: paginator, MessageBuilder: builder,
			UnsentMessage: builder.setBody('x').build(),
			ContentTemplateVariable: new api.ContentTemplateVariable('1', 'v'),
			PushNotification: api.Client.parsePushNotification({ type: api.NotificationTypes.NEW_MESSAGE, data: {} }),
			ReplayEventEmitter: client,
		};
		const classes = { ...api, ReplayEventEmitter: Object.getPrototypeOf(api.Client.prototype).constructor };
		const missing = [];
		for (const line of lines) {
			const [path, kind] = line.split(/\s+/);
			const [cls, member] = path.split('.');
			const C = classes[cls];
			if (typeof C !== 'function') { missing.push(line + ' (no class ' + cls + ')'); continue; }
			const obj = live[cls] ?? C.prototype;
			let ok;
			switch (kind) {
			case 'static':
				ok = member === 'constructor' ? typeof C === 'function' : member in C;
				break;
			case 'property':
				ok = member in obj; // the vendor has function-valued properties too (parsePushNotification)
				break;
			case 'method':
			case 'async-method':
				ok = typeof obj[member] === 'function';
				break;
			case 'event':
				ok = C[member] === member || typeof obj.on === 'function' && cls === 'ReplayEventEmitter';
				break;
			default:
				ok = false;
			}
			if (!ok) missing.push(line);
		}
		await conversation.delete();
		return { checked: lines.length, missing };`)
	assert.Equal(t, len(lines), res.Checked)
	assert.Empty(t, res.Missing, "members of the vendor API that convo lacks")
}

// jsString quotes s as a JS string literal.
func jsString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, "`", "\\`", "$", `\$`)
	return "`" + r.Replace(s) + "`"
}
