package core

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/convo-sdk/convo/internal/jsonc"
	"github.com/convo-sdk/convo/wire"
)

// Media is a file attached to a message. Its content is read through a temporary URL.
type Media struct {
	client *Client
	data   wire.Media
}

// Sid returns the media sid.
func (m *Media) Sid() string { return m.data.Sid }

// Filename returns the file name given at upload, possibly empty.
func (m *Media) Filename() string { return m.data.Filename }

// ContentType returns the MIME type.
func (m *Media) ContentType() string { return m.data.ContentType }

// Size returns the size in bytes.
func (m *Media) Size() int64 { return m.data.Size }

// Category returns "media", "body" or "history".
func (m *Media) Category() string { return m.data.Category }

// GetContentTemporaryURL returns a short-lived URL of the content.
func (m *Media) GetContentTemporaryURL(ctx context.Context) (string, error) {
	urls, err := m.client.GetTemporaryContentURLs(ctx, []string{m.data.Sid})
	if err != nil {
		return "", err
	}
	return urls[m.data.Sid], nil
}

// MediaUpload is a file to attach to a message.
type MediaUpload struct {
	ContentType string
	Filename    string
	Data        []byte
	// Category is "media" (the default), "body" or "history".
	Category string
}

// UploadProgress is called while an upload runs.
type UploadProgress func(sent, total int64)

// httpBase returns the server's HTTP origin, from the WebSocket URL.
func (c *Client) httpBase() (string, error) { return httpOrigin(c.serverURL()) }

// httpOrigin turns ws://host/path into http://host (wss into https).
func httpOrigin(wsURL string) (string, error) {
	scheme, rest, ok := strings.Cut(wsURL, "://")
	if !ok || scheme == "" {
		return "", wire.Errorf(CodeClientArgument, "server URL %q has no scheme", wsURL)
	}
	switch strings.ToLower(scheme) {
	case "ws":
		scheme = "http"
	case "wss":
		scheme = "https"
	}
	host := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		host = rest[:i]
	}
	if host == "" {
		return "", wire.Errorf(CodeClientArgument, "server URL %q has no host", wsURL)
	}
	return scheme + "://" + host, nil
}

// queryEscape escapes s for a URL query value, as url.QueryEscape does.
func queryEscape(s string) string {
	const hex = "0123456789ABCDEF"
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == '~':
			b = append(b, c)
		case c == ' ':
			b = append(b, '+')
		default:
			b = append(b, '%', hex[c>>4], hex[c&15])
		}
	}
	return string(b)
}

// UploadMedia stores a file on the server and returns it, to attach to a message by its sid.
// The token travels in the Authorization header.
func (c *Client) UploadMedia(ctx context.Context, up MediaUpload, progress UploadProgress) (*Media, error) {
	if err := c.ready(ctx); err != nil {
		return nil, err
	}
	if up.ContentType == "" {
		return nil, wire.Errorf(CodeClientArgument, "media needs a content type")
	}
	if len(up.Data) > wire.DefaultMaxMediaBytes {
		return nil, wire.Errorf(wire.CodeTooLarge, "media is %d bytes; the limit is %d", len(up.Data), wire.DefaultMaxMediaBytes)
	}
	if up.Category == "" {
		up.Category = wire.MediaCategoryMedia
	}
	base, err := c.httpBase()
	if err != nil {
		return nil, err
	}
	q := "category=" + queryEscape(up.Category)
	if up.Filename != "" {
		q += "&filename=" + queryEscape(up.Filename)
	}
	status, raw, err := postMedia(ctx, base+"/v1/media?"+q, up.ContentType, c.Token(), up.Data, progress)
	if err != nil {
		return nil, wire.Errorf(wire.CodeUnavailable, "uploading media: %v", err)
	}
	if status != 200 && status != 201 {
		// The server answers {"error": {code, message}}; accept a bare {code, message} too.
		var wrapped errorReply
		if wire.Unmarshal(raw, &wrapped) == nil && wrapped.err.Code != 0 {
			return nil, &wrapped.err
		}
		var e wire.Error
		if wire.Unmarshal(raw, &e) == nil && e.Code != 0 {
			return nil, &e
		}
		return nil, wire.Errorf(wire.CodeInternal, "uploading media: HTTP %d: %s", status, strings.TrimSpace(string(raw)))
	}
	var out wire.Media
	if err := wire.Unmarshal(raw, &out); err != nil {
		return nil, wire.Errorf(wire.CodeInternal, "uploading media: unexpected reply: %v", err)
	}
	if progress != nil {
		progress(int64(len(up.Data)), int64(len(up.Data)))
	}
	return &Media{client: c, data: out}, nil
}

