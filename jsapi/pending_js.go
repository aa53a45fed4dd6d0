//go:build js && wasm

package jsapi

import (
	"syscall/js"

	"github.com/convo-sdk/convo/core"
	"github.com/convo-sdk/convo/wire"
)

// pendingMessageValue is a convo extension's record of a send not yet acknowledged
// (Client.getPendingMessages): a frozen plain object, typed PendingMessage in index.d.ts.
func pendingMessageValue(p core.PendingMessage) js.Value {
	body := js.Null()
	if p.Body != nil {
		body = js.ValueOf(*p.Body)
	}
	attrs := wire.RawJSON("{}")
	if len(p.Attributes) > 0 {
		attrs = p.Attributes
	}
	return jsObject.Call("freeze", js.ValueOf(map[string]any{
		"conversationSid":    p.ConversationSid,
		"body":               body,
		"attributes":         jsonValue(attrs),
		"mediaSids":          jsList(p.MediaSids, func(s string) any { return s }),
		"idempotencyKey":     p.IdempotencyKey,
		"fromEarlierSession": p.FromEarlierSession,
		"files": jsList(p.Files, func(f core.PendingFile) any {
			return jsObject.Call("freeze", js.ValueOf(map[string]any{
				"contentType": f.ContentType, "filename": f.Filename, "category": f.Category, "size": f.Size,
			}))
		}),
	}))
}
