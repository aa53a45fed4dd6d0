// Package storeutil holds what every store implementation computes the same way outside
// the database: JSON comparisons, receipt aggregation, time and cursor encodings.
package storeutil

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/wire"
)

// Now is the current time as stored: Unix milliseconds.
func Now() int64 { return time.Now().UnixMilli() }

// FromMillis turns stored Unix milliseconds into a time.
func FromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// Attrs is the text stored for a JSON attributes value: {} when empty.
func Attrs(a wire.RawJSON) string {
	if len(a) == 0 {
		return "{}"
	}
	return string(a)
}

// JSONEqual compares two JSON documents by value.
func JSONEqual(a, b wire.RawJSON) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return string(a) == string(b)
	}
	ja, _ := json.Marshal(x)
	jb, _ := json.Marshal(y)
	return string(ja) == string(jb)
}

// ParseCursor reads a paging cursor (the decimal id of the last item of the previous
// page; empty for the first page).
func ParseCursor(after string) (int64, error) {
	if after == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(after, 10, 64)
	if err != nil || id < 0 {
		return 0, fmt.Errorf("%w: cursor %q", store.ErrBadCursor, after)
	}
	return id, nil
}

// VariablesJSON is the text stored for a template's variables: [] when there are none.
func VariablesJSON(v []wire.ContentVariable) string {
	if v == nil {
		v = []wire.ContentVariable{}
	}
	b, _ := json.Marshal(v) // a slice of string pairs always marshals
	return string(b)
}

// Aggregate summarises receipt statuses (status → count). Delivery progresses queued →
// sent → delivered → read, so a read receipt also counts as delivered and sent.
func Aggregate(c map[string]int) *wire.AggregatedReceipt {
	total := 0
	for _, n := range c {
		total += n
	}
	amount := func(statuses ...string) string {
		n := 0
		for _, st := range statuses {
			n += c[st]
		}
		switch {
		case n == 0:
			return wire.AmountNone
		case n >= total:
			return wire.AmountAll
		}
		return wire.AmountSome
	}
	return &wire.AggregatedReceipt{
		Total:       total,
		Sent:        amount(wire.DeliverySent, wire.DeliveryDelivered, wire.DeliveryRead),
		Delivered:   amount(wire.DeliveryDelivered, wire.DeliveryRead),
		Read:        amount(wire.DeliveryRead),
		Undelivered: amount(wire.DeliveryUndelivered),
		Failed:      amount(wire.DeliveryFailed),
	}
}
