package core

import (
	"context"

	"github.com/convo-sdk/convo/internal/jsonc"
	"github.com/convo-sdk/convo/wire"
)

// PushNotification is a parsed push notification.
type PushNotification struct {
	Type   string
	Title  string
	Body   string
	Sound  string
	Badge  *int
	Action string
	Data   PushData
}

// PushData says what a push notification is about; each field is set when it applies.
type PushData struct {
	ConversationSid   string
	ConversationTitle string
	MessageSid        string
	MessageIndex      *int64
	MediaCount        int
	Author            string
}

// ParsePushNotification reads a push payload as the server's push webhook produced it
// (wire.PushPayload), either as the object itself or wrapped the way FCM data messages carry
// it: {"data": {"convo": "<the payload as a JSON string>"}}.
func ParsePushNotification(payload wire.RawJSON) (*PushNotification, error) {
	var p wire.PushPayload
	if err := wire.Unmarshal(payload, &p); err != nil {
		return nil, wire.Errorf(CodeClientArgument, "push payload is not a JSON object: %v", err)
	}
	if p.Type == "" {
		var wrapped fcmWrapped
		if err := wire.Unmarshal(payload, &wrapped); err == nil && wrapped.convo != "" {
			if err := wire.Unmarshal([]byte(wrapped.convo), &p); err != nil {
				return nil, wire.Errorf(CodeClientArgument, "push payload data.convo is not a JSON object: %v", err)
			}
		}
	}
	switch p.Type {
	case wire.PushNewMessage, wire.PushAddedToConversation, wire.PushRemovedFromConversation, wire.PushTypingIndicator, wire.PushConsumptionUpdate:
	case "":
		return nil, wire.Errorf(CodeClientArgument, "push payload has no type: it was not produced by a convo server")
	default:
		return nil, wire.Errorf(CodeClientArgument, "unknown push notification type %q", p.Type)
	}
	return &PushNotification{Type: p.Type, Title: p.Title, Body: p.Body, Sound: p.Sound, Badge: p.Badge, Action: p.Action, Data: PushData(p.Data)}, nil
}

// HandlePushNotification parses a push payload and emits pushNotification with it.
func (c *Client) HandlePushNotification(ctx context.Context, payload wire.RawJSON) error {
	n, err := ParsePushNotification(payload)
	if err != nil {
		return err
	}
	if err := c.ready(ctx); err != nil {
		return err
	}
	c.events.push(func() { EventPushNotification.emit(c.emitter, *n) })
	return nil
}

// SetPushRegistrationID registers this device for push notifications of a channel type.
func (c *Client) SetPushRegistrationID(ctx context.Context, channelType, registrationID string) error {
	if err := checkChannelType(channelType); err != nil {
		return err
	}
	if registrationID == "" {
		return wire.Errorf(CodeClientArgument, "a push registration id is required")
	}
	return c.pushCall(ctx, wire.OpPushRegister, wire.PushRegistrationArgs{ChannelType: channelType, RegistrationID: registrationID})
}

// UnsetPushRegistrationID removes the user's registrations of a channel type.
func (c *Client) UnsetPushRegistrationID(ctx context.Context, channelType string) error {
	if err := checkChannelType(channelType); err != nil {
		return err
	}
	return c.pushCall(ctx, wire.OpPushUnregister, wire.PushRegistrationArgs{ChannelType: channelType})
}

// RemovePushRegistrations removes one registration by its device token.
func (c *Client) RemovePushRegistrations(ctx context.Context, channelType, registrationID string) error {
	if err := checkChannelType(channelType); err != nil {
		return err
	}
	return c.pushCall(ctx, wire.OpPushUnregister, wire.PushRegistrationArgs{ChannelType: channelType, RegistrationID: registrationID})
}

func (c *Client) pushCall(ctx context.Context, op string, args wire.PushRegistrationArgs) error {
	if err := c.ready(ctx); err != nil {
		return err
	}
	return c.call(ctx, op, &args, nil, resendAfterReconnect)
}

func checkChannelType(t string) error {
	if t != wire.PushFCM && t != wire.PushAPN {
		return wire.Errorf(CodeClientArgument, "push channel type must be %q or %q, got %q", wire.PushFCM, wire.PushAPN, t)
	}
	return nil
}

// fcmWrapped reads {"data": {"convo": "<payload>"}}, a payload as FCM data messages carry it.
type fcmWrapped struct{ convo string }

func (w *fcmWrapped) DecodeJSON(d *jsonc.Decoder) {
	for n := 0; d.Member(n); n++ {
		if string(d.Key) != "data" {
			d.Skip()
			continue
		}
		for m := 0; d.Member(m); m++ {
			if string(d.Key) == "convo" {
				d.Str(&w.convo)
			} else {
				d.Skip()
			}
		}
	}
}
