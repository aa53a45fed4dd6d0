package core

import (
	"encoding/base64"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHTTPOriginOfTheServerURL(t *testing.T) {
	for in, want := range map[string]string{
		"ws://127.0.0.1:8080/v1/ws":    "http://127.0.0.1:8080",
		"wss://chat.example.com/v1/ws": "https://chat.example.com",
		"WSS://chat.example.com?x=1":   "https://chat.example.com",
		"ws://[::1]:9000#frag":         "http://[::1]:9000",
		"http://example.com/":          "http://example.com",
	} {
		got, err := httpOrigin(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "example.com/ws", "ws:///path", "://x"} {
		_, err := httpOrigin(bad)
		assert.Error(t, err, bad)
	}
}

func TestQueryEscapeIsURLQueryEscape(t *testing.T) {
	for _, s := range []string{"", "media", "a b&c=d", "photo (1).png", "é漢😀", "100%~_-.", "\x00\xff/?#+"} {
		assert.Equal(t, url.QueryEscape(s), queryEscape(s), s)
	}
}

func TestFillTemplateReplacesInsideStrings(t *testing.T) {
	raw := []byte(`{"body":"Hi {{name}}, {{name}}!","n":1.50,"list":["{{x}}",{"k":"{{x}}"},null,true],"z":{}}`)
	got := fillTemplate(raw, map[string]string{"name": "Ann \"A\" <b>", "x": "1"})
	assert.Equal(t, `{"body":"Hi Ann \"A\" <b>, Ann \"A\" <b>!","n":1.50,"list":["1",{"k":"1"},null,true],"z":{}}`, string(got))
	assert.Equal(t, `{"a":`, string(fillTemplate([]byte(`{"a":`), nil)), "invalid JSON comes back unchanged")
}

func TestDecodeBase64URLIsRawURLEncoding(t *testing.T) {
	for _, s := range []string{"", "e30", "eyJpZGVudGl0eSI6ImFsaWNlIn0", "-_-_", "AA", "AAA", "A", "AB=", "a+b/", "QQ", "QR"} {
		want, err := base64.RawURLEncoding.DecodeString(s)
		got, ok := decodeBase64URL(s)
		assert.Equal(t, err == nil, ok, s)
		if err == nil {
			assert.Equal(t, want, got, s)
		}
	}
}

func TestSortStableKeepsEqualsInOrder(t *testing.T) {
	for n := range 40 {
		s := make([][2]int, n)
		for i := range s {
			s[i] = [2]int{(i * 7919) % 5, i}
		}
		sortStable(s, func(a, b [2]int) bool { return a[0] < b[0] })
		for i := 1; i < n; i++ {
			require.True(t, s[i-1][0] < s[i][0] || s[i-1][0] == s[i][0] && s[i-1][1] < s[i][1], "%v", s)
		}
	}
}
