package core

import (
	"encoding/json"
	"testing"
	"unsafe"

	"github.com/convo-sdk/convo/wire"
)

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
