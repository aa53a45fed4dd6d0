package server_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/convo-sdk/convo/server"
	"github.com/convo-sdk/convo/server/auth"
	"github.com/convo-sdk/convo/server/servertest"
	"github.com/convo-sdk/convo/wire"
)

// FuzzServerFrame sends the fuzzed bytes as one text frame on an authenticated connection
// to a real in-process server. The server must answer with a reply (a request) or a bye
// (anything else), never an internal error, and stay up: a follow-up request works, on the
// same connection after a reply, on a new one after a bye.
func FuzzServerFrame(f *testing.F) {
	for _, s := range []string{
		`{"type":"req","id":1,"op":"conversation.list","data":{}}`,
		`{"type":"req","id":2,"op":"conversation.create","data":{"friendlyName":"f","attributes":{"a":[1]}}}`,
		`{"type":"req","id":3,"op":"message.send","data":{"conversationSid":"CHx","body":"b"}}`,
		`{"type":"req","id":4,"op":"conversation.read","data":{"conversationSid":"CHx","mode":"set","index":-1}}`,
		`{"type":"req","id":5,"op":"media.urls","data":{"mediaSids":[""]}}`,
		`{"type":"req","id":6,"op":"session.updateToken","data":{"token":"a.b.c"}}`,
		`{"type":"req","id":7,"op":"no.such.op"}`,
		`{"type":"req","id":8,"op":"user.subscribe","data":[]}`,
		`{"type":"req","id":9,"op":"conversation.get","data":"sid"}`,
		`{"type":"hello","data":{"token":"x"}}`,
		`{"type":"req","id":0}`,
		`not json`, ``, `{"type":"req","id":1,"op":"message.list","data":{"pageSize":1e100}}`,
	} {
		f.Add([]byte(s))
	}
	env := servertest.Start(f, servertest.Options{Configure: func(c *server.Config) {
		c.RequestRate, c.ConversationWriteRate = -1, -1
		c.MaxConnsPerIdentity = 1 << 20
	}})
	// Minted here: the Env's helpers report to f, which a fuzz target may not use.
	tok, err := auth.Mint(env.Key, "fuzzer", 24*time.Hour, env.URL)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		c, err := servertest.Dial(ctx, env.URL, tok, nil)
		if err != nil {
			t.Fatalf("server not up before the frame: %v", err)
		}
		defer c.Close()
		if err := c.WS.Write(ctx, websocket.MessageText, b); err != nil {
			t.Fatalf("write: %v", err)
		}
		bye := false
		for answered := false; !answered; {
			fr, err := c.ReadFrame(ctx)
			var we *wire.Error
			switch {
			case errors.As(err, &we):
				if we.Code == wire.CodeInternal {
					t.Fatalf("frame %q: bye with an internal error: %v", b, we)
				}
				bye, answered = true, true
			case err != nil:
				t.Fatalf("frame %q: no reply nor bye: %v", b, err)
			case fr.Type == wire.TypeReply:
				if fr.Error != nil && fr.Error.Code == wire.CodeInternal {
					t.Fatalf("frame %q: internal error: %v", b, fr.Error)
				}
				answered = true
			case fr.Type == wire.TypeEvent || fr.Type == wire.TypeSignal:
			default:
				t.Fatalf("frame %q: unexpected %q frame", b, fr.Type)
			}
		}
		if bye {
			c.Close()
			if c, err = servertest.Dial(ctx, env.URL, tok, nil); err != nil {
				t.Fatalf("after frame %q the server refuses connections: %v", b, err)
			}
			defer c.Close()
		}
		if err := c.Call(ctx, wire.OpConversationList, wire.ListArgs{PageSize: 1}, nil); err != nil {
			t.Fatalf("after frame %q a valid request fails: %v", b, err)
		}
	})
}
