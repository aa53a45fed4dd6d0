package core

import (
	"context"
	"math/rand/v2"
	"sync"

	"github.com/convo-sdk/convo/wire"
)

// SendMessage posts a text message and returns its index. The send carries a fresh
// idempotency key, so a retry after a dropped connection never stores it twice.
func (cv *Conversation) SendMessage(ctx context.Context, body string, attributes wire.RawJSON) (int64, error) {
	if err := cv.client.ready(ctx); err != nil {
		return 0, err
	}
	if err := checkBodySize(body); err != nil {
		return 0, err
	}
	args := wire.SendMessageArgs{ConversationSid: cv.sid, Body: &body, Attributes: attributes, IdempotencyKey: newIdempotencyKey()}
	return cv.send(ctx, args)
}

// send posts a message through the outbox: sends leave in the order they were made, wait out
// a disconnection, and are stored once however often they are retried.
func (cv *Conversation) send(ctx context.Context, args wire.SendMessageArgs) (int64, error) {
	var m wire.Message
	err := cv.client.thenEvents(func() error {
		if err := cv.client.outbox.submit(ctx, wire.OpMessageSend, &args, &m); err != nil {
			return err
		}
		cv.upsertMessage(m)
		return nil
	})
	return m.Index, err
}

// newIdempotencyKey returns 128 random bits in hex. They need to be unique, not secret:
// math/rand/v2's generator (ChaCha8, seeded by the runtime) is plenty, and crypto/rand
// would link the FIPS crypto packages into the wasm for this alone.
func newIdempotencyKey() string {
	const digits = "0123456789abcdef"
	var b [32]byte
	for half := 0; half < 2; half++ {
		x := rand.Uint64()
		for i := range 16 {
			b[half*16+i] = digits[x&15]
			x >>= 4
		}
	}
	return string(b[:])
}

// MessageBuilder assembles a message with text, subject, attributes, media, email parts or a
// content template. Build freezes it into an UnsentMessage.
type MessageBuilder struct {
	conv    *Conversation
	body    *string
	subject *string
	attrs   wire.RawJSON
	media   []MediaUpload
	content string
	vars    []ContentVariable
}

// PrepareMessage starts a MessageBuilder for this conversation.
func (cv *Conversation) PrepareMessage() *MessageBuilder { return &MessageBuilder{conv: cv} }

// SetBody sets the text.
func (b *MessageBuilder) SetBody(body string) *MessageBuilder { b.body = &body; return b }

// SetSubject sets the subject (email-style conversations).
func (b *MessageBuilder) SetSubject(subject string) *MessageBuilder { b.subject = &subject; return b }

// SetAttributes sets the attributes.
func (b *MessageBuilder) SetAttributes(attrs wire.RawJSON) *MessageBuilder {
	b.attrs = attrs
	return b
}

// SetEmailBody adds an email body of the upload's content type.
func (b *MessageBuilder) SetEmailBody(up MediaUpload) *MessageBuilder {
	up.Category = wire.MediaCategoryBody
	b.media = append(b.media, up)
	return b
}

// SetEmailHistory adds an email history of the upload's content type.
func (b *MessageBuilder) SetEmailHistory(up MediaUpload) *MessageBuilder {
	up.Category = wire.MediaCategoryHistory
	b.media = append(b.media, up)
	return b
}

// AddMedia adds an attachment.
func (b *MessageBuilder) AddMedia(up MediaUpload) *MessageBuilder {
	if up.Category == "" {
		up.Category = wire.MediaCategoryMedia
	}
	b.media = append(b.media, up)
	return b
}

// SetContentTemplate sends the message as a content template filled with variables.
func (b *MessageBuilder) SetContentTemplate(contentSid string, variables []ContentVariable) *MessageBuilder {
	b.content, b.vars = contentSid, variables
	return b
}

