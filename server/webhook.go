package server

// Outbound webhooks. The dispatcher reads the store's committed events log (every change
// appends its event row in the transaction that commits it) after a persisted cursor, turns
// each event into webhook deliveries, and writes those to a durable outbox while moving the
// cursor, in one transaction. A sender posts due outbox rows and deletes them on success, or
// reschedules them with exponential backoff until they are older than the maximum age. So a
// crash or restart loses nothing, and a delivery that succeeded is not sent again (a crash
// between the receiver's 2xx and the outbox delete can repeat it: receivers dedupe on the
// delivery id, which never changes across retries).

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/wire"
)

// Webhook event types.
const (
	WebhookConversationAdded   = "conversation.added"
	WebhookConversationUpdated = "conversation.updated"
	WebhookConversationRemoved = "conversation.removed"
	WebhookParticipantAdded    = "participant.added"
	WebhookParticipantUpdated  = "participant.updated"
	WebhookParticipantRemoved  = "participant.removed"
	WebhookMessageAdded        = "message.added"
	WebhookMessageUpdated      = "message.updated"
	WebhookMessageRemoved      = "message.removed"
	WebhookMessageOutbound     = "message.outbound"
	WebhookPushNotification    = "push.notification"
)

// Webhook headers.
const (
	HeaderSignature = "X-Convo-Signature" // "sha256=" + hex HMAC-SHA256 of the body with the webhook secret
	HeaderEvent     = "X-Convo-Event"     // the event type
	HeaderDelivery  = "X-Convo-Delivery"  // the delivery id, stable across retries
)

// WebhookBody is the JSON body of every webhook request.
type WebhookBody struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	Timestamp int64           `json:"timestamp"` // Unix milliseconds when the event was dispatched
	Data      json.RawMessage `json:"data"`
}

// Webhook data payloads.
type (
	// WebhookConversationData is the data of conversation.added and conversation.updated.
	WebhookConversationData struct {
		Conversation  wire.Conversation `json:"conversation"`
		UpdateReasons []string          `json:"updateReasons,omitempty"`
	}
	// WebhookConversationRefData is the data of conversation.removed.
	WebhookConversationRefData struct {
		ConversationSid string `json:"conversationSid"`
	}
	// WebhookParticipantData is the data of participant.added, .updated and .removed.
	WebhookParticipantData struct {
		ConversationSid string           `json:"conversationSid"`
		Participant     wire.Participant `json:"participant"`
		UpdateReasons   []string         `json:"updateReasons,omitempty"`
	}
	// WebhookMessageData is the data of message.added, .updated and .removed.
	WebhookMessageData struct {
		ConversationSid string       `json:"conversationSid"`
		Message         wire.Message `json:"message"`
		UpdateReasons   []string     `json:"updateReasons,omitempty"`
	}
	// WebhookOutboundData is the data of message.outbound: a message to deliver to one
	// non-chat participant over its channel (Participant.Type, Address, ProxyAddress).
	WebhookOutboundData struct {
		ConversationSid string           `json:"conversationSid"`
		Message         wire.Message     `json:"message"`
		Participant     wire.Participant `json:"participant"`
	}
	// WebhookPushData is the data of push.notification: a payload to hand to FCM or APNs for
	// each of the recipient's registrations.
	WebhookPushData struct {
		Identity      string              `json:"identity"`
		Payload       wire.PushPayload    `json:"payload"`
		Registrations []WebhookPushDevice `json:"registrations"`
	}
	// WebhookPushDevice is one push registration.
	WebhookPushDevice struct {
		ChannelType    string `json:"channelType"`
		RegistrationID string `json:"registrationId"`
	}
)

// Sign returns the X-Convo-Signature value of body.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// VerifySignature checks an X-Convo-Signature header against body in constant time.
func VerifySignature(secret string, body []byte, header string) bool {
	return hmac.Equal([]byte(Sign(secret, body)), []byte(header))
}

const (
	webhookEventBatch = 200 // events read from the log at a time
	webhookSendBatch  = 32  // due deliveries read from the outbox at a time
	webhookInFlight   = 4   // concurrent requests to the receiver
	// webhookEventAttempts is how often the dispatcher tries to turn an event into
	// deliveries (with the delivery backoff in between) before it skips the event, so one
	// it cannot convert does not hold back every webhook after it.
	webhookEventAttempts = 5
)

