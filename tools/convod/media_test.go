package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/internal/s3test"
	"github.com/convo-sdk/convo/server/mediastore"
	"github.com/convo-sdk/convo/wire"
)

func TestMediaFlags(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "from-aws-env")
	t.Setenv("CONVO_S3_SECRET_KEY", "from-convo-env")
	o, err := parseFlags([]string{"--media", "s3://bucket/pre", "--s3-endpoint", "http://127.0.0.1:9000"})
	require.NoError(t, err)
	assert.Equal(t, "s3://bucket/pre", o.s3.URL)
	assert.Equal(t, "from-aws-env", o.s3.AccessKey)
	assert.Equal(t, "from-convo-env", o.s3.SecretKey)

	_, err = parseFlags([]string{"--media", "s3://bucket"})
	assert.ErrorContains(t, err, "--s3-endpoint")
	_, err = parseFlags([]string{"--media", "s3:///nobucket", "--s3-endpoint", "x:1"})
	assert.ErrorContains(t, err, "s3://BUCKET")
	o, err = parseFlags([]string{"--data", "/srv/convo"})
	require.NoError(t, err)
	assert.Equal(t, "/srv/convo/media", o.media, "the folder is the default")
	assert.Empty(t, o.s3.URL)
}

// TestMediaInS3 runs convod with --media s3://..., the credentials in the environment, and
// finds an upload in the bucket.
func TestMediaInS3(t *testing.T) {
	t.Setenv("CONVO_API_KEYS", "")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s3 := s3test.Start(t)
	t.Setenv("CONVO_S3_ACCESS_KEY", s3.AccessKey)
	t.Setenv("CONVO_S3_SECRET_KEY", s3.SecretKey)
	base, _ := start(t, "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--dev",
		"--media", "s3://convod-media/m", "--s3-endpoint", s3.Endpoint, "--s3-region", "us-east-1")

	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/media?filename=a.txt", strings.NewReader("in the bucket"))
	req.Header.Set("Authorization", "Bearer "+devToken(t, ctx, base, "alice"))
	req.Header.Set("Content-Type", "text/plain")
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusCreated, res.StatusCode)
	var m wire.Media
	require.NoError(t, json.NewDecoder(res.Body).Decode(&m))

	bucket, err := mediastore.NewS3(mediastore.S3Options{URL: "s3://convod-media/m", Endpoint: s3.Endpoint,
		Region: "us-east-1", AccessKey: s3.AccessKey, SecretKey: s3.SecretKey})
	require.NoError(t, err)
	o, err := bucket.Open(ctx, m.Sid)
	require.NoError(t, err)
	defer o.Close()
	got, err := io.ReadAll(o)
	require.NoError(t, err)
	assert.Equal(t, "in the bucket", string(got))
}
