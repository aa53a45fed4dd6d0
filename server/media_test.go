package server_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/server"
	"github.com/convo-sdk/convo/server/servertest"
	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/wire"
)

func get(t *testing.T, u string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctxT(t), http.MethodGet, u, nil)
	require.NoError(t, err)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res, b
}

func TestMediaUploadAndURLs(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t, servertest.Options{Configure: func(c *server.Config) { c.MaxMediaBytes = 1000 }})
	alice := env.Connect(ctx, "alice")
	bob := env.Connect(ctx, "bob")
	carol := env.Connect(ctx, "carol")
	conv := room(t, ctx, alice, "bob")

	content := []byte("hello, file")
	m, err := env.Upload(ctx, "alice", "../../etc/pa\x01ss\nwd é.txt", wire.MediaCategoryMedia, "text/plain; charset=utf-8", content)
	require.NoError(t, err)
	assert.Regexp(t, `^ME[0-9a-f]{32}$`, m.Sid)
	assert.Equal(t, "passwd é.txt", m.Filename, "path components and control characters are stripped")
	assert.Equal(t, "text/plain; charset=utf-8", m.ContentType)
	assert.EqualValues(t, len(content), m.Size)
	assert.Equal(t, wire.MediaCategoryMedia, m.Category)
	stored, err := os.ReadFile(filepath.Join(env.MediaDir, m.Sid))
	require.NoError(t, err, "stored by sid, never by the user's name")
	assert.Equal(t, content, stored)

	long, err := env.Upload(ctx, "alice", strings.Repeat("x", 300)+`\dir\name`, "", "", []byte("x"))
	require.NoError(t, err)
	assert.Equal(t, "name", long.Filename)
	assert.Equal(t, "application/octet-stream", long.ContentType)
	long, err = env.Upload(ctx, "alice", strings.Repeat("é", 300), "", "", []byte("x"))
	require.NoError(t, err)
	assert.Equal(t, strings.Repeat("é", 256), long.Filename)

	_, err = env.Upload(ctx, "alice", "big", "", "", make([]byte, 1001))
	assert.Equal(t, wire.CodeTooLarge, code(t, err))
	_, err = env.Upload(ctx, "alice", "x", "video", "", []byte("x"))
	assert.Equal(t, wire.CodeBadRequest, code(t, err))

	// The token goes in the header only.
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, env.HTTPURL+"/v1/media?token="+url.QueryEscape(env.Token("alice", time.Hour)), bytes.NewReader([]byte("x")))
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
	req, _ = http.NewRequestWithContext(ctx, http.MethodPost, env.HTTPURL+"/v1/media", bytes.NewReader([]byte("x")))
	res, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	req, _ = http.NewRequestWithContext(ctx, http.MethodPost, env.HTTPURL+"/v1/media", bytes.NewReader([]byte("x")))
	req.Header.Set("Authorization", "Bearer "+expiredToken(t, env.Key))
	res, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	var body struct{ Error wire.Error }
	require.NoError(t, json.NewDecoder(res.Body).Decode(&body))
	res.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	assert.Equal(t, wire.CodeTokenExpired, body.Error.Code)

	// Before it is attached only the uploader may read it.
	var urls wire.MediaURLs
	assert.Equal(t, wire.CodeForbidden, code(t, bob.Call(ctx, wire.OpMediaURLs, wire.MediaURLsArgs{MediaSids: []string{m.Sid}}, nil)))
	require.NoError(t, alice.Call(ctx, wire.OpMediaURLs, wire.MediaURLsArgs{MediaSids: []string{m.Sid}}, &urls))
	assert.WithinDuration(t, time.Now().Add(5*time.Minute), urls.Expires, 5*time.Second)
	require.NoError(t, alice.Call(ctx, wire.OpMessageSend, wire.SendMessageArgs{ConversationSid: conv.Sid, MediaSids: []string{m.Sid}}, nil))
	assert.Equal(t, wire.CodeForbidden, code(t, carol.Call(ctx, wire.OpMediaURLs, wire.MediaURLsArgs{MediaSids: []string{m.Sid}}, nil)), "not a participant")
	assert.Equal(t, wire.CodeNotFound, code(t, bob.Call(ctx, wire.OpMediaURLs, wire.MediaURLsArgs{MediaSids: []string{"MEnope"}}, nil)))
	require.NoError(t, bob.Call(ctx, wire.OpMediaURLs, wire.MediaURLsArgs{MediaSids: []string{m.Sid}}, &urls))
	u := urls.URLs[m.Sid]
	require.True(t, strings.HasPrefix(u, env.HTTPURL+"/v1/media/"+m.Sid+"/content?"), u)

	res, got := get(t, u)
	require.Equal(t, http.StatusOK, res.StatusCode, string(got))
	assert.Equal(t, content, got)
	assert.Equal(t, "text/plain; charset=utf-8", res.Header.Get("Content-Type"))
	assert.Equal(t, "attachment; filename*=UTF-8''passwd%20%C3%A9.txt", res.Header.Get("Content-Disposition"))
	assert.Equal(t, "nosniff", res.Header.Get("X-Content-Type-Options"))

	// Tampered and expired URLs are refused.
	pu, err := url.Parse(u)
	require.NoError(t, err)
	q := pu.Query()
	sig := q.Get("sig")
	flipped := []byte(sig)
	flipped[0] ^= 1
	if flipped[0] == sig[0] {
		flipped[0] = 'a'
	}
	q.Set("sig", string(flipped))
	pu.RawQuery = q.Encode()
	res, _ = get(t, pu.String())
	assert.Equal(t, http.StatusForbidden, res.StatusCode, "tampered signature")
	q.Set("sig", sig)
	exp, _ := strconv.ParseInt(q.Get("expires"), 10, 64)
	q.Set("expires", strconv.FormatInt(exp+3600, 10))
	pu.RawQuery = q.Encode()
	res, _ = get(t, pu.String())
	assert.Equal(t, http.StatusForbidden, res.StatusCode, "extended expiry")
	other := strings.Replace(u, m.Sid, long.Sid, 1)
	res, _ = get(t, other)
	assert.Equal(t, http.StatusForbidden, res.StatusCode, "another media with this signature")
	res, _ = get(t, strings.Split(u, "?")[0])
	assert.Equal(t, http.StatusForbidden, res.StatusCode, "unsigned")
	// Expired: correctly signed, but its time has passed.
	expired := env.Server.MediaURLForTest(env.HTTPURL, m.Sid, time.Now().Add(-time.Second))
	res, b := get(t, expired)
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	assert.Contains(t, string(b), "expired")

	// Deleting the message deletes the file.
	var page wire.MessagePage
	require.NoError(t, alice.Call(ctx, wire.OpMessageList, wire.ListMessagesArgs{ConversationSid: conv.Sid}, &page))
	require.NoError(t, alice.Call(ctx, wire.OpMessageRemove, wire.MessageRef{ConversationSid: conv.Sid, MessageSid: page.Items[0].Sid}, nil))
	_, err = os.Stat(filepath.Join(env.MediaDir, m.Sid))
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestMediaCORS(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t, servertest.Options{Configure: func(c *server.Config) { c.AllowedOrigins = []string{"app.example.com"} }})
	pre := func(origin string) *http.Response {
		req, _ := http.NewRequestWithContext(ctx, http.MethodOptions, env.HTTPURL+"/v1/media", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		return res
	}
	res := pre("https://app.example.com")
	assert.Equal(t, http.StatusNoContent, res.StatusCode)
	assert.Equal(t, "https://app.example.com", res.Header.Get("Access-Control-Allow-Origin"))
	assert.Contains(t, res.Header.Get("Access-Control-Allow-Headers"), "Authorization")
	assert.Equal(t, http.StatusForbidden, pre("https://evil.example.org").StatusCode)

	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, env.HTTPURL+"/v1/media?filename=a", bytes.NewReader([]byte("x")))
	req.Header.Set("Origin", "https://evil.example.org")
	req.Header.Set("Authorization", "Bearer "+env.Token("alice", time.Hour))
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	req, _ = http.NewRequestWithContext(ctx, http.MethodPost, env.HTTPURL+"/v1/media?filename=a", bytes.NewReader([]byte("x")))
	req.Header.Set("Origin", "https://app.example.com")
	req.Header.Set("Authorization", "Bearer "+env.Token("alice", time.Hour))
	res, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusCreated, res.StatusCode)
	assert.Equal(t, "https://app.example.com", res.Header.Get("Access-Control-Allow-Origin"))
}

