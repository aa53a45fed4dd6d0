package server

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/wire"
)

// metrics are the server's Prometheus metrics, in a registry of their own (several servers
// may live in one process, as in tests). Every method is safe on a nil *metrics.
type metrics struct {
	reg         *prometheus.Registry
	connections prometheus.Gauge
	framesIn    *prometheus.CounterVec
	framesOut   *prometheus.CounterVec
	requests    *prometheus.CounterVec
	reqDuration *prometheus.HistogramVec
	errors      *prometheus.CounterVec
	fanout      prometheus.Histogram
	admin       *prometheus.CounterVec
	webhooks    *prometheus.CounterVec
}

func newMetrics(st store.Store) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		connections: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "convo_connections", Help: "Open WebSocket connections."}),
		framesIn: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "convo_frames_received_total", Help: "Frames received from clients, by frame type."}, []string{"type"}),
		framesOut: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "convo_frames_sent_total", Help: "Frames sent to clients, by frame type."}, []string{"type"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "convo_requests_total", Help: "Client requests by op and result code (0: success, else the wire error code)."}, []string{"op", "code"}),
		reqDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "convo_request_duration_seconds", Help: "Time to handle a client request, by op.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}}, []string{"op"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "convo_errors_total", Help: "Internal errors (logged), by component: op, admin, webhook."}, []string{"component"}),
		fanout: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "convo_fanout_latency_seconds", Help: "Time from an event's commit to its frame written to a live connection.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}}),
		admin: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "convo_admin_requests_total", Help: "Admin API requests by route and HTTP status."}, []string{"method", "route", "status"}),
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "convo_webhook_deliveries_total", Help: "Webhook delivery attempts by result: success, retry (failed, will retry), gave_up."}, []string{"result"}),
	}
	m.reg.MustRegister(m.connections, m.framesIn, m.framesOut, m.requests, m.reqDuration, m.errors, m.fanout, m.admin, m.webhooks,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "convo_webhook_pending", Help: "Webhook deliveries waiting in the outbox."}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		n, err := st.WebhookPending(ctx)
		if err != nil {
			return -1
		}
		return float64(n)
	}))
	return m
}

func (m *metrics) frameIn(typ string) {
	if m != nil {
		m.framesIn.WithLabelValues(typ).Inc()
	}
}

func (m *metrics) frameOut(typ string) {
	if m != nil {
		m.framesOut.WithLabelValues(typ).Inc()
	}
}

// fanoutDone observes the latency of a pushed event; committed is zero for events read back
// from the store (replays), which are not counted.
func (m *metrics) fanoutDone(committed time.Time) {
	if m != nil && !committed.IsZero() {
		m.fanout.Observe(time.Since(committed).Seconds())
	}
}

func (m *metrics) internalError(component string) {
	if m != nil {
		m.errors.WithLabelValues(component).Inc()
	}
}

func (m *metrics) adminRequest(method, route string, status int, _ time.Duration) {
	if m != nil {
		m.admin.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	}
}

func (m *metrics) webhook(result string) {
	if m != nil {
		m.webhooks.WithLabelValues(result).Inc()
	}
}

// instrumentOps wraps every op handler to count requests by result code and time them.
func (s *Server) instrumentOps(ops map[string]handler) map[string]handler {
	m := s.metrics
	for op, h := range ops {
		dur := m.reqDuration.WithLabelValues(op)
		ok := m.requests.WithLabelValues(op, "0")
		ops[op] = func(c *call) (any, error) {
			start := time.Now()
			res, err := h(c)
			dur.Observe(time.Since(start).Seconds())
			if err == nil {
				ok.Inc()
				return res, nil
			}
			code := wire.CodeOf(err)
			if code == wire.CodeInternal {
				m.internalError("op")
			}
			m.requests.WithLabelValues(op, strconv.Itoa(int(code))).Inc()
			return res, err
		}
	}
	return ops
}

// serveMetrics answers loopback clients (unless Config.MetricsAuthOnly) and requests with
// admin Basic credentials.
func (s *Server) serveMetrics() http.Handler {
	h := promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !(!s.cfg.MetricsAuthOnly && isLoopback(r.RemoteAddr)) {
			if _, ok := s.adminAuth(r); !ok {
				w.Header().Set("WWW-Authenticate", `Basic realm="convo", charset="UTF-8"`)
				writeAdminError(w, wire.Errorf(wire.CodeTokenInvalid, "metrics: give an API key id and its secret with HTTP Basic authentication"))
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

func isLoopback(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// webhookMetrics counts the webhook dispatcher's work in the server's metrics.
type webhookMetrics struct{ m *metrics }

func (w webhookMetrics) InternalError()         { w.m.internalError("webhook") }
func (w webhookMetrics) Delivery(result string) { w.m.webhook(result) }
