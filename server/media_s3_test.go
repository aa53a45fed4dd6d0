package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/internal/natstest"
	"github.com/convo-sdk/convo/internal/s3test"
	"github.com/convo-sdk/convo/server"
	"github.com/convo-sdk/convo/server/auth"
	"github.com/convo-sdk/convo/server/mediastore"
	"github.com/convo-sdk/convo/server/servertest"
	"github.com/convo-sdk/convo/wire"
)

// Media in an S3-compatible object store (SeaweedFS, started by s3test on 127.0.0.1): each
// node has its own client of the bucket, as separate processes would, and no folder is shared.

// s3Media opens the bucket of srv for one node and sets its Media and MediaKey, which it
// reads from the bucket as convod does.
func s3Media(t *testing.T, srv *s3test.Server, c *server.Config) *mediastore.S3 {
	t.Helper()
	m, err := mediastore.NewS3(mediastore.S3Options{URL: "s3://convo-media/node-test", Endpoint: srv.Endpoint,
		Region: "us-east-1", AccessKey: srv.AccessKey, SecretKey: srv.SecretKey})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c.MediaKey, err = m.URLKey(ctx)
	require.NoError(t, err)
	c.Media = m
	return m
}

// upload posts body to the node at base as identity; size -1 sends it chunked (no length).
func upload(t *testing.T, ctx context.Context, base string, key auth.Key, identity string, body io.Reader, size int64) (*http.Response, wire.Media, *wire.Error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/media?filename=f.bin", body)
	require.NoError(t, err)
	req.ContentLength = size
	if size < 0 {
		req.Body = io.NopCloser(body) // hides the length, so the client sends it chunked
	}
	tok, err := auth.Mint(key, identity, time.Hour, "")
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/octet-stream")
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	var out struct {
		wire.Media
		Error *wire.Error `json:"error"`
	}
	require.NoError(t, json.NewDecoder(res.Body).Decode(&out))
	return res, out.Media, out.Error
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func TestClusterMediaInObjectStore(t *testing.T) {
	ctx := ctxT(t)
	s3 := s3test.Start(t)
	buckets := make([]*mediastore.S3, 3)
	cl := startClusterWith(t, 3, natstest.Start(t), longTimeout, func(i int, c *server.Config) { buckets[i] = s3Media(t, s3, c) })
	http0, http1, http2 := httpBase(cl, 0), httpBase(cl, 1), httpBase(cl, 2)
	alice := cl.connect(ctx, 0, "alice")
	bob := cl.connect(ctx, 1, "bob")
	conv := room(t, ctx, alice, "bob")

	// Uploaded on node 0: a small file with its length, and one larger than an S3 part sent
	// chunked, so it streams into a multipart upload.
	small, large := randomBytes(1000), randomBytes(7<<20)
	res, ms, e := upload(t, ctx, http0, cl.key, "alice", bytes.NewReader(small), int64(len(small)))
	require.Equal(t, http.StatusCreated, res.StatusCode, "%v", e)
	res, ml, e := upload(t, ctx, http0, cl.key, "alice", bytes.NewReader(large), -1)
	require.Equal(t, http.StatusCreated, res.StatusCode, "%v", e)
	assert.EqualValues(t, len(large), ml.Size)
	require.NoError(t, alice.Call(ctx, wire.OpMessageSend, wire.SendMessageArgs{ConversationSid: conv.Sid, MediaSids: []string{ms.Sid, ml.Sid}}, nil))

	// A 16 MiB upload, the most a file may be, streams: the process allocates far less than
	// the file while it passes through (one 5 MiB part at a time).
	for _, size := range []int64{16 << 20, -1} {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		res, m, e := upload(t, ctx, http0, cl.key, "alice", io.LimitReader(zeros{}, 16<<20), size)
		runtime.ReadMemStats(&after)
		require.Equal(t, http.StatusCreated, res.StatusCode, "%v", e)
		assert.EqualValues(t, 16<<20, m.Size)
		allocated := after.TotalAlloc - before.TotalAlloc
		t.Logf("a 16 MiB upload (length %d) allocated %.1f MiB", size, float64(allocated)/(1<<20))
		assert.Less(t, allocated, uint64(12<<20), "the upload was held in memory whole")
	}

	// Signed by node 1 for bob, verified and served by node 2.
	var urls wire.MediaURLs
	require.NoError(t, bob.Call(ctx, wire.OpMediaURLs, wire.MediaURLsArgs{MediaSids: []string{ms.Sid, ml.Sid}}, &urls))
	for sid, want := range map[string][]byte{ms.Sid: small, ml.Sid: large} {
		u := urls.URLs[sid]
		require.True(t, strings.HasPrefix(u, http1+"/"), u)
		res, got := get(t, http2+strings.TrimPrefix(u, http1))
		require.Equal(t, http.StatusOK, res.StatusCode, string(got))
		assert.True(t, bytes.Equal(want, got), "the content uploaded on node 0, from node 2")
		assert.Equal(t, "application/octet-stream", res.Header.Get("Content-Type"))
	}
	// A range of the large one, as a video player asks.
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, http2+strings.TrimPrefix(urls.URLs[ml.Sid], http1), nil)
	req.Header.Set("Range", "bytes=6000000-6000099")
	rres, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	part, _ := io.ReadAll(rres.Body)
	rres.Body.Close()
	assert.Equal(t, http.StatusPartialContent, rres.StatusCode)
	assert.Equal(t, large[6000000:6000100], part)
	// A tampered signature is refused by every node.
	res, _ = get(t, http0+strings.TrimPrefix(strings.Replace(urls.URLs[ms.Sid], "sig=", "sig=00", 1), http1))
	assert.Equal(t, http.StatusForbidden, res.StatusCode)

	// Removing the message (on node 0) removes both objects; the URLs then find nothing.
	var page wire.MessagePage
	require.NoError(t, alice.Call(ctx, wire.OpMessageList, wire.ListMessagesArgs{ConversationSid: conv.Sid}, &page))
	require.NoError(t, alice.Call(ctx, wire.OpMessageRemove, wire.MessageRef{ConversationSid: conv.Sid, MessageSid: page.Items[0].Sid}, nil))
	for _, sid := range []string{ms.Sid, ml.Sid} {
		_, err := buckets[2].Open(ctx, sid)
		assert.ErrorIs(t, err, mediastore.ErrNotFound, "the object is gone from the bucket")
		res, _ := get(t, http2+strings.TrimPrefix(urls.URLs[sid], http1))
		assert.Equal(t, http.StatusNotFound, res.StatusCode)
	}
}

