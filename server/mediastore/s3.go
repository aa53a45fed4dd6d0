package mediastore

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// s3PartSize is the part size of multipart uploads, S3's minimum: an upload of unknown
// length (or longer than this) holds at most one part in memory.
const s3PartSize = 5 << 20

// urlKeyObject names the media URL key inside the prefix; sids never start with a dot.
const urlKeyObject = ".media-url.key"

// S3Options locate an S3-compatible bucket and the credentials to use it.
type S3Options struct {
	// URL is s3://BUCKET or s3://BUCKET/PREFIX; objects are named PREFIX/SID.
	URL string
	// Endpoint is host:port, or an http:// or https:// URL (plain host:port means https).
	Endpoint string
	// Region is the bucket's region; empty lets the client ask the server.
	Region string
	// AccessKey and SecretKey sign the requests; empty uses anonymous access.
	AccessKey, SecretKey string
	// Transport carries the requests; nil is minio-go's default.
	Transport http.RoundTripper
}

// S3 keeps media as objects PREFIX/SID in an S3-compatible bucket, and the URL key as the
// object PREFIX/.media-url.key. Whoever can read the bucket could read every media anyway,
// so the key there reveals nothing more.
type S3 struct {
	c              *minio.Client
	bucket, prefix string
	endpoint       string
}

// ParseS3URL splits s3://BUCKET/PREFIX into the bucket and the prefix ("" or ending in "/").
func ParseS3URL(s string) (bucket, prefix string, err error) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "s3" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", "", fmt.Errorf("media store %q: want s3://BUCKET or s3://BUCKET/PREFIX", s)
	}
	prefix = strings.Trim(u.Path, "/")
	if prefix != "" {
		prefix += "/"
	}
	return u.Host, prefix, nil
}

// NewS3 builds the client; it makes no request (URLKey, at startup, is the first).
func NewS3(o S3Options) (*S3, error) {
	bucket, prefix, err := ParseS3URL(o.URL)
	if err != nil {
		return nil, err
	}
	if o.Endpoint == "" {
		return nil, errors.New("the S3 media store needs an endpoint (host:port or an http(s) URL)")
	}
	host, secure := o.Endpoint, true
	if u, err := url.Parse(o.Endpoint); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		if u.Host == "" || (u.Path != "" && u.Path != "/") {
			return nil, fmt.Errorf("S3 endpoint %q: want scheme://host[:port] with no path", o.Endpoint)
		}
		host, secure = u.Host, u.Scheme == "https"
	}
	c, err := minio.New(host, &minio.Options{
		Creds:     credentials.NewStaticV4(o.AccessKey, o.SecretKey, ""),
		Secure:    secure,
		Region:    o.Region,
		Transport: o.Transport,
		// A request fails within seconds when the store is down, rather than after
		// minio-go's ten retries.
		MaxRetries: 2,
	})
	if err != nil {
		return nil, fmt.Errorf("S3 endpoint %q: %v", o.Endpoint, err)
	}
	scheme := "https"
	if !secure {
		scheme = "http"
	}
	return &S3{c: c, bucket: bucket, prefix: prefix, endpoint: scheme + "://" + host}, nil
}

func (s *S3) String() string { return "s3://" + s.bucket + "/" + s.prefix + " at " + s.endpoint }

func (s *S3) key(sid string) string { return s.prefix + sid }

// Put streams r into the bucket: one PUT when its size is known and at most s3PartSize,
// else a multipart upload in s3PartSize parts, which minio-go aborts on an error, so no
// object appears.
func (s *S3) Put(ctx context.Context, sid string, r io.Reader, size int64, contentType string) (int64, error) {
	src := &source{r: r}
	_, err := s.c.PutObject(ctx, s.bucket, s.key(sid), src, size, minio.PutObjectOptions{
		ContentType: contentType, PartSize: s3PartSize})
	if err != nil {
		return src.n, src.blame(err)
	}
	return src.n, nil
}

