package servertest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/convo-sdk/convo/server"
	"github.com/convo-sdk/convo/server/webhook"
)

// WebhookSecret is the secret StartWithHook configures.
const WebhookSecret = "whsec-0123456789abcdef"

// Hook is a webhook receiver on 127.0.0.1 that checks signatures and records deliveries;
// hold Mu to read its fields.
type Hook struct {
	t        *testing.T
	Srv      *httptest.Server
	Mu       sync.Mutex
	failNext int            // answer 500 to this many more requests
	Attempts map[string]int // delivery id → requests seen
	OK       []webhook.Body
	OKIDs    []string
}

// NewHook starts a receiver until the test ends.
func NewHook(t *testing.T) *Hook {
	h := &Hook{t: t, Attempts: map[string]int{}}
	h.Srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var b webhook.Body
		good := r.Method == "POST" && r.Header.Get("Content-Type") == "application/json" &&
			webhook.VerifySignature(WebhookSecret, body, r.Header.Get(webhook.HeaderSignature)) &&
			json.Unmarshal(body, &b) == nil && b.ID == r.Header.Get(webhook.HeaderDelivery) &&
			b.Type == r.Header.Get(webhook.HeaderEvent) && b.Timestamp > 0
		h.Mu.Lock()
		defer h.Mu.Unlock()
		if !good {
			t.Errorf("bad webhook request: %s %v %s", r.Method, r.Header, body)
			w.WriteHeader(400)
			return
		}
		h.Attempts[b.ID]++
		if h.failNext > 0 {
			h.failNext--
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		h.OK = append(h.OK, b)
		h.OKIDs = append(h.OKIDs, b.ID)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(h.Srv.Close)
	return h
}

// Fail answers the next n requests with 503.
func (h *Hook) Fail(n int) {
	h.Mu.Lock()
	h.failNext = n
	h.Mu.Unlock()
}

// Wait returns the delivered bodies of type typ once match holds for them.
func (h *Hook) Wait(typ string, match func([]webhook.Body) bool) []webhook.Body {
	h.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		h.Mu.Lock()
		var got []webhook.Body
		for _, b := range h.OK {
			if b.Type == typ {
				got = append(got, b)
			}
		}
		h.Mu.Unlock()
		if match(got) {
			return got
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("webhook %s: condition not met; got %d", typ, len(got))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// WaitN returns the delivered bodies of type typ once there are n of them.
func (h *Hook) WaitN(typ string, n int) []webhook.Body {
	h.t.Helper()
	return h.Wait(typ, func(b []webhook.Body) bool { return len(b) >= n })
}

// StartWithHook starts a server that sends its webhooks to h, signed with WebhookSecret,
// with short poll and backoff intervals.
func StartWithHook(t *testing.T, h *Hook, opts ...Options) *Env {
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	o.Configure = func(c *server.Config) {
		c.WebhookURL, c.WebhookSecret = h.Srv.URL+"/hook", WebhookSecret
		c.WebhookPoll, c.WebhookBackoff, c.WebhookMaxBackoff = 20*time.Millisecond, 30*time.Millisecond, 200*time.Millisecond
	}
	return Start(t, o)
}
