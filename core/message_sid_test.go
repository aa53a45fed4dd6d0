package core

import (
	"testing"

	"github.com/convo-sdk/convo/wire"
)

func TestMessageSidsOfTheServersFormArePackedAndOthersKept(t *testing.T) {
	for _, tc := range []struct {
		sid    string
		packed bool
	}{
		{"IM0123456789abcdef0123456789abcdef", true},
		{"IMffffffffffffffffffffffffffffffff", true},
		{"IM0123456789ABCDEF0123456789abcdef", false}, // upper case would not come back the same
		{"IM0123456789abcdef0123456789abcde", false},
		{"IM0123456789abcdef0123456789abcdef0", false},
		{"CH0123456789abcdef0123456789abcdef", false},
		{"IMg123456789abcdef0123456789abcdef", false},
		{"IM1", false},
		{"", false},
	} {
		_, ok := packMessageSid(tc.sid)
		if ok != tc.packed {
			t.Errorf("packMessageSid(%q) packed = %v, want %v", tc.sid, ok, tc.packed)
		}
	}

	c := New("", &Options{DeferStart: true, Logf: t.Logf})
	conv, _ := c.upsertConversation(wire.Conversation{Sid: "CH1", Joined: true})
	sids := []string{"IM0123456789abcdef0123456789abcdef", "IM0123456789abcdef0123456789abcdee", "IMa", "IM0123456789ABCDEF0123456789abcdef"}
	var msgs []*Message
	for i, sid := range sids {
		m, isNew := conv.upsertMessage(wire.Message{Sid: sid, ConversationSid: "CH1", Index: int64(i)})
		if !isNew {
			t.Fatalf("%s: not new", sid)
		}
		if m.Sid() != sid {
			t.Fatalf("Sid() = %q, want %q", m.Sid(), sid)
		}
		msgs = append(msgs, m)
	}
	for i, sid := range sids {
		m, isNew := conv.upsertMessage(wire.Message{Sid: sid, ConversationSid: "CH1", Index: int64(i)})
		if isNew || m != msgs[i] {
			t.Fatalf("%s: the upsert found another message (new %v)", sid, isNew)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if got := conv.cachedLocked("IM0123456789abcdef0123456789abcded"); got != nil {
		t.Fatalf("a sid never cached found %s", got.Sid())
	}
}
