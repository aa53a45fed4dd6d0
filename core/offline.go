package core

import "github.com/convo-sdk/convo/wire"

// offline reports whether the client has no connection and knows it will not have one soon:
// its last attempt failed, or the browser said the network is gone. (While the first attempt
// after a loss is under way it is not offline: calls wait for that attempt.) Reads then
// answer from what the client holds, which after a start from the local store is what an
// earlier page held; calls that need the server fail at once with CodeClientOffline, except
// message sends, which the outbox keeps until the connection is back.
func (c *Client) offline() bool {
	c.mu.Lock()
	live := c.sess != nil
	c.mu.Unlock()
	return !live && (c.failedAttempts.Load() > 0 || c.netDown.Load())
}

// offlineError is the error of a call that needs the server while the client is offline.
func (c *Client) offlineError(op string) error {
	return wire.Errorf(CodeClientOffline, "%s: the client is offline (it cannot reach %s) and this call needs the server; it was not sent", op, c.serverURL())
}
