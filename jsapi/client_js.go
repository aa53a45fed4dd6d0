//go:build js && wasm

package jsapi

import (
	"syscall/js"

	"github.com/convo-sdk/convo/core"
)

// clientExtras is per-client JS state that core does not need.
type clientExtras struct {
	online js.Func
}

var extras = map[*core.Client]*clientExtras{}

func newClientClass(parent *class) *class {
	c := newClass("Client", constructClient, parent)
	c.static("version", core.Version)
	c.staticMethod("create", func(args []js.Value) any {
		ctor := c.ctor
		return promise(func() (any, error) {
			var obj js.Value
			if err := catchJS(func() { obj = ctor.New(argsAny(args)...) }); err != nil {
				return nil, argError("%v", err)
			}
			self, _ := reg.lookup(obj)
			if err := self.(*core.Client).WaitInitialized(background); err != nil {
				return nil, err
			}
			return obj, nil
		})
	})
	for name, value := range map[string]string{
		"connectionStateChanged": core.EventConnectionStateChanged, "connectionError": core.EventConnectionError,
		"stateChanged": core.EventStateChanged, "initialized": core.EventInitialized, "initFailed": core.EventInitFailed,
		"conversationAdded": core.EventConversationAdded, "conversationJoined": core.EventConversationJoined,
		"participantJoined": core.EventParticipantJoined, "messageAdded": core.EventMessageAdded,
	} {
		c.static(name, value)
	}

	cl := func(self any) *core.Client { return self.(*core.Client) }
	c.getter("connectionState", func(self any) any { return string(cl(self).ConnectionState()) })
	c.getter("token", func(self any) any { return cl(self).Token() })
	c.getter("user", func(self any) any { return toJS(cl(self).User()) })
	c.getter("version", func(any) any { return core.Version })
	c.getter("reachabilityEnabled", func(any) any { return false })

	c.method("shutdown", func(self any, _ []js.Value) any {
		client := cl(self)
		return promise(func() (any, error) {
			err := client.Shutdown(background)
			shutdownOnce(client)
			if x := extras[client]; x != nil {
				js.Global().Call("removeEventListener", "online", x.online)
				x.online.Release()
				delete(extras, client)
			}
			return nil, err
		})
	})
	c.method("createConversation", func(self any, args []js.Value) any {
		opts := arg(args, 0)
		var o core.CreateConversationOptions
		var err error
		if o.FriendlyName, err = optionalStringField(opts, "friendlyName", "options"); err != nil {
			return rejected(err)
		}
		if o.UniqueName, err = optionalStringField(opts, "uniqueName", "options"); err != nil {
			return rejected(err)
		}
		if isObject(opts) {
			if o.Attributes, err = jsonOf(opts.Get("attributes"), "options.attributes"); err != nil {
				return rejected(err)
			}
		}
		return promise(func() (any, error) {
			conv, err := cl(self).CreateConversation(background, o)
			return toJS(conv), err
		})
	})
	byString := func(what string, get func(*core.Client, string) (*core.Conversation, error)) func(any, []js.Value) any {
		return func(self any, args []js.Value) any {
			s, err := stringArg(args, 0, what)
			if err != nil {
				return rejected(err)
			}
			return promise(func() (any, error) {
				conv, err := get(cl(self), s)
				return toJS(conv), err
			})
		}
	}
	c.method("getConversationBySid", byString("conversationSid", func(c *core.Client, s string) (*core.Conversation, error) {
		return c.GetConversationBySid(background, s)
	}))
	c.method("peekConversationBySid", byString("conversationSid", func(c *core.Client, s string) (*core.Conversation, error) {
		return c.PeekConversationBySid(background, s)
	}))
	c.method("getConversationByUniqueName", byString("uniqueName", func(c *core.Client, s string) (*core.Conversation, error) {
		return c.GetConversationByUniqueName(background, s)
	}))
	c.method("getSubscribedConversations", func(self any, _ []js.Value) any {
		return promise(func() (any, error) {
			p, err := cl(self).GetSubscribedConversations(background)
			if err != nil {
				return nil, err
			}
			return paginatorValue(p), nil
		})
	})
	extendClientClass(c)
	return c
}

// shutdownOnce counts a client out of the live ones on its first shutdown.
func shutdownOnce(client *core.Client) {
	if !shutDown[client] {
		shutDown[client] = true
		markLiveClients(-1)
	}
}

var shutDown = map[*core.Client]bool{}

// constructClient runs for `new Client(token, options)`.
func constructClient(this js.Value, args []js.Value) any {
	token := arg(args, 0)
	if token.Type() != js.TypeString || token.String() == "" {
		panic(typeError("new Client(token): token must be a non-empty string, got %s", token.Type()))
	}
	opts := &core.Options{DeferStart: true, AfterResult: releaseAfterResult, MessageChanged: func(m *core.Message) { reg.refresh(m, classes.message) }}
	if o := arg(args, 1); isObject(o) {
		url, err := optionalStringField(o, "websocketUrl", "options")
		if err != nil {
			panic(err)
		}
		opts.ServerURL = url
	}
	client := core.New(token.String(), opts)
	reg.attach(this, client)
	markLiveClients(1)
	// Connect after the constructing task, so listeners added right after `new` see every
	// state change, as with the vendor SDK.
	var start js.Func
	start = js.FuncOf(func(js.Value, []js.Value) any {
		start.Release()
		go client.Start()
		return nil
	})
	js.Global().Call("setTimeout", start, 0)
	// The browser says when the network is back; reconnect then instead of waiting.
	if js.Global().Get("addEventListener").Type() == js.TypeFunction {
		online := js.FuncOf(func(js.Value, []js.Value) any { client.NetworkOnline(); return nil })
		js.Global().Call("addEventListener", "online", online)
		extras[client] = &clientExtras{online: online}
	}
	return nil
}

func argsAny(args []js.Value) []any {
	return jsList(args, asAny[js.Value])
}
