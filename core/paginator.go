package core

import (
	"context"

	"github.com/convo-sdk/convo/wire"
)

// Paginator is one page of a list with links to its neighbours.
type Paginator[T any] struct {
	Items       []T
	HasNextPage bool
	HasPrevPage bool
	next, prev  func(context.Context) (*Paginator[T], error)
}

// NextPage fetches the following page.
func (p *Paginator[T]) NextPage(ctx context.Context) (*Paginator[T], error) {
	if !p.HasNextPage || p.next == nil {
		return nil, wire.Errorf(CodeClientArgument, "there is no next page")
	}
	return p.next(ctx)
}

// PrevPage fetches the preceding page.
func (p *Paginator[T]) PrevPage(ctx context.Context) (*Paginator[T], error) {
	if !p.HasPrevPage || p.prev == nil {
		return nil, wire.Errorf(CodeClientArgument, "there is no previous page")
	}
	return p.prev(ctx)
}

// pageOf serves a list already held in memory in pages of size.
func pageOf[T any](all []T, start, size int) *Paginator[T] {
	end := min(start+size, len(all))
	p := &Paginator[T]{Items: all[start:end], HasPrevPage: start > 0, HasNextPage: end < len(all)}
	p.next = func(context.Context) (*Paginator[T], error) { return pageOf(all, end, size), nil }
	p.prev = func(context.Context) (*Paginator[T], error) { return pageOf(all, max(start-size, 0), size), nil }
	return p
}