// Build freezes the builder into a message ready to send.
func (b *MessageBuilder) Build() *UnsentMessage {
	return &UnsentMessage{
		conv:             b.conv,
		Body:             b.body,
		Subject:          b.subject,
		Attributes:       b.attrs,
		Media:            append([]MediaUpload(nil), b.media...),
		ContentSid:       b.content,
		ContentVariables: append([]ContentVariable(nil), b.vars...),
		key:              newIdempotencyKey(),
	}
}

// BuildAndSend builds and sends, returning the new message's index.
func (b *MessageBuilder) BuildAndSend(ctx context.Context, progress UploadProgress) (int64, error) {
	return b.Build().Send(ctx, progress)
}

// UnsentMessage is a built message. Sending it again after a failure sends the same message:
// its media are uploaded once and its idempotency key never changes.
type UnsentMessage struct {
	conv             *Conversation
	Body             *string
	Subject          *string
	Attributes       wire.RawJSON
	Media            []MediaUpload
	ContentSid       string
	ContentVariables []ContentVariable

	key      string
	mu       sync.Mutex
	uploaded []string // media sids, in Media order, once uploaded
}

// Send uploads the media (progress reports bytes across all of them) and posts the message.
func (u *UnsentMessage) Send(ctx context.Context, progress UploadProgress) (int64, error) {
	if err := u.validate(); err != nil {
		return 0, err
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	var total, done int64
	for _, m := range u.Media {
		total += int64(len(m.Data))
	}
	for i := len(u.uploaded); i < len(u.Media); i++ {
		up := u.Media[i]
		var each UploadProgress
		if progress != nil {
			base := done
			each = func(sent, _ int64) { progress(base+sent, total) }
		}
		if u.conv.client.offline() {
			break // the outbox uploads the rest when the connection is back
		}
		md, err := u.conv.client.UploadMedia(ctx, up, each)
		if code := wire.CodeOf(err); code == wire.CodeUnavailable || code == wire.CodeStorageFull {
			break // the server is out of reach or full: the outbox uploads the rest later
		} else if err != nil {
			return 0, err
		}
		done += int64(len(up.Data))
		u.uploaded = append(u.uploaded, md.Sid())
	}
	args := wire.SendMessageArgs{
		ConversationSid: u.conv.sid, Body: u.Body, Subject: u.Subject, Attributes: u.Attributes,
		MediaSids: append([]string(nil), u.uploaded...), ContentSid: u.ContentSid, ContentVariables: wireContentVariables(u.ContentVariables), IdempotencyKey: u.key,
	}
	if rest := u.Media[len(u.uploaded):]; len(rest) > 0 {
		return u.conv.sendWithFiles(ctx, args, append([]MediaUpload(nil), rest...))
	}
	return u.conv.send(ctx, args)
}

func (u *UnsentMessage) validate() error {
	if u.Body != nil {
		if err := checkBodySize(*u.Body); err != nil {
			return err
		}
	}
	switch {
	case u.Body == nil && len(u.Media) == 0 && u.ContentSid == "":
		return wire.Errorf(CodeClientArgument, "a message needs a body, media or a content template")
	case len(u.Media) > wire.MaxMediaPerMessage:
		return wire.Errorf(wire.CodeTooLarge, "a message carries at most %d media, got %d", wire.MaxMediaPerMessage, len(u.Media))
	case len(u.Attributes) > wire.MaxMessageAttrsBytes:
		return wire.Errorf(wire.CodeTooLarge, "message attributes are %d bytes; the limit is %d", len(u.Attributes), wire.MaxMessageAttrsBytes)
	}
	return nil
}

// checkBodySize refuses a message body over the server's limit before it is sent.
func checkBodySize(body string) error {
	if len(body) > wire.MaxMessageBodyBytes {
		return wire.Errorf(wire.CodeTooLarge, "message body is %d bytes; the limit is %d", len(body), wire.MaxMessageBodyBytes)
	}
	return nil
}
