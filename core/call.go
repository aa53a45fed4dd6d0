package core

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/convo-sdk/convo/wire"
)

// resend says what call does with a request whose connection was lost before its reply came.
type resend int

const (
	// sendOnce fails the call with CodeUnavailable, since the server may or may not have
	// applied the request: for writes that must not be repeated blindly (creating a
	// conversation, joining, adding a participant, a typing signal).
	sendOnce resend = iota
	// resendAfterReconnect sends the request again on the next connection: for reads, and
	// for writes that may safely reach the server twice.
	resendAfterReconnect
	// resendRemoval sends a removal again on the next connection and, when the first attempt
	// may have been applied, takes "not found" for the answer that it was: the thing is gone.
	resendRemoval
	// resendLeave is resendRemoval for leaving a conversation, whose repeat the server
	// answers "not a participant" (CodeForbidden) once the first one was applied.
	resendLeave
)

// doneAlready reports whether err, the answer to a repeat of a removal whose first attempt
// may have been applied, means that the first attempt removed the thing.
func (policy resend) doneAlready(err error) bool {
	switch wire.CodeOf(err) {
	case wire.CodeNotFound:
		return policy == resendRemoval || policy == resendLeave
	case wire.CodeForbidden:
		return policy == resendLeave
	}
	return false
}

// call sends op and decodes its result into out. A throttled request is always sent again
// after a backoff (the server did not apply it); one whose connection was lost is sent again
// only when policy is resendAfterReconnect.
func (c *Client) call(ctx context.Context, op string, args wire.Encoder, out wire.Decodable, policy resend) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.opts.RequestTimeout)
		defer cancel()
	}
	maybeApplied := false // a previous attempt reached the server, for all the client knows
	for throttled := 0; ; {
		s, err := c.currentSession(ctx, op)
		if err != nil {
			return c.callError(op, err)
		}
		id := c.nextID.Add(1)
		ch, err := s.send(ctx, id, op, args)
		if err != nil && err != errLost {
			return err
		}
		if err == errLost {
			if ctx.Err() != nil {
				return c.callError(op, ctx.Err())
			}
			if policy != sendOnce {
				maybeApplied = true
				continue
			}
			return wire.Errorf(wire.CodeUnavailable, "%s: connection lost while sending; it may or may not have been applied", op)
		}
		var r reply
		select {
		case r = <-ch:
		case <-ctx.Done():
			s.forget(id)
			return c.callError(op, ctx.Err())
		case <-c.ctx.Done():
			return errShutdown
		}
		if r.err == errLost {
			if policy != sendOnce {
				maybeApplied = true
				continue
			}
			return wire.Errorf(wire.CodeUnavailable, "%s: connection lost before the reply; it may or may not have been applied", op)
		}
		if wire.CodeOf(r.err) == wire.CodeRateLimited {
			// Throttled requests were not applied, so a retry is always safe.
			t := time.NewTimer(throttleBackoff(throttled))
			throttled++
			select {
			case <-t.C:
				continue
			case <-ctx.Done():
				t.Stop()
				return r.err
			}
		}
		if r.err != nil {
			if maybeApplied && policy.doneAlready(r.err) {
				return nil
			}
			return r.err
		}
		return decodeResult(op, r.data, out)
	}
}

func decodeResult(op string, data wire.RawJSON, out wire.Decodable) error {
	if out == nil || len(data) == 0 {
		return nil
	}
	if err := wire.Unmarshal(data, out); err != nil {
		return wire.Errorf(wire.CodeInternal, "%s: unexpected reply: %v", op, err)
	}
	return nil
}

func (c *Client) callError(op string, err error) error {
	var we *wire.Error
	switch {
	case errors.As(err, &we):
		return err
	case c.closing.Load():
		return errShutdown
	case errors.Is(err, context.DeadlineExceeded):
		return wire.Errorf(CodeClientTimeout, "%s: no reply in time", op)
	case errors.Is(err, context.Canceled):
		return wire.Errorf(CodeClientTimeout, "%s: cancelled", op)
	}
	return wire.Errorf(wire.CodeInternal, "%s: %v", op, err)
}

// throttleBackoff is the wait before retrying a request the server throttled for the n-th
// time: 100 ms doubling to 2 s, with jitter so throttled clients do not retry in step.
func throttleBackoff(n int) time.Duration {
	d := min(100*time.Millisecond<<min(n, 5), 2*time.Second)
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}
