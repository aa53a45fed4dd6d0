//go:build js && wasm

package jsapi

import "github.com/convo-sdk/convo/core"

func newUserClass(parent *class) *class {
	c := newClass("User", parent)
	u := func(self any) *core.User { return self.(*core.User) }
	c.statics(core.UserEventUpdated.Name(), core.UserEventSubscribed.Name(), core.UserEventUnsubscribed.Name())
	c.getter("identity", func(self any) any { return u(self).Identity() })
	c.getter("friendlyName", func(self any) any { return optString(u(self).FriendlyName()) })
	c.getter("attributes", func(self any) any { return jsonValue(u(self).AttributesJSON()) })
	c.getter("isOnline", func(self any) any { return u(self).IsOnline() })
	c.getter("isNotifiable", func(self any) any { return u(self).IsNotifiable() })
	c.getter("isSubscribed", func(self any) any { return u(self).IsSubscribed() })

	c.asyncSelf("updateAttributes", func(s any, a *args) error {
		return u(s).UpdateAttributes(a.ctx, a.attributes(0))
	})
	c.asyncSelf("updateFriendlyName", func(s any, a *args) error {
		return u(s).UpdateFriendlyName(a.ctx, a.string(0, "friendlyName"))
	})
	c.async("unsubscribe", func(s any, a *args) (any, error) { return nil, u(s).Unsubscribe(a.ctx) })
	return c
}
