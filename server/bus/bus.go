// Package bus carries what one server node must tell the others when several stateless
// nodes share one store: committed deliveries, ephemeral signals and who is online.
//
// A node always hands its own events to its own connections first; the bus only carries
// them to the other nodes and hands theirs back through a [Receiver]. So [Local], the
// default for a single node, does nothing at all, and [NATS] links nodes through a NATS
// server.
//
// The store stays the truth. A bus is at most once: a connection that sees an offset gap
// reads what it missed from the store, and a bus that knows it may have lost something
// (a reconnect, a gap in another node's message sequence) asks every local connection to
// catch up from the store (Receiver.Resync).
package bus

import (
	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/wire"
)

// Bus links this node to the others. Methods are safe for concurrent use and never block
// on the network for long: when the other nodes are unreachable, events are dropped and
// recovered from the store later.
type Bus interface {
	// Attach sets the receiver of what other nodes send; call it once, before the node
	// accepts connections.
	Attach(r Receiver)
	// Deliver sends committed deliveries to the other nodes.
	Deliver(ds []store.Delivery)
	// Signal sends an ephemeral frame for the connections of identities on other nodes.
	Signal(identities []string, f *wire.Frame)
	// SignalUser sends a user's news for its own connections and its subscribers on other
	// nodes.
	SignalUser(identity string, f *wire.Frame)
	// Up reports that identity's first connection on this node opened, Down that its last
	// one here closed; the caller serialises the calls for one identity. Each returns
	// whether this made identity come online, or go offline, across the cluster: the caller
	// then signals the change to its local connections, and every other node does the same
	// for its own (Receiver.Reachability).
	Up(identity string) (cameOnline bool)
	Down(identity string) (wentOffline bool)
	// OnlineElsewhere reports whether identity has a connection on another live node.
	OnlineElsewhere(identity string) bool
	// Close says goodbye to the other nodes (they mark this node's users offline at once)
	// and stops. No Receiver method runs after it returns; later calls do nothing.
	Close() error
}

// Receiver is the local node's side: it hands what other nodes sent to local connections.
// Its methods are called one at a time, never while the bus holds a lock a Bus method
// needs.
type Receiver interface {
	Deliver(ds []store.Delivery)
	Signal(identities []string, f *wire.Frame)
	SignalUser(identity string, f *wire.Frame)
	// Reachability reports a cluster-wide change caused by another node: identity's first
	// connection anywhere opened, or its last one closed or its node was declared dead.
	Reachability(identity string, online bool)
	// Resync asks every local connection to read its stream from the store: events from
	// other nodes may have been lost.
	Resync()
}

// Local is the bus of a server that runs alone: there is nobody to tell, so every
// method is free. It is the zero value of an empty struct and needs no closing.
type Local struct{}

var _ Bus = Local{}

func (Local) Attach(Receiver)                {}
func (Local) Deliver([]store.Delivery)       {}
func (Local) Signal([]string, *wire.Frame)   {}
func (Local) SignalUser(string, *wire.Frame) {}
func (Local) Up(string) bool                 { return true }
func (Local) Down(string) bool               { return true }
func (Local) OnlineElsewhere(string) bool    { return false }
func (Local) Close() error                   { return nil }
