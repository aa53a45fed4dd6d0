package webhook

import (
	"bytes"
	"context"
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

const (
	webhookEventBatch = 200 // events read from the log at a time
	webhookSendBatch  = 32  // due deliveries read from the outbox at a time
	webhookInFlight   = 4   // concurrent requests to the receiver
	// webhookEventAttempts is how often the dispatcher tries to turn an event into
	// deliveries (with the delivery backoff in between) before it skips the event, so one
	// it cannot convert does not hold back every webhook after it.
	webhookEventAttempts = 5
)

// Config configures a Dispatcher. The durations must be positive (server.Config supplies
// the defaults).
type Config struct {
	// URL receives the webhooks; empty disables them (the cursor then follows the newest
	// event, so enabling them later starts with what happens from then on).
	URL string
	// Secret signs bodies (HeaderSignature); empty sends no signature.
	Secret string
	// Timeout bounds one request; Poll is how often the events log is read; Backoff is the
	// first retry delay, doubling per failure up to MaxBackoff; a delivery failing for
	// MaxAge is given up.
	Timeout, Poll, Backoff, MaxBackoff, MaxAge time.Duration
}

// Store is what the dispatcher reads and writes: the events log and outbox, and the
// participants, push registrations and conversation a message fans out to.
type Store interface {
	store.WebhookStore
	Conversation(ctx context.Context, sid string) (wire.Conversation, error)
	Participants(ctx context.Context, conversationSid string) ([]wire.Participant, error)
	MutedIdentities(ctx context.Context, conversationSid string) ([]string, error)
	PushRegistrations(ctx context.Context, identities []string) (map[string][]store.PushRegistration, error)
}

// Metrics counts what the dispatcher does.
type Metrics interface {
	// InternalError counts a failure to read the events log or the outbox, or an event
	// skipped because it could not be converted.
	InternalError()
	// Delivery counts one delivery attempt by result: "success", "retry" or "gave_up".
	Delivery(result string)
}

// Dispatcher delivers webhooks. A nil *Dispatcher does nothing.
type Dispatcher struct {
	st      Store
	log     *slog.Logger
	metrics Metrics
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

// New places (or reads) the dispatcher's cursor and starts it. Call it before the server
// takes its first request: a cursor placed later would start after events committed
// meanwhile and never deliver them. Should the database fail now, the dispatcher keeps
// trying in the background.
func New(st Store, log *slog.Logger, m Metrics, cfg Config) *Dispatcher {
	d := &Dispatcher{
		st: st, log: log, metrics: m,
		url: cfg.URL, secret: cfg.Secret,
		client: &http.Client{Timeout: cfg.Timeout},
		poll:   cfg.Poll, backoff: cfg.Backoff, maxBackoff: cfg.MaxBackoff, maxAge: cfg.MaxAge,
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
	}
	started := d.start()
	go d.run(started)
	return d
}

// start reads (or, when dispatching is newly enabled or disabled, places) the cursor.
func (d *Dispatcher) start() bool {
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

// Nudge asks the dispatcher to look for new events now.
func (d *Dispatcher) Nudge() {
	if d == nil {
		return
	}
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Close stops the dispatcher after the requests in flight finish.
func (d *Dispatcher) Close() {
	if d == nil {
		return
	}
	d.closeOnce.Do(func() { close(d.stop) })
	<-d.done
}

func (d *Dispatcher) stopped() bool {
	select {
	case <-d.stop:
		return true
	default:
		return false
	}
}

func (d *Dispatcher) run(started bool) {
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
			d.metrics.InternalError()
			d.log.Error("reading events for webhooks failed; will retry", "err", err)
		}
		if err := d.sendDue(); err != nil {
			d.metrics.InternalError()
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
func (d *Dispatcher) followHead() {
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
func (d *Dispatcher) pump() error {
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
// its payload), counted (Metrics.InternalError) and skipped.
func (d *Dispatcher) convertFailed(e store.StoredEvent, err error) bool {
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
	d.metrics.InternalError()
	d.log.Error("skipping an event the webhooks cannot convert; it is not reported", "event", e.ID, "name", e.Name, "attempts", d.failures, "err", err)
	d.failedEvent, d.failures = 0, 0
	return true
}

// expand maps one stored event to its webhook deliveries (none for events webhooks do not
// report). Their ids derive from the event id, so they are the same however often the
// event is expanded.
func (d *Dispatcher) expand(ctx context.Context, e store.StoredEvent, now time.Time) ([]store.WebhookDelivery, error) {
	var out []store.WebhookDelivery
	carries := ""  // the message whose content the deliveries carry
	carriesC := "" // the conversation whose fields (or participants') the deliveries carry
	add := func(typ string, data any) error {
		raw, err := json.Marshal(data)
		if err != nil {
			return err
		}
		id := fmt.Sprintf("WD%010d-%d", e.ID, len(out))
		body, err := json.Marshal(Body{ID: id, Type: typ, Timestamp: now.UnixMilli(), Data: raw})
		if err != nil {
			return err
		}
		out = append(out, store.WebhookDelivery{ID: id, Type: typ, Body: body, NextAttempt: now, Created: now,
			MessageSid: carries, ConversationSid: carriesC})
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
		if ev.Redacted {
			return nil, nil // removed since: its content is gone, the removal is reported
		}
		ev.Conversation = sharedConversation(ev.Conversation)
		carriesC = ev.Conversation.Sid
		return out, add(ConversationAdded, ConversationData{Conversation: ev.Conversation})
	case wire.EventConversationUpdated:
		var ev wire.ConversationUpdatedEvent
		if err := json.Unmarshal(e.Payload, &ev); err != nil {
			return nil, err
		}
		if ev.Redacted {
			return nil, nil // removed since: its content is gone, the removal is reported
		}
		// Read horizon and notification level changes concern one user: not reported.
		shared := slices.DeleteFunc(slices.Clone(ev.UpdateReasons), func(r string) bool {
			return r == wire.ReasonLastReadMessageIndex || r == wire.ReasonLastReadTimestamp ||
				r == wire.ReasonNotificationLevel || r == wire.ReasonDateUpdated
		})
		if len(shared) == 0 {
			return nil, nil
		}
		carriesC = ev.Conversation.Sid
		return out, add(ConversationUpdated, ConversationData{
			Conversation: sharedConversation(ev.Conversation), UpdateReasons: ev.UpdateReasons})
	case wire.EventConversationRemoved:
		var ev wire.ConversationRefEvent
		if err := json.Unmarshal(e.Payload, &ev); err != nil {
			return nil, err
		}
		return out, add(ConversationRemoved, ConversationRefData(ev))
	case wire.EventParticipantJoined, wire.EventParticipantLeft:
		var ev wire.ParticipantEvent
		if err := json.Unmarshal(e.Payload, &ev); err != nil {
			return nil, err
		}
		if ev.Redacted {
			return nil, nil // removed since: its content is gone, the removal is reported
		}
		carriesC = ev.Participant.ConversationSid
		typ := ParticipantAdded
		if e.Name == wire.EventParticipantLeft {
			typ = ParticipantRemoved
		}
		return out, add(typ, ParticipantData{ConversationSid: ev.Participant.ConversationSid, Participant: ev.Participant})
	case wire.EventParticipantUpdated:
		var ev wire.ParticipantUpdatedEvent
		if err := json.Unmarshal(e.Payload, &ev); err != nil {
			return nil, err
		}
		if ev.Redacted {
			return nil, nil // removed since: its content is gone, the removal is reported
		}
		if !slices.Contains(ev.UpdateReasons, wire.ReasonAttributes) {
			return nil, nil // read horizons: not reported
		}
		carriesC = ev.Participant.ConversationSid
		return out, add(ParticipantUpdated, ParticipantData{
			ConversationSid: ev.Participant.ConversationSid, Participant: ev.Participant, UpdateReasons: ev.UpdateReasons})
	case wire.EventMessageUpdated:
		var ev wire.MessageUpdatedEvent
		if err := json.Unmarshal(e.Payload, &ev); err != nil {
			return nil, err
		}
		if ev.Redacted {
			return nil, nil // removed since: its content is gone, the removal is reported
		}
		carries = ev.Message.Sid
		return out, add(MessageUpdated, MessageData{
			ConversationSid: ev.Message.ConversationSid, Message: ev.Message, UpdateReasons: ev.UpdateReasons})
	case wire.EventMessageRemoved:
		var ev wire.MessageEvent
		if err := json.Unmarshal(e.Payload, &ev); err != nil {
			return nil, err
		}
		return out, add(MessageRemoved, MessageData{ConversationSid: ev.Message.ConversationSid, Message: ev.Message})
	case wire.EventMessageAdded:
		var ev wire.MessageEvent
		if err := json.Unmarshal(e.Payload, &ev); err != nil {
			return nil, err
		}
		if ev.Redacted {
			return nil, nil // removed since: its content is gone, the removal is reported
		}
		m := ev.Message
		carries = m.Sid
		if err := add(MessageAdded, MessageData{ConversationSid: m.ConversationSid, Message: m}); err != nil {
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
func (d *Dispatcher) fanOutMessage(ctx context.Context, m wire.Message, add func(string, any) error) error {
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
			if err := add(MessageOutbound, OutboundData{ConversationSid: m.ConversationSid, Message: m, Participant: p}); err != nil {
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
		data := PushData{Identity: id, Payload: payload}
		for _, r := range rs {
			data.Registrations = append(data.Registrations, PushDevice{ChannelType: r.ChannelType, RegistrationID: r.RegistrationID})
		}
		if err := add(PushNotification, data); err != nil {
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
func (d *Dispatcher) sendDue() error {
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
func (d *Dispatcher) deliver(w store.WebhookDelivery) {
	err := d.post(w)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err == nil {
		d.metrics.Delivery("success")
		if err := d.st.WebhookDone(ctx, w.ID); err != nil {
			d.log.Error("removing a delivered webhook from the outbox failed; it may be sent again", "delivery", w.ID, "err", err)
		}
		return
	}
	attempts := w.Attempts + 1
	if time.Since(w.Created) >= d.maxAge {
		d.metrics.Delivery("gave_up")
		d.log.Warn("webhook delivery given up", "delivery", w.ID, "type", w.Type, "attempts", attempts, "err", err)
		if err := d.st.WebhookDone(ctx, w.ID); err != nil {
			d.log.Error("removing a webhook from the outbox failed", "delivery", w.ID, "err", err)
		}
		return
	}
	d.metrics.Delivery("retry")
	next := d.backoff << min(attempts-1, 30)
	if next > d.maxBackoff || next <= 0 {
		next = d.maxBackoff
	}
	d.log.Info("webhook delivery failed; will retry", "delivery", w.ID, "type", w.Type, "attempts", attempts, "retryIn", next, "err", err)
	if err := d.st.WebhookRetry(ctx, w.ID, attempts, time.Now().Add(next)); err != nil {
		d.log.Error("rescheduling a webhook failed", "delivery", w.ID, "err", err)
	}
}

func (d *Dispatcher) post(w store.WebhookDelivery) error {
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
