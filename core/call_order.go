package core

import "context"

// When a call's result reaches its caller, relative to the events the call causes, follows
// the vendor SDK (docs/VENDOR-BEHAVIOUR.md): some calls resolve first and their events follow,
// others emit first and then resolve. The server writes the events a request committed before
// its reply, and the read loop queues events before it hands a reply over, so both orders
// can be kept exactly:
//
//   - callThenEvents holds the event queue from before the request is sent until the caller
//     has seen the result (Options.AfterResult), so the events wait behind the result.
//   - emitThenReturn, for what a call announces itself before it resolves (the vendor's
//     createConversation), waits until the queue has emitted it.

// callThenEvents makes a call whose result reaches the caller before listeners hear of the
// events it caused.
func (c *Client) callThenEvents(ctx context.Context, op string, args, out any, policy resend) error {
	return c.thenEvents(func() error { return c.call(ctx, op, args, out, policy) })
}

// thenEvents runs do, holding the events queued meanwhile until its caller has seen the
// result (or at once when do fails).
func (c *Client) thenEvents(do func() error) error {
	release := c.events.hold()
	if err := do(); err != nil {
		release()
		return err
	}
	c.afterResult(release)
	return nil
}

// emitThenReturn runs emit on the event goroutine, in order with the stream's events, and
// returns once it has run: for what a call announces itself before it resolves.
func (c *Client) emitThenReturn(ctx context.Context, emit func()) {
	if c.events.onQueue() {
		emit()
		return
	}
	c.events.push(emit)
	c.events.flush(ctx)
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
