//go:build js && wasm

package jsapi

import "github.com/convo-sdk/convo/core"

func newMediaClass() *class {
	c := newClass("Media", nil)
	c.weak = true
	md := func(self any) *core.Media { return self.(*core.Media) }
	c.getter("sid", func(self any) any { return md(self).Sid() })
	c.getter("filename", func(self any) any { return optString(md(self).Filename()) })
	c.getter("contentType", func(self any) any { return md(self).ContentType() })
	c.getter("size", func(self any) any { return md(self).Size() })
	c.getter("category", func(self any) any { return md(self).Category() })
	c.async("getContentTemporaryUrl", func(s any, a *args) (any, error) {
		u, err := md(s).GetContentTemporaryURL(a.ctx)
		if err != nil {
			return nil, err
		}
		return u, nil
	}).cancellable()
	return c
}

// mediaList converts core media to a JS array of Media objects.
func mediaList(ms []*core.Media) []any {
	return jsList(ms, func(m *core.Media) any { return reg.wrap(m, classes.media) })
}