// dispatcher delivers webhooks. A nil *dispatcher does nothing.
type dispatcher struct {
	st      store.Store
	log     *slog.Logger
	metrics *metrics
	url     string
	secret  string
	client  *http.Client

	poll, backoff, maxBackoff, maxAge time.Duration

	wake      chan struct{}
	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once

	cursor int64 // run goroutine only
	// An event expand failed on (run goroutine only): its id, how often, and when to try
	// again. After webhookEventAttempts the event is skipped (convertFailed).
	failedEvent int64
	failures    int
	retryAt     time.Time
}

func newDispatcher(s *Server) *dispatcher {
	c := s.cfg
	d := &dispatcher{
		st: c.Store, log: s.log.With("component", "webhooks"), metrics: s.metrics,
		url: c.WebhookURL, secret: c.WebhookSecret,
		client: &http.Client{Timeout: c.WebhookTimeout},
		poll:   c.WebhookPoll, backoff: c.WebhookBackoff, maxBackoff: c.WebhookMaxBackoff, maxAge: c.WebhookMaxAge,
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
	}
	if d.client.Timeout <= 0 {
		d.client.Timeout = 10 * time.Second
	}
	if d.poll <= 0 {
		d.poll = 250 * time.Millisecond
	}
	if d.backoff <= 0 {
		d.backoff = time.Second
	}
	if d.maxBackoff <= 0 {
		d.maxBackoff = 5 * time.Minute
	}
	if d.maxAge <= 0 {
		d.maxAge = 24 * time.Hour
	}
	// Place the cursor before New returns, that is before the server takes its first request:
	// placed later, a newly enabled dispatcher would start after events committed meanwhile
	// and never deliver them. Should the database fail now, run keeps trying.
	started := d.start()
	go d.run(started)
	return d
}

// start reads (or, when dispatching is newly enabled or disabled, places) the cursor.
func (d *dispatcher) start() bool {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cursor, err := d.st.WebhookStart(ctx, d.url != "")
	if err != nil {
		d.log.Error("starting the webhook dispatcher failed", "err", err)
		return false
	}
	d.cursor = cursor
	return true
}

// nudge asks the dispatcher to look for new events now.
func (d *dispatcher) nudge() {
	if d == nil {
		return
	}
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// close stops the dispatcher after the requests in flight finish.
func (d *dispatcher) close() {
	if d == nil {
		return
	}
	d.closeOnce.Do(func() { close(d.stop) })
	<-d.done
}

func (d *dispatcher) stopped() bool {
	select {
	case <-d.stop:
		return true
	default:
		return false
	}
}

func (d *dispatcher) run(started bool) {
	defer close(d.done)
	enabled := d.url != ""
	// Starting fails only when the database does; retry until it works or we stop.
	for !started {
		select {
		case <-d.stop:
			return
		case <-time.After(time.Second):
		}
		started = d.start()
	}
	if !enabled {
		d.followHead()
		return
	}
	d.log.Info("webhooks enabled", "cursor", d.cursor)
	t := time.NewTicker(d.poll)
	defer t.Stop()
	for {
		if err := d.pump(); err != nil {
			d.metrics.internalError("webhook")
			d.log.Error("reading events for webhooks failed; will retry", "err", err)
		}
		if err := d.sendDue(); err != nil {
			d.metrics.internalError("webhook")
			d.log.Error("reading the webhook outbox failed; will retry", "err", err)
		}
		select {
		case <-d.stop:
			return
		case <-d.wake:
		case <-t.C:
		}
	}
}

// followHead keeps the cursor of a disabled dispatcher at the newest event, so the store
// can prune, and enabling webhooks later starts with what happens from then on.
func (d *dispatcher) followHead() {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := d.st.WebhookFollowHead(ctx); err != nil {
			d.log.Warn("moving the webhook cursor failed", "err", err)
		}
		cancel()
		select {
		case <-d.stop:
			return
		case <-t.C:
		}
	}
}

