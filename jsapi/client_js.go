//go:build js && wasm

package jsapi

import (
	"context"
	"fmt"
	"sync"
	"syscall/js"

	"github.com/convo-sdk/convo/core"
)

func newClientClass(parent *class) *class {
	c := newClassWith("Client", "token", constructClient, parent)
	c.static("version", core.Version)
	c.statics(core.EventConnectionStateChanged.Name(), core.EventConnectionError.Name(), core.EventStateChanged.Name(),
		core.EventInitialized.Name(), core.EventInitFailed.Name(), core.EventConversationAdded.Name(),
		core.EventConversationJoined.Name(), core.EventParticipantJoined.Name(), core.EventMessageAdded.Name(),
		core.EventConversationLeft.Name(), core.EventConversationRemoved.Name(), core.EventConversationUpdated.Name(),
		core.EventParticipantLeft.Name(), core.EventParticipantUpdated.Name(), core.EventMessageRemoved.Name(),
		core.EventMessageUpdated.Name(), core.EventTokenAboutToExpire.Name(), core.EventTokenExpired.Name(),
		core.EventTypingEnded.Name(), core.EventTypingStarted.Name(), core.EventPushNotification.Name(),
		core.EventUserSubscribed.Name(), core.EventUserUnsubscribed.Name(), core.EventUserUpdated.Name())

	c.staticMethod("create", func(a *args) any {
		ctor := c.ctor
		return promise(func(ctx context.Context) (any, error) {
			var obj js.Value
			if err := catchJS(func() { obj = ctor.New(jsList(a.list, asAny[js.Value])...) }); err != nil {
				return nil, argError("%v", err)
			}
			self, _ := reg.lookup(obj)
			if err := self.(*core.Client).WaitInitialized(ctx); err != nil {
				return nil, err
			}
			return obj, nil
		})
	})
	parse := func(a *args) any {
		n, err := core.ParsePushNotification(a.json(0, "notificationPayload"))
		if err != nil {
			panic(err)
		}
		return pushNotificationValue(*n)
	}
	c.staticMethod("parsePushNotification", parse)
	c.method("parsePushNotification", func(_ any, a *args) any { return parse(a) })
	c.staticMethod("populateInitRegistrations", func(*args) any { return nil }) // push types are decided by the server's webhook

	cl := func(self any) *core.Client { return self.(*core.Client) }
	c.getter("connectionState", func(self any) any { return string(cl(self).ConnectionState()) })
	c.getter("token", func(self any) any { return cl(self).Token() })
	c.getter("user", func(self any) any { return toJS(cl(self).User()) })
	c.getter("version", func(any) any { return core.Version })
	c.getter("reachabilityEnabled", func(any) any { return false })

	shutdown := func(ctx context.Context, client *core.Client) error {
		err := client.Shutdown(ctx)
		clientShutDown(client)
		return err
	}
	c.async("shutdown", func(self any, a *args) (any, error) { return nil, shutdown(a.ctx, cl(self)) })
	// convo extensions: the local store (docs/MIGRATION.md, "Offline").
	c.async("eraseLocalStore", func(self any, a *args) (any, error) {
		if err := shutdown(a.ctx, cl(self)); err != nil {
			return nil, err
		}
		return nil, core.EraseIndexedDBStore(cl(self).StoreScope())
	})
	c.async("getPendingMessages", func(self any, _ *args) (any, error) {
		return jsList(cl(self).PendingMessages(), func(p core.PendingMessage) any { return pendingMessageValue(p) }), nil
	})
	c.asyncSelf("updateToken", func(s any, a *args) error {
		return cl(s).UpdateToken(a.ctx, a.string(0, "token"))
	})
	c.async("createConversation", func(s any, a *args) (any, error) {
		opts := a.options(0, "options")
		var o core.CreateConversationOptions
		o.FriendlyName, _ = opts.optionalString("friendlyName")
		o.UniqueName, _ = opts.optionalString("uniqueName")
		o.Attributes = opts.json("attributes")
		conv, err := cl(s).CreateConversation(a.ctx, o)
		return toJS(conv), err
	})
	c.async("getConversationBySid", func(s any, a *args) (any, error) {
		conv, err := cl(s).GetConversationBySid(a.ctx, a.string(0, "conversationSid"))
		return toJS(conv), err
	})
	c.async("peekConversationBySid", func(s any, a *args) (any, error) {
		conv, err := cl(s).PeekConversationBySid(a.ctx, a.string(0, "conversationSid"))
		return toJS(conv), err
	})
	c.async("getConversationByUniqueName", func(s any, a *args) (any, error) {
		conv, err := cl(s).GetConversationByUniqueName(a.ctx, a.string(0, "uniqueName"))
		return toJS(conv), err
	})
	c.async("getSubscribedConversations", func(s any, a *args) (any, error) {
		p, err := cl(s).GetSubscribedConversations(a.ctx)
		if err != nil {
			return nil, err
		}
		return paginatorValue(p), nil
	})
	c.async("getUser", func(s any, a *args) (any, error) {
		u, err := cl(s).GetUser(a.ctx, a.string(0, "identity"))
		return toJS(u), err
	})
	c.async("getSubscribedUsers", func(s any, a *args) (any, error) {
		us, err := cl(s).GetSubscribedUsers(a.ctx)
		if err != nil {
			return nil, err
		}
		return jsList(us, toJSOf[*core.User]), nil
	})
	c.async("setPushRegistrationId", func(s any, a *args) (any, error) {
		return nil, cl(s).SetPushRegistrationID(a.ctx, a.string(0, "channelType"), a.string(1, "registrationId"))
	})
	c.async("removePushRegistrations", func(s any, a *args) (any, error) {
		return nil, cl(s).RemovePushRegistrations(a.ctx, a.string(0, "channelType"), a.string(1, "registrationId"))
	})
	c.async("unsetPushRegistrationId", func(s any, a *args) (any, error) {
		return nil, cl(s).UnsetPushRegistrationID(a.ctx, a.string(0, "channelType"))
	})
	c.async("handlePushNotification", func(s any, a *args) (any, error) {
		return nil, cl(s).HandlePushNotification(a.ctx, a.json(0, "notificationPayload"))
	})
	c.async("getTemporaryContentUrlsForMediaSids", func(s any, a *args) (any, error) {
		return temporaryURLs(a, cl(s), a.mediaSids(0, "mediaSids"))
	}).cancellable()
	c.async("getTemporaryContentUrlsForMedia", func(s any, a *args) (any, error) {
		return temporaryURLs(a, cl(s), a.mediaSids(0, "contentSet"))
	}).cancellable()
	c.async("getContentTemplates", func(s any, a *args) (any, error) {
		ts, err := cl(s).GetContentTemplates(a.ctx)
		if err != nil {
			return nil, err
		}
		out := jsList(ts, func(t core.ContentTemplate) any { return contentTemplateValue(t) })
		return jsObject.Call("freeze", js.ValueOf(out)), nil
	})
	return c
}