// Open fetches the object's first bytes (minio-go reads lazily), so a missing object or a
// store that is down is known before anything is sent to the client.
func (s *S3) Open(ctx context.Context, sid string) (Object, error) {
	o, err := s.c.GetObject(ctx, s.bucket, s.key(sid), minio.GetObjectOptions{})
	if err == nil {
		_, err = o.Stat()
	}
	if err != nil {
		if o != nil {
			o.Close()
		}
		if notFound(err) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return o, nil
}

func (s *S3) Remove(ctx context.Context, sid string) error {
	if err := s.c.RemoveObject(ctx, s.bucket, s.key(sid), minio.RemoveObjectOptions{}); err != nil && !notFound(err) {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return nil
}

// SweepIncomplete aborts multipart uploads under the prefix started before the given time
// (a node that died mid-upload leaves its parts behind).
func (s *S3) SweepIncomplete(ctx context.Context, before time.Time) error {
	var errs []error
	for u := range s.c.ListIncompleteUploads(ctx, s.bucket, s.prefix, true) {
		if u.Err != nil {
			return fmt.Errorf("%w: listing incomplete uploads: %v", ErrUnavailable, u.Err)
		}
		if !u.Initiated.Before(before) || strings.HasSuffix(u.Key, urlKeyObject) {
			continue
		}
		if err := s.c.RemoveIncompleteUpload(ctx, s.bucket, u.Key); err != nil && !notFound(err) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// URLKey reads the key object, creating the bucket when missing and the key on first use.
// The key is written only if absent (If-None-Match: *): of nodes starting together, one
// writes it and the others read the winner's.
func (s *S3) URLKey(ctx context.Context) ([]byte, error) {
	for range 3 {
		k, err := s.readKey(ctx)
		if err == nil {
			return k, nil
		}
		if !errors.Is(err, ErrNotFound) {
			return nil, err
		}
		if err := s.ensureBucket(ctx); err != nil {
			return nil, err
		}
		k = make([]byte, urlKeyBytes)
		_, _ = rand.Read(k)
		body := []byte(hex.EncodeToString(k) + "\n")
		opts := minio.PutObjectOptions{ContentType: "text/plain"}
		opts.SetMatchETagExcept("*")
		_, err = s.c.PutObject(ctx, s.bucket, s.key(urlKeyObject), bytes.NewReader(body), int64(len(body)), opts)
		if err == nil {
			return k, nil
		}
		if code := minio.ToErrorResponse(err).StatusCode; code != http.StatusPreconditionFailed && code != http.StatusConflict {
			return nil, fmt.Errorf("%w: writing the media URL key: %v", ErrUnavailable, err)
		}
		// Another node wrote it first: read theirs.
	}
	return nil, fmt.Errorf("%w: the media URL key could not be read back", ErrUnavailable)
}

func (s *S3) readKey(ctx context.Context) ([]byte, error) {
	o, err := s.Open(ctx, urlKeyObject)
	if err != nil {
		return nil, err
	}
	defer o.Close()
	b, err := io.ReadAll(io.LimitReader(o, 1024))
	if err != nil {
		return nil, fmt.Errorf("%w: reading the media URL key: %v", ErrUnavailable, err)
	}
	k, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(k) < 16 {
		return nil, fmt.Errorf("%s%s: want at least 32 hex digits", s.prefix, urlKeyObject)
	}
	return k, nil
}

func (s *S3) ensureBucket(ctx context.Context) error {
	ok, err := s.c.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("%w: checking bucket %q: %v", ErrUnavailable, s.bucket, err)
	}
	if ok {
		return nil
	}
	if err := s.c.MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{}); err != nil {
		code := minio.ToErrorResponse(err).Code
		if code != "BucketAlreadyOwnedByYou" && code != "BucketAlreadyExists" {
			return fmt.Errorf("bucket %q does not exist and could not be created (create it, or give these credentials s3:CreateBucket): %v", s.bucket, err)
		}
	}
	return nil
}

func notFound(err error) bool {
	code := minio.ToErrorResponse(err).Code
	return code == "NoSuchKey" || code == "NoSuchObject" || code == "NotFound"
}