// Format characters such as U+202E (right-to-left override) are dropped from file names.
func TestMediaFilenameDropsFormatCharacters(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t)
	m, err := env.Upload(ctx, "alice", "invoice\u202Efdp.exe", "", "", []byte("x"))
	require.NoError(t, err)
	assert.Equal(t, "invoicefdp.exe", m.Filename)
	m, err = env.Upload(ctx, "alice", "a\u200bb\ufeffc\u2066d.txt", "", "", []byte("x"))
	require.NoError(t, err)
	assert.Equal(t, "abcd.txt", m.Filename)
}

// The sweeper deletes media never attached to a message once UnattachedMediaTTL has passed
// (record and file) and stale temporary upload files; attached media and fresh temporary
// files stay.
func TestMediaSweeper(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t, servertest.Options{Configure: func(c *server.Config) {
		c.UnattachedMediaTTL, c.MediaSweepInterval = 2*time.Second, 50*time.Millisecond
	}})
	alice := env.Connect(ctx, "alice")
	conv := room(t, ctx, alice)
	orphan, err := env.Upload(ctx, "alice", "orphan.txt", "", "text/plain", []byte("nobody wants me"))
	require.NoError(t, err)
	kept, err := env.Upload(ctx, "alice", "kept.txt", "", "text/plain", []byte("attached"))
	require.NoError(t, err)
	require.NoError(t, alice.Call(ctx, wire.OpMessageSend, wire.SendMessageArgs{ConversationSid: conv.Sid, MediaSids: []string{kept.Sid}}, nil))
	stale := filepath.Join(env.MediaDir, ".upload-stale")
	fresh := filepath.Join(env.MediaDir, ".upload-fresh")
	require.NoError(t, os.WriteFile(stale, []byte("half"), 0o600))
	require.NoError(t, os.WriteFile(fresh, []byte("half"), 0o600))
	old := time.Now().Add(-2 * time.Hour)
	require.NoError(t, os.Chtimes(stale, old, old))

	gone := func(path string) bool {
		_, err := os.Stat(path)
		return errors.Is(err, os.ErrNotExist)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, err := env.Store.Media(ctx, orphan.Sid)
		if errors.Is(err, store.ErrNotFound) && gone(filepath.Join(env.MediaDir, orphan.Sid)) && gone(stale) {
			break
		}
		require.True(t, time.Now().Before(deadline), "the orphan media and the stale upload file were not swept")
		time.Sleep(20 * time.Millisecond)
	}
	assert.Equal(t, wire.CodeNotFound, code(t, alice.Call(ctx, wire.OpMediaURLs, wire.MediaURLsArgs{MediaSids: []string{orphan.Sid}}, nil)))
	_, err = env.Store.Media(ctx, kept.Sid)
	require.NoError(t, err, "attached media stays")
	assert.FileExists(t, filepath.Join(env.MediaDir, kept.Sid))
	assert.FileExists(t, fresh, "an upload in progress is left alone")
}
