package servertest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/wire"
)

// Admin calls the admin REST API of a test server.
type Admin struct {
	T          *testing.T
	Base       string // the API's URL, HTTPURL + "/v1/admin"
	ID, Secret string // the API key
	NoAuth     bool   // send no credentials
}

// Admin returns a client of the server's admin API with the server's key.
func (e *Env) Admin(t *testing.T) *Admin {
	return &Admin{T: t, Base: e.HTTPURL + "/v1/admin", ID: e.Key.ID, Secret: e.Key.Secret}
}

// Raw sends a request and returns the status, headers and body.
func (a *Admin) Raw(method, path string, body any) (int, http.Header, []byte) {
	a.T.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		require.NoError(a.T, err)
		rd = bytes.NewReader(j)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, a.Base+path, rd)
	require.NoError(a.T, err)
	if !a.NoAuth {
		req.SetBasicAuth(a.ID, a.Secret)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(a.T, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(a.T, err)
	return res.StatusCode, res.Header, b
}

// Do expects a 2xx answer and decodes it into out (may be nil).
func (a *Admin) Do(method, path string, body, out any) int {
	a.T.Helper()
	st, _, b := a.Raw(method, path, body)
	require.True(a.T, st >= 200 && st < 300, "%s %s: %d %s", method, path, st, b)
	if out != nil {
		require.NoError(a.T, json.Unmarshal(b, out), string(b))
	}
	return st
}

// Fail expects an error answer with the given HTTP status and wire code.
func (a *Admin) Fail(method, path string, body any, status int, code wire.Code) string {
	a.T.Helper()
	st, h, b := a.Raw(method, path, body)
	require.Equal(a.T, status, st, "%s %s: %s", method, path, b)
	assert.Equal(a.T, "application/json", h.Get("Content-Type"))
	var e wire.Error
	require.NoError(a.T, json.Unmarshal(b, &e), string(b))
	assert.Equal(a.T, code, e.Code, "%s %s: %s", method, path, b)
	assert.NotEmpty(a.T, e.Message)
	return e.Message
}
