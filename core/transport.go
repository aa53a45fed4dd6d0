package core

import (
	"context"
)

// Conn is one message-oriented connection to the server. The engine needs nothing more, so
// tests and other platforms can supply their own through Options.Dial.
type Conn interface {
	Read(ctx context.Context) ([]byte, error)
	Write(ctx context.Context, frame []byte) error
	// Close ends the connection; it is safe to call more than once.
	Close() error
}

// Pinger is a Conn that can check the connection without a request (a WebSocket ping,
// natively); the keep-alive uses it when the Conn has it. A wrapping Conn should forward it.
type Pinger interface {
	Ping(ctx context.Context) error
}

// DialFunc opens a Conn to a WebSocket URL.
type DialFunc func(ctx context.Context, url string) (Conn, error)
