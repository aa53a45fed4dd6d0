//go:build js && wasm

package jsapi

import (
	"context"
	"fmt"
	"syscall/js"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// api is installed once: classes are page-wide, as in the real SDK.
var api = Install(js.Undefined())

// eval runs JS source with `api` in scope and returns its value.
func eval(t *testing.T, src string) js.Value {
	t.Helper()
	js.Global().Set("__api", api)
	return js.Global().Call("eval", "(() => { const api = globalThis.__api; "+src+" })()")
}

// await waits for a promise outside any JS callback, so the event loop keeps running.
func await(t *testing.T, p js.Value) (js.Value, js.Value) {
	t.Helper()
	type result struct{ ok, err js.Value }
	ch := make(chan result, 1)
	onOK := js.FuncOf(func(_ js.Value, args []js.Value) any { ch <- result{ok: args[0]}; return nil })
	onErr := js.FuncOf(func(_ js.Value, args []js.Value) any { ch <- result{err: args[0]}; return nil })
	defer onOK.Release()
	defer onErr.Release()
	p.Call("then", onOK, onErr)
	select {
	case r := <-ch:
		return r.ok, r.err
	case <-time.After(10 * time.Second):
		t.Fatal("promise did not settle in 10 s")
		return js.Undefined(), js.Undefined()
	}
}

// tokenFor builds an unsigned JWT-shaped token with the given claims: the client only reads
// the payload; signatures are the server's business.
func tokenFor(claims string) string {
	b64 := js.Global().Get("btoa").Invoke(claims).String()
	for len(b64) > 0 && b64[len(b64)-1] == '=' {
		b64 = b64[:len(b64)-1]
	}
	return "eyJhbGciOiJIUzI1NiJ9." + b64 + ".c2ln"
}

func TestClientConstructorRejectsNonStringTokens(t *testing.T) {
	for _, src := range []string{`new api.Client()`, `new api.Client(42)`, `new api.Client("")`} {
		r := eval(t, `try { `+src+`; return "no throw"; } catch (e) { return [e instanceof TypeError, e.message].join("|"); }`)
		assert.Contains(t, r.String(), "true|new Client(token): token must be a non-empty string", src)
	}
}

func TestClassesSupportInstanceofAndStatics(t *testing.T) {
	r := eval(t, `
		const c = new api.Client(`+fmt.Sprintf("%q", tokenFor(`{"identity":"ann","exp":9999999999}`))+`);
		const out = [c instanceof api.Client, c instanceof api.ReplayEventEmitter, api.Client.name,
			api.Client.version, c.version, api.Client.messageAdded, typeof c.on, c.connectionState];
		c.shutdown();
		return out.join(",");`)
	assert.Equal(t, "true,true,Client,0.1.0,0.1.0,messageAdded,function,unknown", r.String())
}

func TestSDKOnlyClassesCannotBeConstructed(t *testing.T) {
	r := eval(t, `try { new api.Conversation(); return "no throw"; } catch (e) { return e.constructor.name + ": " + e.message; }`)
	assert.Equal(t, "TypeError: Conversation objects are created by the SDK, not with new", r.String())
}

func TestEmitterFaceFollowsNodeSemanticsWithReplay(t *testing.T) {
	r := eval(t, `
		const c = new api.Client(`+fmt.Sprintf("%q", tokenFor(`{"identity":"ann","exp":9999999999}`))+`);
		c.shutdown();
		const log = [];
		const a = (x) => log.push("a" + x);
		const b = (x) => log.push("b" + x);
		if (c.on("custom", a) !== c) throw new Error("on must return this");
		c.once("custom", b);
		c.prependListener("custom", (x) => log.push("p" + x));
		c.emit("custom", 1);
		c.emit("custom", 2);
		c.off("custom", a);
		c.emit("custom", 3);
		c.onWithReplay("custom", (x) => log.push("r" + x));
		c.onceWithReplay("custom", (x) => log.push("o" + x));
		log.push("n" + c.listenerCount("custom"));
		c.on("throws", () => { throw new Error("listener failure"); });
		c.on("throws", () => log.push("after-throw"));
		c.emit("throws");
		log.push(c.eventNames().sort().join("+"));
		c.removeAllListeners();
		log.push("n" + c.listenerCount("custom"));
		return log.join(" ");`)
	assert.Equal(t, "p1 a1 b1 p2 a2 p3 r3 o3 n2 after-throw custom+throws n0", r.String())
}

func TestEmitterRejectsBadArguments(t *testing.T) {
	r := eval(t, `
		const c = new api.Client(`+fmt.Sprintf("%q", tokenFor(`{"identity":"ann","exp":9999999999}`))+`);
		c.shutdown();
		const out = [];
		for (const f of [() => c.on("x", 42), () => c.on(7, () => {}), () => c.setMaxListeners(-1)]) {
			try { f(); out.push("no throw"); } catch (e) { out.push(e.constructor.name); }
		}
		return out.join(",");`)
	assert.Equal(t, "TypeError,TypeError,RangeError", r.String())
}

func TestInitFailureRejectsCallsWithACodedError(t *testing.T) {
	// No "url" claim and no websocketUrl option: the client cannot know its server.
	c := eval(t, `return new api.Client(`+fmt.Sprintf("%q", tokenFor(`{"identity":"ann"}`))+`);`)
	failed := make(chan js.Value, 1)
	fn := js.FuncOf(func(_ js.Value, args []js.Value) any { failed <- args[0]; return nil })
	defer fn.Release()
	c.Call("onWithReplay", "initFailed", fn)
	select {
	case ev := <-failed:
		assert.Equal(t, 60003, ev.Get("error").Get("code").Int())
		assert.True(t, ev.Get("error").Get("terminal").Bool())
	case <-time.After(5 * time.Second):
		t.Fatal("no initFailed")
	}
	_, err := await(t, c.Call("getSubscribedConversations"))
	require.False(t, err.IsUndefined(), "the call must reject")
	assert.True(t, err.InstanceOf(js.Global().Get("Error")))
	assert.Equal(t, 60002, err.Get("code").Int())
	assert.Contains(t, err.Get("message").String(), "failed to initialise")
	_, err = await(t, c.Call("shutdown"))
	assert.True(t, err.IsUndefined())
}

func TestCreateResolvesOnlyAfterInitAndRejectsOnFailure(t *testing.T) {
	p := eval(t, `return api.Client.create(`+fmt.Sprintf("%q", tokenFor(`{"identity":"ann"}`))+`);`)
	ok, err := await(t, p)
	assert.True(t, ok.IsUndefined())
	require.False(t, err.IsUndefined())
	assert.Equal(t, 60002, err.Get("code").Int())
}

func TestUnreachableServerKeepsConnecting(t *testing.T) {
	// Port 9 on loopback refuses at once; the client keeps retrying in "connecting".
	tok := tokenFor(`{"identity":"ann","exp":9999999999,"url":"ws://127.0.0.1:9/v1/ws"}`)
	c := eval(t, `return new api.Client(`+fmt.Sprintf("%q", tok)+`);`)
	states := make(chan string, 8)
	fn := js.FuncOf(func(_ js.Value, args []js.Value) any { states <- args[0].String(); return nil })
	defer fn.Release()
	c.Call("on", "connectionStateChanged", fn)
	select {
	case s := <-states:
		assert.Equal(t, "connecting", s)
	case <-time.After(5 * time.Second):
		t.Fatal("no connectionStateChanged")
	}
	assert.Equal(t, "connecting", c.Get("connectionState").String())
	await(t, c.Call("shutdown"))
	assert.Equal(t, "disconnected", c.Get("connectionState").String())
}

func TestErrorValueCarriesTheWireCode(t *testing.T) {
	e := errorValue(argError("pageSize must be between 1 and 100, got %d", 0))
	assert.Equal(t, 60003, e.Get("code").Int())
	assert.Equal(t, "pageSize must be between 1 and 100, got 0", e.Get("message").String())
	assert.True(t, e.InstanceOf(jsError))
	e = errorValue(fmt.Errorf("plain"))
	assert.Equal(t, 50000, e.Get("code").Int())
}

func TestJSONConversionsRoundTrip(t *testing.T) {
	v := jsonValue([]byte(`{"a":[1,"x",null],"b":{"c":true}}`))
	raw, err := jsonOf(v, "attributes")
	require.NoError(t, err)
	assert.JSONEq(t, `{"a":[1,"x",null],"b":{"c":true}}`, string(raw))
	_, err = jsonOf(js.Global().Call("eval", "(() => { const o = {}; o.self = o; return o; })()"), "attributes")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "attributes cannot be serialised to JSON")
	d := dateValue(time.UnixMilli(1700000000123))
	assert.Equal(t, float64(1700000000123), d.(js.Value).Call("getTime").Float())
}

