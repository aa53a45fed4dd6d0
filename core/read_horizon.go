package core

import (
	"context"
	"time"

	"github.com/convo-sdk/convo/wire"
)

// readReportInterval is the least time between two read-horizon reports of one conversation:
// marking messages read as they scroll by must not cost a request each.
const readReportInterval = 5 * time.Second

// readReport is a conversation's read horizon waiting to reach the server.
type readReport struct {
	pending  *wire.ReadArgs
	lastSent time.Time
	timer    *time.Timer
	sending  bool // a report is on its way (flushReads holds cv.reporting until it is answered)
}

// ReadMode says how SetReadHorizon moves the read horizon.
type ReadMode string

// The read modes.
const (
	ReadSet     ReadMode = wire.ReadSet     // to the index (nil: nothing read)
	ReadAdvance ReadMode = wire.ReadAdvance // to the index only if that is further: never back
	ReadAll     ReadMode = wire.ReadAll     // everything read (the newest index)
	ReadNone    ReadMode = wire.ReadNone    // nothing read
)

// SetReadHorizon moves the current user's read horizon and returns the unread count it
// leaves. mode is ReadSet (index may be nil: nothing read), ReadAdvance (never moves back),
// ReadAll or ReadNone. The change applies locally at once; reports
// to the server are batched, at most one per conversation every 5 s, and flushed on Shutdown.
// The count is computed from message indexes.
func (cv *Conversation) SetReadHorizon(ctx context.Context, mode ReadMode, index *int64) (int64, error) {
	switch mode {
	case ReadSet, ReadNone, ReadAll:
	case ReadAdvance:
		if index == nil {
			return 0, wire.Errorf(CodeClientArgument, "advancing the read horizon needs an index")
		}
	default:
		return 0, wire.Errorf(CodeClientArgument, "unknown read mode %q", mode)
	}
	if index != nil && *index < 0 {
		return 0, wire.Errorf(CodeClientArgument, "a message index cannot be negative, got %d", *index)
	}
	if err := cv.client.ready(ctx); err != nil {
		return 0, err
	}
	if cv.isLeft() {
		return 0, wire.Errorf(wire.CodeForbidden, "conversation %s was left; its read horizon no longer changes", cv.sid)
	}
	c := cv.client
	// Held from before the report can leave, so the events of the change (this local
	// conversationUpdated, the server's participantUpdated) follow the caller's result, as
	// the vendor's follow its reply.
	release := c.events.hold(maxHold)
	c.mu.Lock()
	cur := cv.data.LastReadMessageIndex
	var last *int64
	if cv.data.LastMessage != nil {
		i := cv.data.LastMessage.Index
		last = &i
	}
	next := cur
	switch mode {
	case ReadSet:
		next = index
	case ReadNone:
		next = nil
	case ReadAll:
		next = last
	case ReadAdvance:
		if cur == nil || *index > *cur {
			next = index
		}
	}
	changed := !sameIndex(cur, next)
	if changed {
		cv.data.LastReadMessageIndex = next
		cv.client.touchLocked("")
		// A pending "set" must stay a set (it may move the horizon back); otherwise the
		// call's own mode goes, so "advance" and "all" stay right against other devices.
		report := &wire.ReadArgs{ConversationSid: cv.sid, Mode: string(mode), Index: index}
		if mode == ReadAll {
			report.Index = nil
		}
		if p := cv.read.pending; (p != nil && p.Mode == wire.ReadSet) || mode == ReadSet || mode == ReadNone {
			report = &wire.ReadArgs{ConversationSid: cv.sid, Mode: wire.ReadSet, Index: next}
		}
		cv.read.pending = report
		cv.scheduleReadReportLocked()
	}
	unread := unreadCount(last, next)
	c.mu.Unlock()
	if changed {
		c.events.push(func() { c.emitConversationUpdated(cv, []string{wire.ReasonLastReadMessageIndex}) })
	}
	c.afterResult(release)
	return unread, nil
}

func sameIndex(a, b *int64) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}

func unreadCount(last, horizon *int64) int64 {
	switch {
	case last == nil:
		return 0
	case horizon == nil:
		return *last + 1
	}
	return max(*last-*horizon, 0)
}

// scheduleReadReportLocked sends the pending report now or when the interval allows.
func (cv *Conversation) scheduleReadReportLocked() {
	r := &cv.read
	if r.timer != nil {
		return // a send is already scheduled; it takes the latest pending value
	}
	wait := readReportInterval - time.Since(r.lastSent)
	if wait < 0 {
		wait = 0
	}
	r.timer = time.AfterFunc(wait, func() {
		ctx, cancel := context.WithTimeout(cv.client.ctx, cv.client.opts.RequestTimeout)
		defer cancel()
		if err := cv.client.flushReads(ctx, cv); err != nil && cv.client.ctx.Err() == nil {
			cv.client.opts.Logf("convo: reporting the read horizon of %s failed: %v", cv.sid, err)
		}
	})
}

// flushReads sends cv's pending read report now, if any. It holds the conversation's report
// token (cv.reporting) until the server answered, so a flush waits for one already in flight
// (as long as its ctx lets it): a count asked for afterwards then sees the horizon.
func (c *Client) flushReads(ctx context.Context, cv *Conversation) error {
	select {
	case cv.reporting <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-cv.reporting }()
	c.mu.Lock()
	args := cv.read.pending
	cv.read.pending = nil
	if cv.read.timer != nil {
		cv.read.timer.Stop()
		cv.read.timer = nil
	}
	if args != nil {
		cv.read.lastSent = time.Now()
		cv.read.sending = true
	}
	c.mu.Unlock()
	if args == nil {
		return nil
	}
	var res wire.ReadResult
	err := c.call(ctx, wire.OpConversationRead, args, &res, resendAfterReconnect)
	c.mu.Lock()
	cv.read.sending = false
	c.mu.Unlock()
	return err
}

// flushAllReads sends every pending read report and waits for those already on their way
// (a timer's send may have taken the newest report just before); Shutdown calls it before
// disconnecting, and disconnecting would cancel them.
func (c *Client) flushAllReads(ctx context.Context) {
	c.mu.Lock()
	var convs []*Conversation
	for _, cv := range c.conversations {
		if cv.read.pending != nil || cv.read.timer != nil || cv.read.sending {
			convs = append(convs, cv)
		}
	}
	c.mu.Unlock()
	for _, cv := range convs {
		if err := c.flushReads(ctx, cv); err != nil {
			c.opts.Logf("convo: reporting the read horizon of %s at shutdown failed: %v", cv.sid, err)
		}
	}
}
