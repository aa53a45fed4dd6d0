package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func fanoutOf(p99s ...float64) *FanoutFigures {
	fo := &FanoutFigures{Connections: 2000, Conversations: 200, Members: 10}
	for i, p := range p99s {
		rate := float64(500 * (i + 1))
		fo.Steps = append(fo.Steps, FanoutStep{OfferedMsgsPerSec: rate, SentMsgsPerSec: rate, DeliveriesPerSec: rate * 10,
			DeliveriesPerCore: rate * 10, P99Ms: p, Sustained: true})
		if p < fanoutP99Budget {
			fo.Chosen = i
		}
	}
	return fo
}

func TestHTMLReportPlotsEverySystem(t *testing.T) {
	r := Report{Date: time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC), Server: &ServerFigures{
		Nodes: 1, Store: "sqlite (WAL, synchronous=FULL), one per node",
		Fanout: fanoutOf(3, 8, 70),
		Idle:   &IdleFigures{Connections: 10000, KBPerConn: 41.5},
		Clusters: []ClusterFigures{
			{Nodes: 1, Fanout: fanoutOf(5, 90)},
			{Nodes: 3, Bus: "nats", Fanout: fanoutOf(20, 400, 2900)},
		},
		Centrifugo: &CentrifugoFigures{Version: "v6.9.1", Fanout: fanoutOf(2, 3, 4, 5), Idle: &IdleFigures{Connections: 10000, KBPerConn: 12.25}},
	}}
	r.Budgets = append(r.Budgets, budget("a budget <b>", 1, 2, "x", true))
	var b bytes.Buffer
	require.NoError(t, writeHTML(&b, r))
	page := b.String()

	assert.NotContains(t, page, "<script", "the page is self-contained and static")
	svgs := regexp.MustCompile(`(?s)<svg.*?</svg>`).FindAllString(page, -1)
	require.Len(t, svgs, 2, "a p99 plot and a deliveries plot")
	want := []string{"convod, 1 node, SQLite", "convod, 1 node, PostgreSQL", "convod, 3 nodes, PostgreSQL + NATS", "Centrifugo v6.9.1, memory engine"}
	for _, svg := range svgs {
		var got []string
		for _, m := range regexp.MustCompile(`<g class="series" data-system="([^"]*)"`).FindAllStringSubmatch(svg, -1) {
			got = append(got, m[1])
		}
		assert.Equal(t, want, got, "one series per system, in order")
	}
	// Each series has a point per step: the 3-node series has 3 steps.
	three := regexp.MustCompile(`(?s)data-system="convod, 3 nodes[^"]*".*?</g>`).FindString(svgs[0])
	assert.Equal(t, 3, strings.Count(three, "<circle"))
	// The side-by-side table carries each system's best step and idle memory.
	assert.Contains(t, page, "<td>Centrifugo v6.9.1, memory engine</td><td>2000</td><td>20000</td>")
	assert.Contains(t, page, "12.2 (10000)")
	assert.Contains(t, page, "a budget &lt;b&gt;", "names are escaped")
	assert.Contains(t, page, "Centrifugo, deliveries/s at p99 &lt; 50 ms: 0.50×")
	assert.Contains(t, page, "at 1500 msg/s offered, the highest rate both sustained: convod 15000, Centrifugo 15000: 1.00×")
}

func TestCentrifugoRatio(t *testing.T) {
	f := &ServerFigures{Fanout: fanoutOf(3, 8, 70), Centrifugo: &CentrifugoFigures{Fanout: fanoutOf(2, 3, 4, 5)}}
	b, ok := centrifugoRatio(f)
	require.True(t, ok)
	assert.Equal(t, 0.5, b.Value, "convod held 1,000/s, Centrifugo 2,000/s")
	assert.False(t, b.Met)
	assert.True(t, topSustained(f.Centrifugo.Fanout))
	assert.False(t, topSustained(f.Fanout))

	f.Centrifugo.Fanout = fanoutOf(80)
	_, ok = centrifugoRatio(f)
	assert.False(t, ok, "no ratio when Centrifugo met the budget at no step")
}
