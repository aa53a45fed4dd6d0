//go:build js && wasm

package jsapi

import (
	"context"
	"syscall/js"

	"github.com/convo-sdk/convo/core"
)

// classes holds the installed JS classes, for wrapping Go objects on their way out.
var classes struct {
	emitter, client, conversation, message, participant, user, paginator, media, builder, unsent *class
}

// Install builds the JS API and returns the object the loader exports: the classes and the
// version. hooks may carry `rethrow`, the loader's function wrapper that turns throw markers
// into exceptions (see rethrowing); without it a wrapper is compiled here.
func Install(hooks js.Value) js.Value {
	if isObject(hooks) && hooks.Get("rethrow").Type() == js.TypeFunction {
		rethrower = hooks.Get("rethrow")
	}
	if isObject(hooks) && hooks.Get("setIdle").Type() == js.TypeFunction {
		setIdle = hooks.Get("setIdle")
	}
	defer markLiveClients(0)
	classes.emitter = newEmitterClass()
	classes.client = newClientClass(classes.emitter)
	classes.conversation = newConversationClass(classes.emitter)
	classes.message = newMessageClass(classes.emitter)
	classes.participant = newParticipantClass(classes.emitter)
	classes.user = newUserClass(classes.emitter)
	classes.paginator = newPaginatorClass()
	classes.media = newMediaClass()
	classes.builder = newBuilderClass()
	classes.unsent = newUnsentClass()
	newValueClasses()

	defineClasses()
	api := jsObject.New()
	for _, c := range []*class{classes.client, classes.conversation, classes.message, classes.participant, classes.user,
		classes.paginator, classes.media, classes.builder, classes.unsent, values.aggregatedReceipt, values.detailedReceipt,
		values.contentTemplate, values.contentVariable, values.pushNotification, values.channelMetadata,
		values.emailRecipient, values.unknownRecipient, values.notificationTypes, values.cancellable, values.restPaginator} {
		api.Set(c.name, c.ctor)
	}
	api.Set("ReplayEventEmitter", classes.emitter.ctor)
	api.Set("version", core.Version)
	return api
}

// toJS converts a Go value emitted by core, or returned by a method, to its JS form.
func toJS(v any) any {
	switch x := v.(type) {
	case nil:
		return js.Undefined()
	case js.Value:
		return x
	case *core.Client:
		return reg.jsOf(x)
	case *core.Conversation:
		return reg.wrap(x, classes.conversation)
	case *core.Message:
		return reg.wrap(x, classes.message)
	case *core.Participant:
		return reg.wrap(x, classes.participant)
	case *core.User:
		return reg.wrap(x, classes.user)
	case core.ConnectionState:
		return string(x)
	case core.InitFailure:
		return map[string]any{"error": connectionErrorValue(true, x.Err)}
	case core.ConnectionError:
		e := jsError.New(x.Message)
		e.Set("terminal", x.Terminal)
		e.Set("message", x.Message)
		e.Set("errorCode", int(x.Code))
		e.Set("code", int(x.Code))
		return e
	case *core.Media:
		return reg.wrap(x, classes.media)
	case string, bool, int, int64, float64:
		return x
	}
	if v, ok := eventValue(v); ok {
		return v
	}
	return js.Undefined()
}

// connectionErrorValue shapes an error as the vendor's ConnectionError: an Error with
// terminal, message and errorCode.
func connectionErrorValue(terminal bool, err error) js.Value {
	e := errorValue(err)
	e.Set("terminal", terminal)
	e.Set("errorCode", e.Get("code"))
	return e
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

// background is the context of calls made from JS: they end on their own timeouts or when
// the client shuts down.
var background = context.Background()

// paginatorValue wraps a core paginator whose items convert with toJS.
func paginatorValue[T any](p *core.Paginator[T]) js.Value {
	return reg.wrap(&jsPaginator{
		items:   func() []any { return jsList(p.Items, toJSOf[T]) },
		hasNext: p.HasNextPage,
		hasPrev: p.HasPrevPage,
		next: func() (js.Value, error) {
			n, err := p.NextPage(background)
			if err != nil {
				return js.Undefined(), err
			}
			return paginatorValue(n), nil
		},
		prev: func() (js.Value, error) {
			n, err := p.PrevPage(background)
			if err != nil {
				return js.Undefined(), err
			}
			return paginatorValue(n), nil
		},
	}, classes.paginator)
}

// jsPaginator is the Go object behind a JS Paginator.
type jsPaginator struct {
	items            func() []any
	itemsJS          js.Value
	hasNext, hasPrev bool
	next, prev       func() (js.Value, error)
}

func newPaginatorClass() *class {
	c := newClass("Paginator", nil, nil)
	c.weak = true // a page is garbage once the app drops it, and so are its items
	c.getter("items", func(self any) any {
		p := self.(*jsPaginator)
		if p.itemsJS.IsUndefined() {
			p.itemsJS = js.ValueOf(p.items()) // one array per page, so items === items
		}
		return p.itemsJS
	})
	c.getter("hasNextPage", func(self any) any { return self.(*jsPaginator).hasNext })
	c.getter("hasPrevPage", func(self any) any { return self.(*jsPaginator).hasPrev })
	c.method("nextPage", func(self any, _ []js.Value) any {
		return promise(func() (any, error) { return self.(*jsPaginator).next() })
	})
	c.method("prevPage", func(self any, _ []js.Value) any {
		return promise(func() (any, error) { return self.(*jsPaginator).prev() })
	})
	return c
}
