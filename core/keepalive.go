package core

import (
	"context"
	"fmt"
	"time"

	"github.com/convo-sdk/convo/wire"
)

// keepAlive checks the connection whenever it has been silent for PingInterval, and drops it
// when the check gets no answer within PingTimeout. A connection whose packets vanish (a
// NAT that forgot it, a sleeping laptop, a black-holing middlebox) never fails by itself:
// without this, replies and events stop, and the outbox waits on its in-flight send forever.
func (c *Client) keepAlive(s *session) {
	every := c.opts.PingInterval
	t := time.NewTimer(every)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-s.lost:
			return
		}
		if idle := time.Since(time.Unix(0, s.lastRead.Load())); idle < every {
			t.Reset(every - idle)
			continue
		}
		if err := c.probe(s); err != nil {
			if s.ctx.Err() == nil {
				s.cut(fmt.Errorf("no answer from the server within %v (%v)", c.opts.PingTimeout, err))
			}
			return
		}
		s.lastRead.Store(time.Now().UnixNano())
		t.Reset(every)
	}
}

// probe checks that the server still answers: a WebSocket ping where the Conn has one, else
// a cheap read request (browsers cannot ping), whose reply of any kind will do.
func (c *Client) probe(s *session) error {
	ctx, cancel := context.WithTimeout(s.ctx, c.opts.PingTimeout)
	defer cancel()
	if p, ok := s.conn.(Pinger); ok {
		return p.Ping(ctx)
	}
	id := c.nextID.Add(1)
	ch, err := s.send(ctx, id, wire.OpContentList, &wire.ListArgs{PageSize: 1})
	if err != nil {
		return err
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		s.forget(id)
		return ctx.Err()
	}
}
