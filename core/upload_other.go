//go:build !js

package core

import (
	"bytes"
	"context"
	"io"
	"net/http"
)

// postMedia sends a file to the server's media endpoint and returns the HTTP status and body.
func postMedia(ctx context.Context, url, contentType, token string, data []byte, progress UploadProgress) (int, []byte, error) {
	var body io.Reader = bytes.NewReader(data)
	if progress != nil {
		body = &progressReader{r: body, total: int64(len(data)), fn: progress}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, body)
	if err != nil {
		return 0, nil, err
	}
	req.ContentLength = int64(len(data))
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	return res.StatusCode, raw, err
}

type progressReader struct {
	r     io.Reader
	sent  int64
	total int64
	fn    UploadProgress
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.sent += int64(n)
	if n > 0 && p.sent < p.total {
		p.fn(p.sent, p.total)
	}
	return n, err
}
