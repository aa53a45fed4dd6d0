package core

import (
	"context"
	"time"

	"github.com/convo-sdk/convo/wire"
)

// When a call's result reaches its caller, relative to the events the call causes, follows
// the vendor SDK (docs/VENDOR-BEHAVIOUR.md): some calls resolve first and their events follow,
// others emit first and then resolve. The server writes the events a request committed before
// its reply, and the read loop queues events before it hands a reply over, so both orders
// can be kept exactly:
//
//   - callThenEvents holds the event queue from before the request is sent until the caller
//     has seen the result (Options.AfterResult), so the events wait behind the result.
//   - onQueue, for what a call applies and announces itself before it resolves (the vendor's
//     createConversation, lookups that bring a conversation in), runs it on the queue behind
//     the events already queued, and waits for it.

// callThenEvents makes a call whose result reaches the caller before listeners hear of the
// events it caused. apply, if not nil, writes the reply into the object model; it runs while
// the events are still held, so that it cannot overwrite what they (or later ones) bring.
func (c *Client) callThenEvents(ctx context.Context, op string, args wire.Encoder, out wire.Decodable, policy resend, apply func()) error {
	return c.thenEvents(func() error {
		if err := c.call(ctx, op, args, out, policy); err != nil {
			return err
		}
		if apply != nil {
			apply()
		}
		return nil
	})
}

// thenEvents runs do, holding the events queued meanwhile until its caller has seen the
// result (or at once when do fails or panics).
func (c *Client) thenEvents(do func() error) error {
	release := c.events.hold(maxHold)
	settled := false
	defer func() {
		if !settled {
			release()
		}
	}()
	if err := do(); err != nil {
		return err
	}
	settled = true
	c.afterResult(release)
	return nil
}

// maxHold bounds how long a call keeps the events back. A call that takes longer (a send
// waiting out a disconnection or a database outage) lets them through: the events queued
// meanwhile are not its own, and holding them would stop every conversation. Its own events
// may then come before its result.
const maxHold = 5 * time.Second

// onQueue runs fn on the event goroutine, in order with the stream's events queued before it,
// and reports whether it ran before ctx ended or the client stopped: for what a call applies
// and announces itself before it resolves.
func (c *Client) onQueue(ctx context.Context, fn func()) bool {
	return c.events.run1(ctx, fn)
}

// afterResult releases held events once the caller has seen a call's result: at once for Go
// callers, after the promise's reactions have run for JavaScript ones (Options.AfterResult).
func (c *Client) afterResult(release func()) {
	if c.opts.AfterResult != nil {
		c.opts.AfterResult(release)
		return
	}
	release()
}
