package core

import (
	"testing"

	"github.com/convo-sdk/convo/wire"
)

// fuzzEventClient is a client that never connects, with one known conversation (CH1, with
// alice and bob, and message 0 by bob), for events to apply to.
func fuzzEventClient(t *testing.T) *Client {
	c := New("e30.eyJ1cmwiOiJ3czovLzEyNy4wLjAuMTo5L3YxL3dzIn0.s", &Options{DeferStart: true, Logf: func(string, ...any) {}})
	t.Cleanup(c.cancel)
	c.handleEvent(wire.EventConversationJoined, wire.RawJSON(`{"conversation":{"sid":"CH1","createdBy":"alice","joined":true}}`))
	c.handleEvent(wire.EventParticipantJoined, wire.RawJSON(`{"participant":{"sid":"MB1","conversationSid":"CH1","identity":"alice","type":"chat"}}`))
	c.handleEvent(wire.EventParticipantJoined, wire.RawJSON(`{"participant":{"sid":"MB2","conversationSid":"CH1","identity":"bob","type":"chat"}}`))
	c.handleEvent(wire.EventMessageAdded, wire.RawJSON(`{"message":{"sid":"IM1","conversationSid":"CH1","index":0,"author":"bob","participantSid":"MB2","body":"hi"}}`))
	return c
}

// FuzzHandleEvent applies a fuzzed event or signal to a client's object model: malformed
// payloads are dropped, well-formed ones applied, and nothing panics.
func FuzzHandleEvent(f *testing.F) {
	for _, s := range []struct{ name, data string }{
		{wire.EventConversationJoined, `{"conversation":{"sid":"CH2","lastMessage":{"index":5}}}`},
		{wire.EventConversationLeft, `{"conversationSid":"CH1"}`},
		{wire.EventConversationRemoved, `{"conversationSid":"CH1"}`},
		{wire.EventConversationUpdated, `{"conversation":{"sid":"CH1","lastReadMessageIndex":-1},"updateReasons":["lastReadMessageIndex"]}`},
		{wire.EventParticipantJoined, `{"participant":{"sid":"MB3","conversationSid":"CH1"}}`},
		{wire.EventParticipantLeft, `{"participant":{"sid":"MB2","conversationSid":"CH1","identity":"bob"}}`},
		{wire.EventParticipantUpdated, `{"participant":{"sid":"MB9","conversationSid":"CH1"},"updateReasons":null}`},
		{wire.EventMessageAdded, `{"message":{"sid":"IM2","conversationSid":"CH1","index":-5,"author":"alice"}}`},
		{wire.EventMessageUpdated, `{"message":{"sid":"IM1","conversationSid":"CH1","index":0,"body":null}}`},
		{wire.EventMessageRemoved, `{"message":{"sid":"IM1","conversationSid":"CH1"}}`},
		{wire.SignalTyping, `{"conversationSid":"CH1","participantSid":"MB2","identity":"bob"}`},
		{wire.SignalUserUpdated, `{"user":{"identity":"bob"},"updateReasons":["friendlyName","reachabilityOnline"]}`},
		{"unknownEvent", `{}`},
		{wire.EventMessageAdded, `null`},
		{wire.EventConversationUpdated, `[`},
	} {
		f.Add(s.name, []byte(s.data))
	}
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		c := fuzzEventClient(t)
		c.handleEvent(name, data)
		c.handleSignal(name, data)
		// Apply it again: duplicates must be harmless too.
		c.handleEvent(name, data)
		for _, conv := range c.conversations {
			for _, p := range conv.participants {
				p.stopTyping()
			}
		}
	})
}
