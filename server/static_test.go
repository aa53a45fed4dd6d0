package server

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStaticFilesServePrecompressedSiblings(t *testing.T) {
	root := fstest.MapFS{
		"sdk/convo.wasm":    {Data: []byte("raw wasm")},
		"sdk/convo.wasm.br": {Data: []byte("brotli wasm")},
		"sdk/convo.wasm.gz": {Data: []byte("gzip wasm")},
		"sdk/index.js":      {Data: []byte("export {}")},
		"index.html":        {Data: []byte("<p>demo</p>")},
	}
	srv := httptest.NewServer(staticFiles(root))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	get := func(path, acceptEncoding string) (*http.Response, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, "GET", srv.URL+path, nil)
		require.NoError(t, err)
		// Set explicitly: Go's transport would otherwise ask for gzip and undo it.
		req.Header.Set("Accept-Encoding", acceptEncoding)
		res, err := http.DefaultTransport.RoundTrip(req)
		require.NoError(t, err)
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res, string(body)
	}
	cases := []struct{ accept, encoding, body string }{
		{"gzip, deflate, br, zstd", "br", "brotli wasm"},
		{"gzip", "gzip", "gzip wasm"},
		{"br;q=0, gzip", "gzip", "gzip wasm"},
		{"", "", "raw wasm"},
		{"identity", "", "raw wasm"},
	}
	for _, c := range cases {
		res, body := get("/sdk/convo.wasm", c.accept)
		assert.Equal(t, 200, res.StatusCode, c.accept)
		assert.Equal(t, "application/wasm", res.Header.Get("Content-Type"), c.accept)
		assert.Equal(t, c.encoding, res.Header.Get("Content-Encoding"), c.accept)
		assert.Equal(t, "Accept-Encoding", res.Header.Get("Vary"), c.accept)
		assert.Equal(t, c.body, body, c.accept)
	}
	res, body := get("/sdk/index.js", "br, gzip")
	assert.Equal(t, "", res.Header.Get("Content-Encoding"), "no sibling, no encoding")
	assert.Equal(t, "export {}", body)
	assert.Contains(t, res.Header.Get("Content-Type"), "javascript")
	res, body = get("/", "br")
	assert.Equal(t, 200, res.StatusCode)
	assert.Equal(t, "<p>demo</p>", body)
	res, _ = get("/missing.js", "br")
	assert.Equal(t, 404, res.StatusCode)
}