// temporaryURLs resolves media sids to a Map of sid → temporary URL.
func temporaryURLs(a *args, client *core.Client, sids []string) (any, error) {
	urls, err := client.GetTemporaryContentURLs(a.ctx, sids)
	if err != nil {
		return nil, err
	}
	return jsURLMap(urls), nil
}

// constructClient runs for `new Client(token, options)`.
func constructClient(this js.Value, a *args) {
	token := a.nonEmptyString(0, "token")
	options := a.options(1, "options")
	url, _ := options.optionalString("websocketUrl")
	persist := options.optionalBool("persistence", true)
	opts := &core.Options{DeferStart: true, AfterResult: releaseAfterResult, ServerURL: url,
		MessageChanged: func(m *core.Message) { reg.refresh(m, classes.message) }}
	client := core.New(token, opts)
	reg.attach(this, client)
	markLiveClients(1)
	// Connect after the constructing task, so listeners added right after `new` see every
	// state change, as with the vendor SDK.
	var start js.Func
	start = js.FuncOf(func(js.Value, []js.Value) any {
		start.Release()
		go func() {
			if persist {
				openStore(client)
			}
			client.Start()
		}()
		return nil
	})
	js.Global().Call("setTimeout", start, 0)
	// The browser says when the network is back; reconnect then instead of waiting.
	if js.Global().Get("addEventListener").Type() == js.TypeFunction {
		online := js.FuncOf(func(js.Value, []js.Value) any { client.NetworkOnline(); return nil })
		js.Global().Call("addEventListener", "online", online)
		onlineListeners[client] = online
		offline := js.FuncOf(func(js.Value, []js.Value) any { client.NetworkOffline(); return nil })
		js.Global().Call("addEventListener", "offline", offline)
		offlineListeners[client] = offline
		if nav := js.Global().Get("navigator"); nav.Type() == js.TypeObject && nav.Get("onLine").Type() == js.TypeBoolean && !nav.Get("onLine").Bool() {
			client.NetworkOffline()
		}
	}
}

// offlineListeners holds each live client's listener of the window's "offline" event.
var offlineListeners = map[*core.Client]js.Func{}

// stores holds each client's open local store, closed when the client shuts down.
var (
	storesMu sync.Mutex
	stores   = map[*core.Client]core.LocalStore{}
)

// openStore opens client's IndexedDB store, if the browser has one it may use; without, the
// client keeps its state in memory, with a warning on the console.
func openStore(client *core.Client) {
	warn := func(format string, args ...any) { console.Call("warn", fmt.Sprintf(format, args...)) }
	st, err := core.OpenIndexedDBStore(client.StoreScope(), warn)
	if err != nil {
		warn("%v; the client keeps its state in memory only", err)
	}
	if st == nil {
		return
	}
	client.UseStore(st)
	storesMu.Lock()
	stores[client] = st
	storesMu.Unlock()
}

// onlineListeners holds each live client's listener of the window's "online" event.
var onlineListeners = map[*core.Client]js.Func{}

// shutDown holds the clients shut down, each counted out of the live ones once.
var shutDown = map[*core.Client]bool{}

// clientShutDown counts a client out of the live ones on its first shutdown and drops its
// "online" listener.
func clientShutDown(client *core.Client) {
	if !shutDown[client] {
		shutDown[client] = true
		markLiveClients(-1)
	}
	if online, ok := onlineListeners[client]; ok {
		js.Global().Call("removeEventListener", "online", online)
		online.Release()
		delete(onlineListeners, client)
	}
	if offline, ok := offlineListeners[client]; ok {
		js.Global().Call("removeEventListener", "offline", offline)
		offline.Release()
		delete(offlineListeners, client)
	}
	storesMu.Lock()
	st := stores[client]
	delete(stores, client)
	storesMu.Unlock()
	if st != nil {
		st.Close()
	}
}

// setIdle, from the loader, tells it whether any client is alive (see boot.js): with none, the
// Go runtime's timers must not keep a Node process running.
var (
	setIdle     js.Value
	liveClients int
)

// markLiveClients adds delta to the number of live clients and tells the loader when the
// count reaches or leaves zero.
func markLiveClients(delta int) {
	before := liveClients
	liveClients += delta
	if setIdle.Type() != js.TypeFunction || (before > 0) == (liveClients > 0) && delta != 0 {
		return
	}
	setIdle.Invoke(liveClients == 0)
}
