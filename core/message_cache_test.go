package core

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"reflect"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/convo-sdk/convo/wire"
)

// A cached message (with a sid of the server's form, see messageSid) carries no emitter until
// something listens or emits, and an emit before the first listener is still replayed to it.
func TestMessageEmitterIsCreatedOnFirstUse(t *testing.T) {
	c := New("", &Options{DeferStart: true, Logf: t.Logf})
	conv, _ := c.upsertConversation(wire.Conversation{Sid: "CH1", Joined: true})
	msg, _ := conv.upsertMessage(wire.Message{Sid: "IM0123456789abcdef0123456789abcdef", ConversationSid: "CH1"})
	if msg.ext.Load() != nil {
		t.Fatal("a new message already has an emitter")
	}
	if n := msg.ListenerCount(MessageEventUpdated.Name()); n != 0 {
		t.Fatalf("ListenerCount = %d", n)
	}
	if msg.ext.Load() != nil {
		t.Fatal("ListenerCount created an emitter")
	}
	msg.Emitter().Emit(MessageEventUpdated.Name(), "first")
	var got []any
	msg.Emitter().OnWithReplay(MessageEventUpdated.Name(), func(args ...any) { got = append(got, args...) })
	if len(got) != 1 || got[0] != "first" {
		t.Fatalf("replay got %v", got)
	}
	if e1, e2 := msg.Emitter(), msg.Emitter(); e1 != e2 {
		t.Fatal("Emitter is not one object")
	}
}

// A cached message's compact form gives back exactly what was decoded.
func TestCompactMessageRoundTrips(t *testing.T) {
	body, subject := "hi", "re"
	for _, m := range []wire.Message{
		{Sid: "IM1", ConversationSid: "CH1", Index: 4, Author: "a", ParticipantSid: "MB1", Body: &body},
		{Sid: "IM2", ConversationSid: "", Index: 5},
		{Sid: "IM3", ConversationSid: "CH9", Subject: &subject, ContentSid: "HX1", LastUpdatedBy: "b",
			Media: []wire.Media{{Sid: "ME1"}}, ContentVariables: []wire.ContentVariable{{Name: "k"}},
			Receipts: &wire.AggregatedReceipt{Total: 1}},
	} {
		d := compactMessage(m, "CH1")
		if got := d.wire(m.Sid, "CH1"); !reflect.DeepEqual(got, m) {
			t.Errorf("round trip changed the message:\n got %+v\nwant %+v", got, m)
		}
	}
	if d := compactMessage(wire.Message{Sid: "IM1", ConversationSid: "CH1"}, "CH1"); d.rare != nil {
		t.Error("a plain message keeps a rare-fields record")
	}
}

// byIndex holds exactly the cached messages, oldest first, whatever order they arrive and
// leave in; trimming evicts from its front.
func TestCachedMessagesStayInIndexOrder(t *testing.T) {
	c := New("", &Options{DeferStart: true, Logf: t.Logf})
	conv, _ := c.upsertConversation(wire.Conversation{Sid: "CH1", Joined: true})
	rng := rand.New(rand.NewPCG(1, 2))
	for _, i := range rng.Perm(3 * MessageCacheSize) {
		conv.upsertMessage(wire.Message{Sid: fmt.Sprintf("IM%d", i), ConversationSid: "CH1", Index: int64(i)})
		if i%7 == 0 {
			conv.removeMessage(wire.Message{Sid: fmt.Sprintf("IM%d", i), ConversationSid: "CH1", Index: int64(i)})
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(conv.byIndex) > MessageCacheSize {
		t.Fatalf("%d cached, more than %d", len(conv.byIndex), MessageCacheSize)
	}
	for i, m := range conv.byIndex {
		if conv.cachedLocked(m.Sid()) != m {
			t.Fatalf("%s is cached twice", m.Sid())
		}
		if i > 0 && conv.byIndex[i-1].data.Index > m.data.Index {
			t.Fatalf("out of order at %d", i)
		}
	}
}

// An evicted message that nothing references any more is collected and forgotten: the
// cache's order slice keeps no pointer to it.
func TestEvictedMessagesAreCollected(t *testing.T) {
	c := New("", &Options{DeferStart: true, Logf: t.Logf})
	conv, _ := c.upsertConversation(wire.Conversation{Sid: "CH1", Joined: true})
	for i := range MessageCacheSize + 50 {
		conv.upsertMessage(wire.Message{Sid: fmt.Sprintf("IM%d", i), ConversationSid: "CH1", Index: int64(i)})
	}
	evicted := func() int {
		c.mu.Lock()
		defer c.mu.Unlock()
		return len(conv.evicted)
	}
	if n := evicted(); n != 50 {
		t.Fatalf("%d messages evicted, want 50", n)
	}
	deadline := time.Now().Add(10 * time.Second)
	for evicted() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d evicted messages are still reachable", evicted())
		}
		runtime.GC() // cleanups run after the collection that finds their object unreachable
		time.Sleep(10 * time.Millisecond)
	}
}