func TestCancellablePromiseIsAPromiseThatCancels(t *testing.T) {
	r := eval(t, `
		const CP = api.CancellablePromise;
		const p = new CP((resolve) => setTimeout(() => resolve(7), 0));
		const chained = p.then((v) => v * 2);
		return [p instanceof Promise, p instanceof CP, typeof p.cancel, chained instanceof Promise, CP.name].join(",");`)
	assert.Equal(t, "true,true,function,true,CancellablePromise", r.String())
	v, err := await(t, eval(t, `return new api.CancellablePromise((resolve) => resolve(21)).then((v) => v * 2);`))
	require.True(t, err.IsUndefined())
	assert.Equal(t, 42, v.Int())

	// cancel() runs the cancel hook; cancellable() turns it into a coded rejection.
	p := cancellable(func(ctx context.Context) (any, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	})
	p.Call("cancel")
	_, e := await(t, p)
	require.False(t, e.IsUndefined())
	assert.Equal(t, 60001, e.Get("code").Int())
	assert.Equal(t, "cancelled", e.Get("message").String())
}

func TestContentTemplateVariableHasAPublicConstructor(t *testing.T) {
	r := eval(t, `
		const v = new api.ContentTemplateVariable("1", "Ann");
		const w = v.copyWithValue("Bob");
		let threw = "";
		try { new api.ContentTemplateVariable(5); } catch (e) { threw = e.constructor.name; }
		return [v instanceof api.ContentTemplateVariable, v.name, v.value, w.name, w.value, w !== v, threw].join(",");`)
	assert.Equal(t, "true,1,Ann,1,Bob,true,TypeError", r.String())
}

