package core

import (
	"context"
	"time"

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

// linkMessagePages links a page of messages to its neighbours: fetch reads the page that ends
// at (backwards) or starts at (forward) an anchor index.
func linkMessagePages(p *Paginator[*Message], fetch func(ctx context.Context, anchor int64, direction Direction) (*Paginator[*Message], error)) {
	if len(p.Items) == 0 {
		return
	}
	first, last := p.Items[0].Index(), p.Items[len(p.Items)-1].Index()
	p.prev = func(ctx context.Context) (*Paginator[*Message], error) { return fetch(ctx, first-1, Backwards) }
	p.next = func(ctx context.Context) (*Paginator[*Message], error) { return fetch(ctx, last+1, wire.Forward) }
}

// listAll reads every page of a list op that pages by cursor (wire.ListArgs.After, the page's
// Next); items takes a page's items and its cursor to the next one.
func listAll[T, P any, PP interface {
	*P
	wire.Decodable
}](ctx context.Context, c *Client, op string, pageSize int, items func(*P) ([]T, string)) ([]T, error) {
	var all []T
	args := wire.ListArgs{PageSize: pageSize}
	for {
		var page P
		if err := c.call(ctx, op, &args, PP(&page), resendAfterReconnect); err != nil {
			return nil, err
		}
		got, next := items(&page)
		all = append(all, got...)
		if next == "" {
			return all, nil
		}
		args.After = next
	}
}

// sortByCreation orders objects oldest first, and by sid those created at the same time.
func sortByCreation[T interface {
	DateCreated() time.Time
	Sid() string
}](list []T) {
	sortStable(list, func(x, y T) bool {
		if c := x.DateCreated().Compare(y.DateCreated()); c != 0 {
			return c < 0
		}
		return x.Sid() < y.Sid()
	})
}

// sortStable sorts s by less, keeping equal elements in order: a bottom-up merge sort, so the
// SDK links one small sort rather than the slices package's pdqsort for each element type.
func sortStable[T any](s []T, less func(a, b T) bool) {
	if len(s) < 2 {
		return
	}
	buf := make([]T, len(s))
	src, dst := s, buf
	for width := 1; width < len(s); width *= 2 {
		for lo := 0; lo < len(s); lo += 2 * width {
			mid, hi := min(lo+width, len(s)), min(lo+2*width, len(s))
			i, j, k := lo, mid, lo
			for i < mid && j < hi {
				if less(src[j], src[i]) {
					dst[k] = src[j]
					j++
				} else {
					dst[k] = src[i]
					i++
				}
				k++
			}
			k += copy(dst[k:], src[i:mid])
			copy(dst[k:], src[j:hi])
		}
		src, dst = dst, src
	}
	if &src[0] != &s[0] {
		copy(s, src)
	}
}