func httpBase(c *cluster, i int) string { return c.nodes[i].hs.URL }

// zeros reads as endless zero bytes without allocating.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// stallingReader yields first, then waits for go before it yields rest.
type stallingReader struct {
	first, rest []byte
	reached     chan struct{}
	goOn        chan struct{}
}

func (s *stallingReader) Read(p []byte) (int, error) {
	if len(s.first) > 0 {
		n := copy(p, s.first)
		s.first = s.first[n:]
		return n, nil
	}
	if s.reached != nil {
		close(s.reached)
		s.reached = nil
		<-s.goOn
	}
	if len(s.rest) == 0 {
		return 0, io.EOF
	}
	n := copy(p, s.rest)
	s.rest = s.rest[n:]
	return n, nil
}

func TestMediaObjectStoreStoppedMidUpload(t *testing.T) {
	for _, tc := range []struct {
		name         string
		first, total int
		chunked      bool
	}{
		{"one PUT", 256 << 10, 1 << 20, false},
		{"multipart", 6 << 20, 9 << 20, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := ctxT(t)
			s3 := s3test.Start(t)
			var logs servertest.LogBuffer
			env := servertest.Start(t, servertest.Options{
				Logger:    slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
				Configure: func(c *server.Config) { s3Media(t, s3, c) }})
			content := randomBytes(tc.total)
			// The goroutine holds its own copies of the channels: the reader clears its field
			// once it has closed reached, possibly before the goroutine runs.
			reached, goOn := make(chan struct{}), make(chan struct{})
			body := &stallingReader{first: content[:tc.first], rest: content[tc.first:], reached: reached, goOn: goOn}
			go func() {
				<-reached
				s3.Stop() // the object store dies while the upload is half sent
				close(goOn)
			}()
			size := int64(tc.total)
			if tc.chunked {
				size = -1
			}
			res, _, e := upload(t, ctx, env.HTTPURL, env.Key, "alice", body, size)
			require.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
			require.NotNil(t, e)
			assert.Equal(t, wire.CodeUnavailable, e.Code)
			assert.Contains(t, e.Message, "media store is unavailable")
			assert.NotEmpty(t, res.Header.Get("Retry-After"))

			// No record names the missing object: nothing is left to attach or to sweep.
			swept, err := env.Store.DeleteUnattachedMedia(ctx, time.Now().Add(time.Hour), 100)
			require.NoError(t, err)
			assert.Empty(t, swept, "no media record was written")

			// The failure was logged, without the store's credentials.
			assert.Contains(t, logs.String(), "storing media failed")
			assert.NotContains(t, logs.String(), s3.SecretKey)
			assert.NotContains(t, logs.String(), s3.AccessKey)
		})
	}
}
