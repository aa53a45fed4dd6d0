package main

import (
	"fmt"
	"html"
	"html/template"
	"io"
	"math"
	"strings"
	"time"
)

// The HTML report: one self-contained page (inline SVG and CSS, no script) beside the JSON,
// with p99 latency and deliveries a second against the offered rate for every system the
// fan-out load ran against, so a reader sees where each one bends.

// plotColors tell the series apart; a series past the last reuses them.
var plotColors = []string{"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"}

// plotSeries is one system's points: offered rate → value.
type plotSeries struct {
	name   string
	points [][2]float64
}

// plot is one chart's settings.
type plot struct {
	title, xLabel, yLabel string
	logY                  bool
	// budget, when > 0, is drawn as a dashed line at that y.
	budget      float64
	budgetLabel string
}

const (
	plotW, plotH                       = 640, 360
	padLeft, padRight, padTop, padBott = 70, 20, 30, 50
)

// renderSVG draws the series as lines with marked points; each series is a <g class="series">
// carrying its system's name.
func renderSVG(p plot, series []plotSeries) string {
	var xmax, ymin, ymax float64 = 0, math.Inf(1), 0
	for _, s := range series {
		for _, pt := range s.points {
			xmax = max(xmax, pt[0])
			ymax = max(ymax, pt[1])
			if pt[1] > 0 {
				ymin = min(ymin, pt[1])
			}
		}
	}
	ymax = max(ymax, p.budget)
	if xmax == 0 {
		xmax = 1
	}
	if ymax == 0 {
		ymax = 1
	}
	// Linear axes start at 0; a log axis spans whole decades around the data.
	lo, hi := 0.0, ymax*1.1
	if p.logY {
		if math.IsInf(ymin, 1) {
			ymin = 1
		}
		ymin = min(ymin, p.budget)
		lo, hi = math.Pow(10, math.Floor(math.Log10(ymin))), math.Pow(10, math.Ceil(math.Log10(ymax)))
		if hi <= lo {
			hi = lo * 10
		}
	}
	xmax *= 1.05
	iw, ih := float64(plotW-padLeft-padRight), float64(plotH-padTop-padBott)
	px := func(x float64) float64 { return padLeft + x/xmax*iw }
	py := func(y float64) float64 {
		if p.logY {
			y = max(y, lo)
			return padTop + ih - (math.Log10(y)-math.Log10(lo))/(math.Log10(hi)-math.Log10(lo))*ih
		}
		return padTop + ih - (y-lo)/(hi-lo)*ih
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="%s">`, plotW, plotH, plotW, plotH, html.EscapeString(p.title))
	fmt.Fprintf(&b, `<text x="%d" y="18" class="title">%s</text>`, padLeft, html.EscapeString(p.title))
	// Axes, ticks and grid.
	fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" class="axis"/>`, padLeft, padTop+ih, plotW-padRight, padTop+ih)
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%.1f" class="axis"/>`, padLeft, padTop, padLeft, padTop+ih)
	for _, x := range ticks(0, xmax, 6) {
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="grid"/><text x="%.1f" y="%.1f" class="tick" text-anchor="middle">%s</text>`,
			px(x), float64(padTop), px(x), padTop+ih, px(x), padTop+ih+16, fmtNum(x))
	}
	var yt []float64
	if p.logY {
		for v := lo; v <= hi*1.0001; v *= 10 {
			yt = append(yt, v)
		}
	} else {
		yt = ticks(lo, hi, 6)
	}
	for _, y := range yt {
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" class="grid"/><text x="%d" y="%.1f" class="tick" text-anchor="end">%s</text>`,
			padLeft, py(y), plotW-padRight, py(y), padLeft-6, py(y)+4, fmtNum(y))
	}
	fmt.Fprintf(&b, `<text x="%.1f" y="%d" class="label" text-anchor="middle">%s</text>`, padLeft+iw/2, plotH-10, html.EscapeString(p.xLabel))
	fmt.Fprintf(&b, `<text x="14" y="%.1f" class="label" text-anchor="middle" transform="rotate(-90 14 %.1f)">%s</text>`, padTop+ih/2, padTop+ih/2, html.EscapeString(p.yLabel))
	if p.budget > 0 {
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" class="budget"/><text x="%d" y="%.1f" class="tick" text-anchor="end">%s</text>`,
			padLeft, py(p.budget), plotW-padRight, py(p.budget), plotW-padRight-4, py(p.budget)-4, html.EscapeString(p.budgetLabel))
	}
	for i, s := range series {
		color := plotColors[i%len(plotColors)]
		fmt.Fprintf(&b, `<g class="series" data-system="%s" stroke="%s" fill="%s">`, html.EscapeString(s.name), color, color)
		pts := make([]string, len(s.points))
		for j, pt := range s.points {
			pts[j] = fmt.Sprintf("%.1f,%.1f", px(pt[0]), py(pt[1]))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke-width="2" points="%s"/>`, strings.Join(pts, " "))
		for _, pt := range s.points {
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3.5"><title>%s: %s at %s/s offered</title></circle>`,
				px(pt[0]), py(pt[1]), html.EscapeString(s.name), fmtNum(pt[1]), fmtNum(pt[0]))
		}
		b.WriteString(`</g>`)
	}
	// Legend, top left inside the plot.
	for i, s := range series {
		y := padTop + 14 + 16*i
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="12" height="4" fill="%s"/><text x="%d" y="%d" class="legend">%s</text>`,
			padLeft+10, y-4, plotColors[i%len(plotColors)], padLeft+28, y+1, html.EscapeString(s.name))
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// ticks are about n round values from lo to hi.
func ticks(lo, hi float64, n int) []float64 {
	step := math.Pow(10, math.Floor(math.Log10((hi-lo)/float64(n))))
	for _, m := range []float64{1, 2, 5, 10} {
		if (hi-lo)/(step*m) <= float64(n) {
			step *= m
			break
		}
	}
	var out []float64
	for v := math.Ceil(lo/step) * step; v <= hi; v += step {
		out = append(out, v)
	}
	return out
}

func fmtNum(v float64) string {
	switch {
	case v >= 10000:
		return fmt.Sprintf("%.0fk", v/1000)
	case v >= 100 || v == math.Trunc(v):
		return fmt.Sprintf("%.0f", v)
	case v >= 1:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2g", v)
	}
}

// fanoutSeries turns every system's fan-out steps into the two plots' series.
func fanoutSeries(f *ServerFigures) (p99, deliveries []plotSeries) {
	for _, s := range systems(f) {
		if s.Fanout == nil || len(s.Fanout.Steps) == 0 {
			continue
		}
		a, d := plotSeries{name: s.Name}, plotSeries{name: s.Name}
		for _, st := range s.Fanout.Steps {
			a.points = append(a.points, [2]float64{st.OfferedMsgsPerSec, st.P99Ms})
			d.points = append(d.points, [2]float64{st.OfferedMsgsPerSec, st.DeliveriesPerSec})
		}
		p99, deliveries = append(p99, a), append(deliveries, d)
	}
	return p99, deliveries
}

var reportPage = template.Must(template.New("report").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>convo bench {{.Date}}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222;max-width:1400px}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}
td:first-child,th:first-child{text-align:left}.no{color:#b00;font-weight:bold}
.plots{display:flex;flex-wrap:wrap;gap:1em}svg{background:#fff;border:1px solid #ddd}
svg .title{font-weight:bold;font-size:14px}svg .tick{font-size:11px;fill:#555}svg .label{font-size:12px}
svg .legend{font-size:12px;fill:#222}svg .axis{stroke:#333}svg .grid{stroke:#eee}
svg .budget{stroke:#b00;stroke-dasharray:6 4}
</style></head><body>
<h1>convo bench</h1>
<p>{{.Date}} · {{.Machine}}</p>
{{if .Note}}<p>{{.Note}}</p>{{end}}
{{if .Rows}}<h2>Fan-out, side by side</h2>
<p>Highest step sustained with p99 &lt; {{.Budget}} ms (every delivery arrived, the offered rate went out), and memory per idle connection.{{if .Setup}} Centrifugo: {{.Setup}}.{{end}}</p>
<table><tr><th>system</th><th>offered msg/s</th><th>deliveries/s</th><th>deliveries/core-s</th><th>p99</th><th>idle KB/conn</th></tr>
{{range .Rows}}<tr><td>{{.Name}}</td><td>{{.Offered}}</td><td>{{.Deliveries}}</td><td>{{.PerCore}}</td><td>{{.P99}}</td><td>{{.Idle}}</td></tr>
{{end}}</table>{{range .Comparison}}<p>{{.}}</p>{{end}}{{end}}
{{if .Plots}}<div class="plots">{{range .Plots}}{{.}}{{end}}</div>{{end}}
{{if .Budgets}}<h2>Budgets</h2>
<table><tr><th>budget</th><th>value</th><th>limit</th><th>met</th></tr>
{{range .Budgets}}<tr><td>{{.Name}}</td><td>{{printf "%.4g" .Value}} {{.Unit}}</td><td>{{if .AtLeast}}≥{{else}}≤{{end}} {{printf "%.4g" .Limit}}</td><td>{{if .Met}}yes{{else}}<span class="no">NO</span>{{end}}</td></tr>
{{end}}</table>{{end}}
</body></html>
`))

