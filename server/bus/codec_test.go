package bus

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/wire"
)

func delivery(id string, off uint64, payload string) store.Delivery {
	return store.Delivery{Identity: id, Offset: off, Event: wire.EventMessageAdded,
		Payload: wire.RawJSON(payload), At: time.Unix(1700000000, 123456789)}
}

// decodeAll reads the deliveries of every body as a receiver would.
func decodeAll(t *testing.T, bodies [][]byte) []store.Delivery {
	t.Helper()
	var out []store.Delivery
	for _, body := range bodies {
		d := decoder{b: body}
		out = append(out, decodeDeliveries(&d)...)
		require.NoError(t, d.err)
	}
	return out
}

func TestDeliveriesRoundTripInOneBatch(t *testing.T) {
	ds := []store.Delivery{delivery("alice", 1, `{"a":1}`), delivery("bob", 7, `{"b":"<&>"}`),
		{Identity: "carol", Offset: 3, Event: wire.EventConversationJoined, Payload: wire.RawJSON(`{}`)}}
	bodies := deliveryBatches(ds, 1<<20)
	require.Len(t, bodies, 1)
	got := decodeAll(t, bodies)
	require.Len(t, got, 3)
	for i := range ds {
		assert.Equal(t, ds[i].Identity, got[i].Identity)
		assert.Equal(t, ds[i].Offset, got[i].Offset)
		assert.Equal(t, ds[i].Event, got[i].Event)
		assert.Equal(t, string(ds[i].Payload), string(got[i].Payload))
		assert.True(t, ds[i].At.Equal(got[i].At), "At %v != %v", ds[i].At, got[i].At)
	}
	assert.True(t, got[2].At.IsZero(), "a zero commit time stays zero")
}

func TestDeliveriesSplitAtTheLimitAndHintWhatCannotFit(t *testing.T) {
	var ds []store.Delivery
	for i := range 100 {
		ds = append(ds, delivery(fmt.Sprintf("user%03d", i), uint64(i+1), `{"body":"`+strings.Repeat("x", 100)+`"}`))
	}
	huge := delivery("zed", 9, `"`+strings.Repeat("y", 5000)+`"`)
	ds = append(ds[:50], append([]store.Delivery{huge}, ds[50:]...)...)
	const limit = 2000
	bodies := deliveryBatches(ds, limit)
	assert.Greater(t, len(bodies), 5)
	for _, b := range bodies {
		assert.LessOrEqual(t, len(b), limit)
	}
	got := decodeAll(t, bodies)
	require.Len(t, got, len(ds), "nothing lost, nothing repeated")
	for i := range ds {
		assert.Equal(t, ds[i].Identity, got[i].Identity, "order kept")
		assert.Equal(t, ds[i].Offset, got[i].Offset)
	}
	hint := got[50]
	assert.Equal(t, "zed", hint.Identity)
	assert.Nil(t, hint.Payload, "too large: sent as a hint, read from the store")
	assert.Empty(t, hint.Event)
}

func TestSignalsAndStateRoundTrip(t *testing.T) {
	f := &wire.Frame{Type: wire.TypeSignal, Event: wire.SignalTyping, Data: wire.RawJSON(`{"identity":"a"}`)}
	d := decoder{b: encodeSignal([]string{"b", "c"}, f)}
	ids, g := decodeSignal(&d)
	require.NoError(t, d.err)
	assert.Equal(t, []string{"b", "c"}, ids)
	assert.Equal(t, f, g)

	d = decoder{b: encodeUserSignal("alice", f)}
	id, g := decodeUserSignal(&d)
	require.NoError(t, d.err)
	assert.Equal(t, "alice", id)
	assert.Equal(t, f, g)

	var many []string
	for i := range 500 {
		many = append(many, fmt.Sprintf("identity-%04d", i))
	}
	chunks := stateChunks(many, 1000)
	require.Greater(t, len(chunks), 3)
	var back []string
	for i, c := range chunks {
		d := decoder{b: c}
		flags, ids := decodeState(&d)
		require.NoError(t, d.err)
		assert.Equal(t, i == 0, flags&stateFirst != 0)
		assert.Equal(t, i == len(chunks)-1, flags&stateLast != 0)
		back = append(back, ids...)
	}
	assert.Equal(t, many, back)
	empty := stateChunks(nil, 1000)
	require.Len(t, empty, 1)
	assert.Equal(t, []byte{stateFirst | stateLast}, empty[0])
}

func TestHeaderRoundTripAndCorruptInput(t *testing.T) {
	var e encoder
	e.header(kindDeliver, "node1", 42)
	d := decoder{b: e.b}
	assert.Equal(t, header{kind: kindDeliver, node: "node1", seq: 42}, d.header())
	require.NoError(t, d.err)

	for _, bad := range [][]byte{nil, {9}, {codecVersion}, {codecVersion, kindUp, 200}, append(e.b[:len(e.b):len(e.b)], 0xff)} {
		d := decoder{b: bad}
		d.header()
		decodeDeliveries(&d)
		assert.Error(t, d.err, "%v", bad)
	}
}

// FuzzDecodeMessage feeds arbitrary bytes to every body decoder: a node must survive any
// message on its subjects.
func FuzzDecodeMessage(f *testing.F) {
	var e encoder
	e.header(kindDeliver, "n", 1)
	f.Add(append(e.b, deliveryBatches([]store.Delivery{delivery("a", 1, `{}`)}, 1000)[0]...))
	f.Add(encodeSignal([]string{"a"}, &wire.Frame{Event: "typing", Data: wire.RawJSON(`{}`)}))
	f.Add(stateChunks([]string{"a", "b"}, 100)[0])
	f.Fuzz(func(t *testing.T, b []byte) {
		d := decoder{b: b}
		d.header()
		for _, read := range []func(*decoder){
			func(d *decoder) { decodeDeliveries(d) },
			func(d *decoder) { decodeSignal(d) },
			func(d *decoder) { decodeUserSignal(d) },
			func(d *decoder) { decodeState(d) },
		} {
			read(&decoder{b: b})
		}
	})
}