func TestNotificationTypesAndPushParsing(t *testing.T) {
	r := eval(t, `
		const T = api.NotificationTypes;
		const n = api.Client.parsePushNotification({
			type: T.NEW_MESSAGE, title: "room", body: "ann: hi", badge: 3,
			data: { conversationSid: "CH1", messageSid: "IM1", messageIndex: 4 },
		});
		const wrapped = api.Client.parsePushNotification({ data: { convo: JSON.stringify({ type: T.ADDED_TO_CONVERSATION, data: { conversationSid: "CH2" } }) } });
		let bad = "";
		try { api.Client.parsePushNotification({ hello: 1 }); } catch (e) { bad = e.code + ":" + e.message; }
		return [T.TYPING_INDICATOR, T.CONSUMPTION_UPDATE, n instanceof api.PushNotification, n.type, n.title, n.body,
			n.badge, n.sound, n.data.conversationSid, n.data.messageIndex, wrapped.type, wrapped.data.conversationSid, bad].join("|");`)
	assert.Equal(t, "twilio.ipmsg.typing_indicator|twilio.channel.consumption_update|true|twilio.conversations.new_message|room|ann: hi|3||CH1|4|twilio.conversations.added_to_conversation|CH2|60003:push payload has no type: it was not produced by a convo server", r.String())
}

func TestEveryExportedClassIsAConstructor(t *testing.T) {
	r := eval(t, `
		const names = ["Client","Conversation","Message","Participant","User","Media","Paginator","RestPaginator",
			"MessageBuilder","UnsentMessage","AggregatedDeliveryReceipt","DetailedDeliveryReceipt","ContentTemplate",
			"ContentTemplateVariable","PushNotification","ChannelMetadata","EmailRecipientDescriptor",
			"UnknownRecipientDescriptor","NotificationTypes","CancellablePromise"];
		return names.filter((n) => typeof api[n] !== "function" || api[n].name !== n).join(",");`)
	assert.Equal(t, "", r.String(), "classes missing or misnamed")
}
