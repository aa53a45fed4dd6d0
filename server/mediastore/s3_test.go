package mediastore_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/internal/s3test"
	"github.com/convo-sdk/convo/server/mediastore"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func newS3(t *testing.T, srv *s3test.Server, url string) *mediastore.S3 {
	t.Helper()
	s, err := mediastore.NewS3(mediastore.S3Options{URL: url, Endpoint: srv.Endpoint, Region: "us-east-1",
		AccessKey: srv.AccessKey, SecretKey: srv.SecretKey})
	require.NoError(t, err)
	return s
}

// failingReader yields n bytes, then fails as a cut connection would.
type failingReader struct{ n int }

var errCut = errors.New("connection cut")

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n == 0 {
		return 0, errCut
	}
	k := min(len(p), f.n)
	f.n -= k
	return k, nil
}

func TestS3(t *testing.T) {
	ctx := ctxT(t)
	srv := s3test.Start(t)
	a := newS3(t, srv, "s3://media/convo")

	// The first URLKey creates the bucket and the key; another client of the same bucket
	// and prefix reads the same key, another prefix has its own.
	key, err := a.URLKey(ctx)
	require.NoError(t, err)
	assert.Len(t, key, 32)
	b := newS3(t, srv, "s3://media/convo/")
	again, err := b.URLKey(ctx)
	require.NoError(t, err)
	assert.Equal(t, key, again)
	other, err := newS3(t, srv, "s3://media/other").URLKey(ctx)
	require.NoError(t, err)
	assert.NotEqual(t, key, other)
	assert.NotContains(t, a.String(), srv.SecretKey)
	assert.NotContains(t, a.String(), srv.AccessKey)

	t.Run("put, open from another client, remove", func(t *testing.T) {
		for _, tc := range []struct {
			name  string
			size  int
			known bool
		}{{"small, size known", 1000, true}, {"empty", 0, true}, {"multipart, size unknown", 11 << 20, false}, {"multipart, size known", 6 << 20, true}} {
			content := make([]byte, tc.size)
			_, _ = rand.Read(content)
			size := int64(-1)
			if tc.known {
				size = int64(tc.size)
			}
			sid := "ME" + tc.name
			n, err := a.Put(ctx, sid, bytes.NewReader(content), size, "image/png")
			require.NoError(t, err, tc.name)
			assert.Equal(t, int64(tc.size), n, tc.name)
			o, err := b.Open(ctx, sid)
			require.NoError(t, err, tc.name)
			got, err := io.ReadAll(o)
			require.NoError(t, err)
			assert.True(t, bytes.Equal(content, got), tc.name)
			// Seeking serves HTTP ranges.
			if tc.size > 10 {
				_, err = o.Seek(5, io.SeekStart)
				require.NoError(t, err)
				part := make([]byte, 5)
				_, err = io.ReadFull(o, part)
				require.NoError(t, err)
				assert.Equal(t, content[5:10], part)
			}
			require.NoError(t, o.Close())
			require.NoError(t, b.Remove(ctx, sid))
			_, err = a.Open(ctx, sid)
			assert.ErrorIs(t, err, mediastore.ErrNotFound, tc.name)
			assert.NoError(t, a.Remove(ctx, sid), "removing what is gone is no error")
		}
	})

	t.Run("an upload whose reader fails leaves no object", func(t *testing.T) {
		for _, n := range []int{100, 7 << 20} { // one PUT, multipart
			_, err := a.Put(ctx, "MEcut", &failingReader{n: n}, -1, "text/plain")
			require.ErrorIs(t, err, errCut, "the reader's own error, not the store's")
			assert.NotErrorIs(t, err, mediastore.ErrUnavailable)
			_, err = a.Open(ctx, "MEcut")
			assert.ErrorIs(t, err, mediastore.ErrNotFound)
		}
		// Nothing incomplete stays behind either: the multipart upload was aborted.
		require.NoError(t, a.SweepIncomplete(ctx, time.Now().Add(time.Hour)))
	})

	t.Run("nodes starting together agree on one key", func(t *testing.T) {
		const n = 5
		keys := make([][]byte, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				k, err := newS3(t, srv, "s3://media/race").URLKey(ctx)
				assert.NoError(t, err)
				keys[i] = k
			})
		}
		wg.Wait()
		for i := 1; i < n; i++ {
			assert.Equal(t, keys[0], keys[i], "node %d", i)
		}
		// They agree because the server refuses a second conditional write of the key.
		c, err := minio.New(strings.TrimPrefix(srv.Endpoint, "http://"), &minio.Options{
			Creds: credentials.NewStaticV4(srv.AccessKey, srv.SecretKey, ""), Region: "us-east-1"})
		require.NoError(t, err)
		opts := minio.PutObjectOptions{}
		opts.SetMatchETagExcept("*")
		_, err = c.PutObject(ctx, "media", "race/.media-url.key", strings.NewReader("00"), 2, opts)
		assert.Equal(t, http.StatusPreconditionFailed, minio.ToErrorResponse(err).StatusCode, "%v", err)
	})

	t.Run("a stopped store is unavailable", func(t *testing.T) {
		down := s3test.Start(t)
		s := newS3(t, down, "s3://media")
		_, err := s.URLKey(ctx)
		require.NoError(t, err)
		down.Stop()
		_, err = s.Put(ctx, "MEx", bytes.NewReader([]byte("hello")), 5, "text/plain")
		assert.ErrorIs(t, err, mediastore.ErrUnavailable)
		_, err = s.Open(ctx, "MEx")
		assert.ErrorIs(t, err, mediastore.ErrUnavailable)
		assert.ErrorIs(t, s.Remove(ctx, "MEx"), mediastore.ErrUnavailable)
	})
}

func TestParseS3URL(t *testing.T) {
	for in, want := range map[string][2]string{
		"s3://b": {"b", ""}, "s3://b/": {"b", ""}, "s3://b/p": {"b", "p/"}, "s3://b/p/q/": {"b", "p/q/"},
	} {
		bucket, prefix, err := mediastore.ParseS3URL(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, [2]string{bucket, prefix}, in)
	}
	for _, bad := range []string{"", "b/p", "http://b/p", "s3:///p", "s3://key:secret@b/p", "s3://b/p?x=1"} {
		_, _, err := mediastore.ParseS3URL(bad)
		assert.Error(t, err, bad)
	}
	_, err := mediastore.NewS3(mediastore.S3Options{URL: "s3://b"})
	assert.ErrorContains(t, err, "endpoint")
}
