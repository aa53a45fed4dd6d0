package core

import "github.com/convo-sdk/convo/wire"

// PendingMessage is a message send the outbox holds: made, not yet acknowledged by the
// server. After a restart on a LocalStore the sends an earlier client left are pending in
// the new one (FromEarlierSession); nobody awaits them, and each becomes a messageAdded
// once delivered, when it leaves this list.
type PendingMessage struct {
	ConversationSid    string
	Body               *string
	Attributes         wire.RawJSON
	MediaSids          []string
	IdempotencyKey     string
	FromEarlierSession bool
	// Files are the attachments still to upload before the send goes (MediaSids are those
	// uploaded already).
	Files []PendingFile
}

// PendingFile is an attachment of a pending message, not uploaded yet.
type PendingFile struct {
	ContentType, Filename, Category string
	Size                            int64
}

// PendingMessages lists the message sends not yet acknowledged, in the order they go out.
func (c *Client) PendingMessages() []PendingMessage {
	o := c.outbox
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []PendingMessage
	for _, it := range o.queue {
		if it.gone || it.op != wire.OpMessageSend {
			continue
		}
		var a wire.SendMessageArgs
		switch v := it.args.(type) {
		case *wire.SendMessageArgs:
			a = *v
		case wire.RawJSON:
			if wire.Unmarshal(v, &a) != nil {
				continue
			}
		default:
			continue
		}
		p := PendingMessage{ConversationSid: a.ConversationSid, Body: a.Body, Attributes: a.Attributes,
			MediaSids: append([]string(nil), a.MediaSids...), IdempotencyKey: a.IdempotencyKey, FromEarlierSession: it.restored}
		for _, f := range it.media {
			p.Files = append(p.Files, PendingFile{ContentType: f.ContentType, Filename: f.Filename, Category: f.Category, Size: int64(len(f.Data))})
		}
		out = append(out, p)
	}
	return out
}