// Cached messages keep one copy of the strings they repeat (the make bench memory figure).
func TestCachedMessagesShareRepeatedStrings(t *testing.T) {
	c := New("", &Options{DeferStart: true, Logf: t.Logf})
	const sid = "CH0123456789abcdef0123456789abcdef"
	conv, _ := c.upsertConversation(wire.Conversation{Sid: sid, Joined: true})
	var got []*Message
	for _, raw := range []string{
		`{"sid":"IM1","conversationSid":"CH0123456789abcdef0123456789abcdef","index":0,"author":"alice","participantSid":"MB1","body":"a"}`,
		`{"sid":"IM2","conversationSid":"CH0123456789abcdef0123456789abcdef","index":1,"author":"alice","participantSid":"MB1","body":"b"}`,
	} {
		var m wire.Message // decoded, so each has its own copy of every string
		if err := json.Unmarshal([]byte(raw), &m); err != nil {
			t.Fatal(err)
		}
		msg, _ := conv.upsertMessage(m)
		got = append(got, msg)
	}
	a, b := got[0].snapshot(), got[1].snapshot()
	if a.ConversationSid != sid || a.Author != "alice" || a.ParticipantSid != "MB1" || *b.Body != "b" {
		t.Fatalf("values changed: %+v %+v", a, b)
	}
	same := func(x, y string) bool { return unsafe.StringData(x) == unsafe.StringData(y) }
	if !same(a.ConversationSid, conv.sid) || !same(b.ConversationSid, conv.sid) {
		t.Error("the messages do not share the conversation's sid")
	}
	if !same(a.Author, b.Author) || !same(a.ParticipantSid, b.ParticipantSid) {
		t.Error("the messages do not share their author and participant sid")
	}
}

// The client's message cache is each Conversation's messages map, filled by upsertMessage
// from events and from pages (GetMessages).

func benchWireMessage(conv string, index int64) wire.Message {
	body := "a typical chat message of a few dozen characters"
	at := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
	return wire.Message{
		Sid: "IM" + conv[2:18] + strconv.FormatInt(1e15+index, 16), ConversationSid: conv,
		Index: index, Author: "alice", ParticipantSid: "MB0123456789abcdef0123456789abcdef",
		Body: &body, DateCreated: at, DateUpdated: at,
	}
}

// BenchmarkMessageCacheInsert adds new messages to conversations of 1000 messages each, as
// messageAdded events do.
func BenchmarkMessageCacheInsert(b *testing.B) {
	c := New(benchToken(), &Options{DeferStart: true, Logf: func(string, ...any) {}})
	const perConv = 1000
	var conv *Conversation
	var convSid string
	var msgs []wire.Message
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i%perConv == 0 {
			b.StopTimer()
			convSid = "CH" + strconv.FormatInt(1e15+int64(i), 16) + "0123456789abcdef"
			conv, _ = c.upsertConversation(wire.Conversation{Sid: convSid, Joined: true})
			msgs = msgs[:0]
			for j := range int64(perConv) {
				msgs = append(msgs, benchWireMessage(convSid, j))
			}
			b.StartTimer()
		}
		if _, created := conv.upsertMessage(msgs[i%perConv]); !created {
			b.Fatal("expected a new message")
		}
		i++
	}
}