// GetTemporaryContentURLs returns a short-lived URL for each media sid the user may read.
// URLs are cached until shortly before they expire.
func (c *Client) GetTemporaryContentURLs(ctx context.Context, sids []string) (map[string]string, error) {
	if err := c.ready(ctx); err != nil {
		return nil, err
	}
	out := make(map[string]string, len(sids))
	var missing []string
	c.mu.Lock()
	for _, sid := range sids {
		if u, ok := c.mediaURLs[sid]; ok && time.Until(u.expires) > 30*time.Second {
			out[sid] = u.url
		} else {
			missing = append(missing, sid)
		}
	}
	c.mu.Unlock()
	for len(missing) > 0 {
		batch := missing[:min(len(missing), wire.MaxMediaSidsPerURLRequest)]
		missing = missing[len(batch):]
		var res wire.MediaURLs
		if err := c.call(ctx, wire.OpMediaURLs, &wire.MediaURLsArgs{MediaSids: batch}, &res, resendAfterReconnect); err != nil {
			return nil, err
		}
		c.mu.Lock()
		for sid, u := range res.URLs {
			out[sid] = u
			c.mediaURLs[sid] = cachedURL{url: u, expires: res.Expires}
		}
		c.mu.Unlock()
	}
	for _, sid := range sids {
		if _, ok := out[sid]; !ok {
			return nil, wire.Errorf(wire.CodeNotFound, "no readable media with sid %s", sid)
		}
	}
	return out, nil
}

type cachedURL struct {
	url     string
	expires time.Time
}

// String describes the media for logs.
func (m *Media) String() string {
	return fmt.Sprintf("%s (%s, %d bytes)", m.data.Sid, m.data.ContentType, m.data.Size)
}

// AttachedMedia returns every media of the message: attachments, email bodies and histories.
func (m *Message) AttachedMedia() []*Media {
	d := m.snapshot()
	out := make([]*Media, len(d.Media))
	for i, md := range d.Media {
		out[i] = m.mediaObject(md)
	}
	return out
}

// GetMediaByCategory returns the message's media of the given categories.
func (m *Message) GetMediaByCategory(categories ...string) []*Media {
	var out []*Media
	for _, md := range m.AttachedMedia() {
		if slices.Contains(categories, md.Category()) {
			out = append(out, md)
		}
	}
	return out
}

// GetEmailBody returns the email body of the given content type ("text/plain", "text/html").
func (m *Message) GetEmailBody(contentType string) *Media {
	return m.emailPart(wire.MediaCategoryBody, contentType)
}

// GetEmailHistory returns the email history of the given content type.
func (m *Message) GetEmailHistory(contentType string) *Media {
	return m.emailPart(wire.MediaCategoryHistory, contentType)
}

func (m *Message) emailPart(category, contentType string) *Media {
	for _, md := range m.GetMediaByCategory(category) {
		if strings.EqualFold(strings.TrimSpace(strings.Split(md.ContentType(), ";")[0]), contentType) {
			return md
		}
	}
	return nil
}

// mediaObject keeps one *Media per sid.
func (m *Message) mediaObject(d wire.Media) *Media {
	c := m.conv.client
	x := m.extension()
	c.mu.Lock()
	defer c.mu.Unlock()
	if x.media == nil {
		x.media = make(map[string]*Media)
	}
	md, ok := x.media[d.Sid]
	if !ok {
		md = &Media{client: c, data: d}
		x.media[d.Sid] = md
	}
	return md
}

// GetTemporaryContentURLsForAttachedMedia returns a temporary URL per attached media sid.
func (m *Message) GetTemporaryContentURLsForAttachedMedia(ctx context.Context) (map[string]string, error) {
	media := m.AttachedMedia()
	sids := make([]string, len(media))
	for i, md := range media {
		sids[i] = md.Sid()
	}
	return m.conv.client.GetTemporaryContentURLs(ctx, sids)
}

// errorReply reads the server's HTTP error body, {"error": {"code": …, "message": …}}.
type errorReply struct{ err wire.Error }

func (r *errorReply) DecodeJSON(d *jsonc.Decoder) {
	for n := 0; d.Member(n); n++ {
		if string(d.Key) == "error" {
			r.err.DecodeJSON(d)
		} else {
			d.Skip()
		}
	}
}