// pump turns the events after the cursor into outbox rows.
func (d *dispatcher) pump() error {
	if d.failures > 0 && time.Now().Before(d.retryAt) {
		return nil // an event failed to convert; wait before trying it again
	}
	for !d.stopped() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		evs, err := d.st.EventsAfter(ctx, d.cursor, webhookEventBatch)
		if err != nil || len(evs) == 0 {
			cancel()
			return err
		}
		now := time.Now()
		var out []store.WebhookDelivery
		for _, e := range evs {
			ds, err := d.expand(ctx, e, now)
			if err != nil {
				if d.convertFailed(e, err) {
					continue // skipped: the cursor moves past it with the batch
				}
				cancel()
				return fmt.Errorf("event %d (%s): %w", e.ID, e.Name, err)
			}
			out = append(out, ds...)
		}
		last := evs[len(evs)-1].ID
		err = d.st.WebhookEnqueue(ctx, last, out)
		cancel()
		if err != nil {
			return err
		}
		d.cursor = last
		d.failedEvent, d.failures = 0, 0
		if len(evs) < webhookEventBatch {
			return nil
		}
	}
	return nil
}

// convertFailed records a failure to expand event e and reports whether to skip the event:
// after webhookEventAttempts failures, spaced by the delivery backoff, it is logged (without
// its payload), counted in convo_errors_total{component="webhook"} and skipped.
func (d *dispatcher) convertFailed(e store.StoredEvent, err error) bool {
	if e.ID != d.failedEvent {
		d.failedEvent, d.failures = e.ID, 0
	}
	d.failures++
	if d.failures < webhookEventAttempts {
		next := d.backoff << min(d.failures-1, 30)
		if next > d.maxBackoff || next <= 0 {
			next = d.maxBackoff
		}
		d.retryAt = time.Now().Add(next)
		return false
	}
	d.metrics.internalError("webhook")
	d.log.Error("skipping an event the webhooks cannot convert; it is not reported", "event", e.ID, "name", e.Name, "attempts", d.failures, "err", err)
	d.failedEvent, d.failures = 0, 0
	return true
}

