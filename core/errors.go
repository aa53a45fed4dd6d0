package core

import "github.com/convo-sdk/convo/wire"

// Error codes the client raises itself; no server sends them. They share the protocol's
// numbering (wire.Code) so that an application sees one kind of code.
const (
	CodeClientShutdown   wire.Code = 60000 // the client was shut down
	CodeClientTimeout    wire.Code = 60001 // no reply in time
	CodeClientInitFailed wire.Code = 60002 // a call after the client failed to initialise
	CodeClientArgument   wire.Code = 60003 // an argument failed client-side validation
	CodeClientOffline    wire.Code = 60004 // the call needs the server and the client is offline
)
