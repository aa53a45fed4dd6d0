package core

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/convo-sdk/convo/wire"
)

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
		p, err := conv.GetMessages(ctx, wire.DefaultMessagePageSize, nil, wire.Backwards)
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