// expand maps one stored event to its webhook deliveries (none for events webhooks do not
// report). Their ids derive from the event id, so they are the same however often the
// event is expanded.
func (d *dispatcher) expand(ctx context.Context, e store.StoredEvent, now time.Time) ([]store.WebhookDelivery, error) {
	var out []store.WebhookDelivery
	add := func(typ string, data any) error {
		raw, err := json.Marshal(data)
		if err != nil {
			return err
		}
		id := fmt.Sprintf("WD%010d-%d", e.ID, len(out))
		body, err := json.Marshal(WebhookBody{ID: id, Type: typ, Timestamp: now.UnixMilli(), Data: raw})
		if err != nil {
			return err
		}
		out = append(out, store.WebhookDelivery{ID: id, Type: typ, Body: body, NextAttempt: now, Created: now})
		return nil
	}
	if e.Variant {
		return nil, nil
	}
	switch e.Name {
	case store.EventConversationCreated:
		var ev wire.ConversationEvent
		if err := json.Unmarshal(e.Payload, &ev); err != nil {
			return nil, err
		}
		ev.Conversation = sharedConversation(ev.Conversation)
		return out, add(WebhookConversationAdded, WebhookConversationData{Conversation: ev.Conversation})
	case wire.EventConversationUpdated:
		var ev wire.ConversationUpdatedEvent
		if err := json.Unmarshal(e.Payload, &ev); err != nil {
			return nil, err
		}
		// Read horizon and notification level changes concern one user: not reported.
		shared := slices.DeleteFunc(slices.Clone(ev.UpdateReasons), func(r string) bool {
			return r == wire.ReasonLastReadMessageIndex || r == wire.ReasonLastReadTimestamp ||
				r == wire.ReasonNotificationLevel || r == wire.ReasonDateUpdated
		})
		if len(shared) == 0 {
			return nil, nil
		}
		return out, add(WebhookConversationUpdated, WebhookConversationData{
			Conversation: sharedConversation(ev.Conversation), UpdateReasons: ev.UpdateReasons})
	case wire.EventConversationRemoved:
		var ev wire.ConversationRefEvent
		if err := json.Unmarshal(e.Payload, &ev); err != nil {
			return nil, err
		}
		return out, add(WebhookConversationRemoved, WebhookConversationRefData(ev))
	case wire.EventParticipantJoined, wire.EventParticipantLeft:
		var ev wire.ParticipantEvent
		if err := json.Unmarshal(e.Payload, &ev); err != nil {
			return nil, err
		}
		typ := WebhookParticipantAdded
		if e.Name == wire.EventParticipantLeft {
			typ = WebhookParticipantRemoved
		}
		return out, add(typ, WebhookParticipantData{ConversationSid: ev.Participant.ConversationSid, Participant: ev.Participant})
	case wire.EventParticipantUpdated:
		var ev wire.ParticipantUpdatedEvent
		if err := json.Unmarshal(e.Payload, &ev); err != nil {
			return nil, err
		}
		if !slices.Contains(ev.UpdateReasons, wire.ReasonAttributes) {
			return nil, nil // read horizons: not reported
		}
		return out, add(WebhookParticipantUpdated, WebhookParticipantData{
			ConversationSid: ev.Participant.ConversationSid, Participant: ev.Participant, UpdateReasons: ev.UpdateReasons})
	case wire.EventMessageUpdated:
		var ev wire.MessageUpdatedEvent
		if err := json.Unmarshal(e.Payload, &ev); err != nil {
			return nil, err
		}
		return out, add(WebhookMessageUpdated, WebhookMessageData{
			ConversationSid: ev.Message.ConversationSid, Message: ev.Message, UpdateReasons: ev.UpdateReasons})
	case wire.EventMessageRemoved:
		var ev wire.MessageEvent
		if err := json.Unmarshal(e.Payload, &ev); err != nil {
			return nil, err
		}
		return out, add(WebhookMessageRemoved, WebhookMessageData{ConversationSid: ev.Message.ConversationSid, Message: ev.Message})
	case wire.EventMessageAdded:
		var ev wire.MessageEvent
		if err := json.Unmarshal(e.Payload, &ev); err != nil {
			return nil, err
		}
		m := ev.Message
		if err := add(WebhookMessageAdded, WebhookMessageData{ConversationSid: m.ConversationSid, Message: m}); err != nil {
			return nil, err
		}
		err := d.fanOutMessage(ctx, m, add)
		return out, err
	}
	return nil, nil
}

// sharedConversation drops the per-user fields of a conversation payload.
func sharedConversation(c wire.Conversation) wire.Conversation {
	c.Joined, c.NotificationLevel, c.LastReadMessageIndex = false, "", nil
	return c
}

// fanOutMessage adds message.outbound for every non-chat participant that did not write
// the message, and push.notification for every other chat participant that has push
// registrations and has not muted the conversation. Recipients are the participants when
// the dispatcher reads the event (normally moments after the commit).
func (d *dispatcher) fanOutMessage(ctx context.Context, m wire.Message, add func(string, any) error) error {
	ps, err := d.st.Participants(ctx, m.ConversationSid)
	if err != nil {
		return err
	}
	var chat []string
	for _, p := range ps {
		mine := p.Sid == m.ParticipantSid
		switch {
		case p.Type == wire.ParticipantChat:
			if !mine && p.Identity != m.Author {
				chat = append(chat, p.Identity)
			}
		case !mine && (p.Address == "" || p.Address != m.Author):
			if err := add(WebhookMessageOutbound, WebhookOutboundData{ConversationSid: m.ConversationSid, Message: m, Participant: p}); err != nil {
				return err
			}
		}
	}
	if len(chat) == 0 {
		return nil
	}
	regs, err := d.st.PushRegistrations(ctx, chat)
	if err != nil || len(regs) == 0 {
		return err
	}
	muted, err := d.st.MutedIdentities(ctx, m.ConversationSid)
	if err != nil {
		return err
	}
	conv, err := d.st.Conversation(ctx, m.ConversationSid)
	if errors.Is(err, store.ErrNotFound) {
		return nil // deleted meanwhile: nobody to notify
	}
	if err != nil {
		return err
	}
	payload := pushPayload(conv, m)
	for _, id := range chat {
		rs := regs[id]
		if len(rs) == 0 || slices.Contains(muted, id) {
			continue
		}
		data := WebhookPushData{Identity: id, Payload: payload}
		for _, r := range rs {
			data.Registrations = append(data.Registrations, WebhookPushDevice{ChannelType: r.ChannelType, RegistrationID: r.RegistrationID})
		}
		if err := add(WebhookPushNotification, data); err != nil {
			return err
		}
	}
	return nil
}

