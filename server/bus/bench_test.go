package bus_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/convo-sdk/convo/internal/natstest"
	"github.com/convo-sdk/convo/server/bus"
	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/wire"
)

// counter is a Receiver that counts deliveries.
type counter struct {
	bus.Receiver
	n atomic.Int64
}

func (c *counter) Deliver(ds []store.Delivery) { c.n.Add(int64(len(ds))) }
func (c *counter) Reachability(string, bool)   {}
func (c *counter) Resync()                     {}

// BenchmarkNATSDeliver measures one committed batch (a message to a conversation of 100)
// from one node to another through a real NATS server: encode, publish, decode.
func BenchmarkNATSDeliver(b *testing.B) {
	ns, err := natstest.StartServer()
	if err != nil {
		b.Fatal(err)
	}
	defer ns.Shutdown()
	from, err := bus.NewNATS(bus.NATSOptions{URL: ns.URL()})
	if err != nil {
		b.Fatal(err)
	}
	defer from.Close()
	to, err := bus.NewNATS(bus.NATSOptions{URL: ns.URL()})
	if err != nil {
		b.Fatal(err)
	}
	defer to.Close()
	c := &counter{}
	to.Attach(c)
	batch := make([]store.Delivery, 100)
	payload := wire.RawJSON(`{"message":{"sid":"IMxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx","index":41,"author":"alice","body":"hello there, this is a chat message of ordinary length"}}`)
	for i := range batch {
		batch[i] = store.Delivery{Identity: fmt.Sprintf("user%03d", i), Offset: 1, Event: wire.EventMessageAdded, Payload: payload, At: time.Now()}
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(batch) * len(payload)))
	b.ResetTimer()
	// At most window batches in flight, so the benchmark measures what the receiver keeps
	// up with rather than how fast the outbox fills and drops.
	const window = 32
	n := int64(len(batch))
	for i := range int64(b.N) {
		for c.n.Load() < (i-window)*n {
			time.Sleep(10 * time.Microsecond)
		}
		from.Deliver(batch)
	}
	deadline := time.Now().Add(time.Minute)
	for c.n.Load() < int64(b.N)*n {
		if time.Now().After(deadline) {
			b.Fatalf("received %d of %d deliveries", c.n.Load(), int64(b.N)*n)
		}
		time.Sleep(100 * time.Microsecond)
	}
}
