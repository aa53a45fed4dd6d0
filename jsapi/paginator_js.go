//go:build js && wasm

package jsapi

import (
	"syscall/js"

	"github.com/convo-sdk/convo/core"
)

// jsPaginator is the Go object behind a JS Paginator.
type jsPaginator struct {
	items            func() []any
	itemsJS          js.Value
	hasNext, hasPrev bool
	next, prev       func(a *args) (js.Value, error)
}

// paginatorValue wraps a core paginator whose items convert with toJS.
func paginatorValue[T any](p *core.Paginator[T]) js.Value {
	return reg.wrap(&jsPaginator{
		items:   func() []any { return jsList(p.Items, toJSOf[T]) },
		hasNext: p.HasNextPage,
		hasPrev: p.HasPrevPage,
		next: func(a *args) (js.Value, error) {
			n, err := p.NextPage(a.ctx)
			if err != nil {
				return js.Undefined(), err
			}
			return paginatorValue(n), nil
		},
		prev: func(a *args) (js.Value, error) {
			n, err := p.PrevPage(a.ctx)
			if err != nil {
				return js.Undefined(), err
			}
			return paginatorValue(n), nil
		},
	}, classes.paginator)
}

func newPaginatorClass() *class {
	c := newClass("Paginator", nil)
	c.weak = true // a page is garbage once the app drops it, and so are its items
	pg := func(self any) *jsPaginator { return self.(*jsPaginator) }
	c.getter("items", func(self any) any {
		p := pg(self)
		if p.itemsJS.IsUndefined() {
			p.itemsJS = js.ValueOf(p.items()) // one array per page, so items === items
		}
		return p.itemsJS
	})
	c.getter("hasNextPage", func(self any) any { return pg(self).hasNext })
	c.getter("hasPrevPage", func(self any) any { return pg(self).hasPrev })
	c.async("nextPage", func(s any, a *args) (any, error) { return pg(s).next(a) })
	c.async("prevPage", func(s any, a *args) (any, error) { return pg(s).prev(a) })
	return c
}

// newRestPaginatorClass builds RestPaginator. Nothing in convo's API returns one (paginators
// are Paginator); the class is exported for instanceof checks and its paging methods reject.
func newRestPaginatorClass() *class {
	c := newRecordClass("RestPaginator", "items", "hasNextPage", "hasPrevPage")
	for _, name := range []string{"nextPage", "prevPage"} {
		c.function(name, func(js.Value, *args) any {
			return rejected(argError("RestPaginator.%s: there is no such page", name))
		})
	}
	return c
}