// pushBodyChars bounds the message text put into a push notification.
const pushBodyChars = 200

func pushPayload(conv wire.Conversation, m wire.Message) wire.PushPayload {
	title := conv.FriendlyName
	if title == "" {
		title = conv.UniqueName
	}
	body := ""
	if m.Body != nil {
		body = *m.Body
	}
	if utf8.RuneCountInString(body) > pushBodyChars {
		body = string([]rune(body)[:pushBodyChars]) + "…"
	}
	switch {
	case body == "" && len(m.Media) > 0:
		body = m.Author + " sent a file"
	case body != "":
		body = m.Author + ": " + body
	}
	idx := m.Index
	return wire.PushPayload{
		Type: wire.PushNewMessage, Title: title, Body: body,
		Data: wire.PushData{
			ConversationSid: m.ConversationSid, ConversationTitle: title, MessageSid: m.Sid,
			MessageIndex: &idx, MediaCount: len(m.Media), Author: m.Author,
		},
	}
}

// sendDue posts the deliveries whose time has come.
func (d *dispatcher) sendDue() error {
	for !d.stopped() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		due, err := d.st.WebhookDue(ctx, time.Now(), webhookSendBatch)
		cancel()
		if err != nil || len(due) == 0 {
			return err
		}
		var wg sync.WaitGroup
		sem := make(chan struct{}, webhookInFlight)
		for _, w := range due {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				d.deliver(w)
			}()
		}
		wg.Wait()
		if len(due) < webhookSendBatch {
			return nil
		}
	}
	return nil
}

// deliver posts one delivery and records the outcome.
func (d *dispatcher) deliver(w store.WebhookDelivery) {
	err := d.post(w)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err == nil {
		d.metrics.webhook("success")
		if err := d.st.WebhookDone(ctx, w.ID); err != nil {
			d.log.Error("removing a delivered webhook from the outbox failed; it may be sent again", "delivery", w.ID, "err", err)
		}
		return
	}
	attempts := w.Attempts + 1
	if time.Since(w.Created) >= d.maxAge {
		d.metrics.webhook("gave_up")
		d.log.Warn("webhook delivery given up", "delivery", w.ID, "type", w.Type, "attempts", attempts, "err", err)
		if err := d.st.WebhookDone(ctx, w.ID); err != nil {
			d.log.Error("removing a webhook from the outbox failed", "delivery", w.ID, "err", err)
		}
		return
	}
	d.metrics.webhook("retry")
	next := d.backoff << min(attempts-1, 30)
	if next > d.maxBackoff || next <= 0 {
		next = d.maxBackoff
	}
	d.log.Info("webhook delivery failed; will retry", "delivery", w.ID, "type", w.Type, "attempts", attempts, "retryIn", next, "err", err)
	if err := d.st.WebhookRetry(ctx, w.ID, attempts, time.Now().Add(next)); err != nil {
		d.log.Error("rescheduling a webhook failed", "delivery", w.ID, "err", err)
	}
}

func (d *dispatcher) post(w store.WebhookDelivery) error {
	req, err := http.NewRequest(http.MethodPost, d.url, bytes.NewReader(w.Body))
	if err != nil {
		return errors.New("invalid webhook URL")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "convo-webhooks/1")
	req.Header.Set(HeaderEvent, w.Type)
	req.Header.Set(HeaderDelivery, w.ID)
	if d.secret != "" {
		req.Header.Set(HeaderSignature, Sign(d.secret, w.Body))
	}
	res, err := d.client.Do(req)
	if err != nil {
		// *url.Error repeats the URL, which may carry credentials: log the cause only.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	res.Body.Close()
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return fmt.Errorf("receiver answered %s", res.Status)
	}
	return nil
}