// BenchmarkMessagePageRead reads a page of 30 messages with GetMessages from an in-memory
// server: the request, the reply's decoding and the page's upserts into the cache (the same
// 30 messages each time, so after the first round they are updates).
func BenchmarkMessagePageRead(b *testing.B) {
	const convSid = "CH0123456789abcdef0123456789abcdef"
	page := wire.MessagePage{HasPrev: true}
	for i := range int64(wire.DefaultMessagePageSize) {
		page.Items = append(page.Items, benchWireMessage(convSid, 100+i))
	}
	pageJSON, err := json.Marshal(page)
	if err != nil {
		b.Fatal(err)
	}
	srv := &pageServer{page: pageJSON, out: make(chan []byte, 64), closed: make(chan struct{})}
	c := New(benchToken(), &Options{Logf: func(string, ...any) {},
		Dial: func(context.Context, string) (Conn, error) { return srv, nil }})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	defer func() { _ = c.Shutdown(ctx) }()
	if err := c.WaitInitialized(ctx); err != nil {
		b.Fatal(err)
	}
	conv, _ := c.upsertConversation(wire.Conversation{Sid: convSid, Joined: true})
	b.SetBytes(int64(len(pageJSON)))
	b.ReportAllocs()
	for b.Loop() {
		p, err := conv.GetMessages(ctx, wire.DefaultMessagePageSize, nil, Backwards)
		if err != nil {
			b.Fatal(err)
		}
		if len(p.Items) != wire.DefaultMessagePageSize {
			b.Fatalf("got %d messages", len(p.Items))
		}
	}
}

// benchToken is an unsigned token with the claims the client reads (it never verifies).
func benchToken() string {
	enc := base64.RawURLEncoding.EncodeToString
	claims, _ := json.Marshal(map[string]any{"identity": "bench", "url": "ws://bench.invalid/v1/ws",
		"exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix()})
	return enc([]byte(`{"alg":"HS256","typ":"JWT","kid":"bench"}`)) + "." + enc(claims) + ".c2ln"
}

// pageServer is a Conn that plays the server: it welcomes, lists no conversations, answers
// message.list with one fixed page and every other request with {}.
type pageServer struct {
	page   []byte
	out    chan []byte
	closed chan struct{}
	once   sync.Once
}

func (s *pageServer) Write(ctx context.Context, frame []byte) error {
	f, err := wire.Decode(frame)
	if err != nil {
		return err
	}
	var reply []byte
	switch f.Type {
	case wire.TypeHello:
		w, _ := json.Marshal(wire.WelcomeData{Identity: "bench", Epoch: "bench", User: wire.User{Identity: "bench"},
			TokenExpires: time.Now().Add(time.Hour).UnixMilli()})
		reply, _ = wire.Encode(&wire.Frame{Type: wire.TypeWelcome, Data: w})
	case wire.TypeRequest:
		data := []byte(`{}`)
		switch f.Op {
		case wire.OpMessageList:
			data = s.page
		case wire.OpConversationList:
			data = []byte(`{"items":[]}`)
		}
		reply = append(strconv.AppendUint([]byte(`{"type":"res","id":`), f.ID, 10), `,"data":`...)
		reply = append(append(reply, data...), '}')
	default:
		return nil
	}
	select {
	case s.out <- reply:
		return nil
	case <-s.closed:
		return io.EOF
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *pageServer) Read(ctx context.Context) ([]byte, error) {
	select {
	case b := <-s.out:
		return b, nil
	case <-s.closed:
		return nil, io.EOF
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (s *pageServer) Close() error {
	s.once.Do(func() { close(s.closed) })
	return nil
}

// A cached message's dates come back as the wire decoded them, the zero time included.
func TestPackedTimesComeBackEqual(t *testing.T) {
	for _, s := range []string{"2026-01-02T03:04:05.006Z", "2026-12-08T01:02:03.123456789Z", "1969-07-20T20:17:40Z", "2262-04-11T23:47:16Z"} {
		want, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		if got := packTime(want).time(); got != want {
			t.Errorf("%s came back as %v", s, got)
		}
	}
	if got := packTime(time.Time{}).time(); !got.IsZero() {
		t.Errorf("the zero time came back as %v", got)
	}
}

// A client caches 100 messages per conversation, and thousands of conversations: a field
// added to Message costs a size class for every one (wasm and amd64 have 8-byte pointers).
func TestACachedMessageFitsItsSizeClass(t *testing.T) {
	if n := unsafe.Sizeof(Message{}); n > 112 {
		t.Fatalf("Message is %d bytes; keep it within 112 (move what few messages use behind ext or data.rare)", n)
	}
}