// writeHTML renders r as the self-contained report page.
func writeHTML(w io.Writer, r Report) error {
	data := struct {
		Date, Machine, Note, Setup string
		Budget                     int
		Rows                       []summaryRow
		Comparison                 []string
		Plots                      []template.HTML
		Budgets                    []Budget
	}{
		Date:    r.Date.Format(time.RFC3339),
		Machine: fmt.Sprintf("%s/%s, %d CPUs, %s", r.Machine.GOOS, r.Machine.GOARCH, r.Machine.CPUs, r.Machine.GoVersion),
		Budget:  fanoutP99Budget,
		Budgets: r.Budgets,
	}
	if f := r.Server; f != nil {
		data.Note = f.CentrifugoNote
		if f.Centrifugo != nil {
			data.Setup = f.Centrifugo.Setup
		}
		data.Rows = summaryRows(f)
		data.Comparison = comparisonLines(f)
		if p99, deliv := fanoutSeries(f); len(p99) > 0 {
			// The SVG is built from numbers and escaped names only.
			data.Plots = append(data.Plots,
				template.HTML(renderSVG(plot{title: "Fan-out p99 latency", xLabel: "offered messages/s", yLabel: "p99 latency, ms (log)", logY: true,
					budget: fanoutP99Budget, budgetLabel: fmt.Sprintf("p99 budget %d ms", fanoutP99Budget)}, p99)),
				template.HTML(renderSVG(plot{title: "Fan-out deliveries/s", xLabel: "offered messages/s", yLabel: "deliveries/s"}, deliv)))
		}
	}
	return reportPage.Execute(w, data)
}
