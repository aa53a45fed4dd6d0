package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/convo-sdk/convo/server/auth"
	"github.com/convo-sdk/convo/wire"
)

const adminUsage = `usage: convoctl COMMAND [flags]

  token --identity ID [--ttl 1h] [--url ws://HOST/v1/ws] [--key-id K --secret S]

Admin API commands (server from --url or CONVO_URL, default http://127.0.0.1:8080; key from
--key-id/--secret or the first key of CONVO_API_KEYS); each prints the JSON answer:

  conversation create [--friendly-name N] [--unique-name U] [--attributes JSON] [--state S] [--inactive DUR] [--closed DUR]
  conversation list [--page-size N] [--after CURSOR]
  conversation get CONVERSATION                  (sid or unique name)
  conversation update CONVERSATION [--friendly-name N] [--unique-name U] [--attributes JSON] [--state S]
  conversation delete CONVERSATION
  participant add CONVERSATION (--identity ID | --address A [--proxy-address P]) [--attributes JSON]
  participant list CONVERSATION
  participant remove CONVERSATION PARTICIPANT    (sid or identity)
  message send CONVERSATION [--body B] [--author A] [--attributes JSON] [--subject S] [--content-sid HX...]
  message list CONVERSATION [--page-size N] [--anchor I] [--direction backwards|forward]
  user get IDENTITY
  user update IDENTITY [--friendly-name N] [--attributes JSON]
  user export IDENTITY
  user erase IDENTITY
  template create --friendly-name N [--variables JSON] [--variants JSON]
  template list [--page-size N] [--after CURSOR]
  backup --out FILE [--timeout 1h]               (SQLite store: a consistent copy, taken while it serves)`

// adminCmd is one admin API command's connection settings and flags.
type adminCmd struct {
	fs                 *flag.FlagSet
	url, keyID, secret *string
	out                io.Writer
}

func newAdminCmd(name string, out io.Writer) *adminCmd {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return &adminCmd{
		fs:     fs,
		url:    fs.String("url", os.Getenv("CONVO_URL"), "server URL, e.g. http://127.0.0.1:8080 (env CONVO_URL)"),
		keyID:  fs.String("key-id", "", "API key id (default: first key of CONVO_API_KEYS)"),
		secret: fs.String("secret", "", "API key secret"),
		out:    out,
	}
}

// parse parses flags and positional arguments in any order and checks the number of
// positional ones.
func (c *adminCmd) parse(args []string, positional ...string) ([]string, error) {
	var pos []string
	for {
		if err := c.fs.Parse(args); err != nil {
			return nil, err
		}
		args = c.fs.Args()
		if len(args) == 0 {
			break
		}
		pos, args = append(pos, args[0]), args[1:]
	}
	if len(pos) != len(positional) {
		return nil, fmt.Errorf("%s: want %s", c.fs.Name(), strings.Join(append([]string{"arguments"}, positional...), " "))
	}
	return pos, nil
}

func (c *adminCmd) base() (string, error) {
	u := strings.TrimRight(*c.url, "/")
	if u == "" {
		u = "http://127.0.0.1:8080"
	}
	u = strings.TrimSuffix(u, "/v1/ws")
	switch {
	case strings.HasPrefix(u, "ws://"):
		u = "http://" + strings.TrimPrefix(u, "ws://")
	case strings.HasPrefix(u, "wss://"):
		u = "https://" + strings.TrimPrefix(u, "wss://")
	}
	if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return "", fmt.Errorf("--url %q is not an http(s) URL", *c.url)
	}
	return u + "/v1/admin", nil
}

func (c *adminCmd) key() (auth.Key, error) {
	switch {
	case *c.keyID != "" && *c.secret != "":
		return auth.Key{ID: *c.keyID, Secret: *c.secret}, nil
	case *c.keyID != "" || *c.secret != "":
		return auth.Key{}, errors.New("--key-id and --secret go together")
	case os.Getenv("CONVO_API_KEYS") != "":
		kr, err := auth.ParseKeyring(os.Getenv("CONVO_API_KEYS"))
		if err != nil {
			return auth.Key{}, err
		}
		return kr.Primary(), nil
	}
	return auth.Key{}, errors.New("give --key-id and --secret, or set CONVO_API_KEYS")
}

// request makes an admin API request for path (below the API's base), signed with the key.
func (c *adminCmd) request(method, path string, body io.Reader) (*http.Request, error) {
	base, err := c.base()
	if err != nil {
		return nil, err
	}
	key, err := c.key()
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequest(method, base+path, body)
	if err != nil {
		return nil, err
	}
	req.SetBasicAuth(key.ID, key.Secret)
	return req, nil
}

// call sends one admin request and prints the JSON answer indented.
func (c *adminCmd) call(method, path string, query url.Values, body any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	if len(query) > 0 {
		path += "?" + query.Encode()
	}
	req, err := c.request(method, path, rd)
	if err != nil {
		return err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 16<<20))
	if err != nil {
		return err
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return errorAnswer(res, b)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, b, "", "  "); err != nil {
		_, err = c.out.Write(b)
		return err
	}
	pretty.WriteByte('\n')
	_, err = c.out.Write(pretty.Bytes())
	return err
}

// errorAnswer is the error an answer other than 2xx reports, with body b.
func errorAnswer(res *http.Response, b []byte) error {
	var e struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(b, &e) == nil && e.Code != 0 {
		return fmt.Errorf("%s (code %d, HTTP %d)", e.Message, e.Code, res.StatusCode)
	}
	return fmt.Errorf("HTTP %s", res.Status)
}

// jsonFlag is a flag holding raw JSON, checked when set.
type jsonFlag struct{ v wire.RawJSON }

func (j *jsonFlag) String() string { return string(j.v) }
func (j *jsonFlag) Set(s string) error {
	if !json.Valid([]byte(s)) {
		return errors.New("not valid JSON")
	}
	j.v = wire.RawJSON(s)
	return nil
}

// optString is a string flag that remembers whether it was given.
type optString struct{ v *string }

func (o *optString) String() string {
	if o.v == nil {
		return ""
	}
	return *o.v
}
func (o *optString) Set(s string) error { o.v = &s; return nil }

func setIf(m map[string]any, key string, o optString) {
	if o.v != nil {
		m[key] = *o.v
	}
}

func setJSON(m map[string]any, key string, j jsonFlag) {
	if j.v != nil {
		m[key] = j.v
	}
}

func esc(s string) string { return url.PathEscape(s) }

func pageQuery(c *adminCmd) func() url.Values {
	size := c.fs.Int("page-size", 0, "page size (1-100)")
	after := c.fs.String("after", "", "cursor: the next of the previous page")
	return func() url.Values {
		q := url.Values{}
		if *size != 0 {
			q.Set("pageSize", fmt.Sprint(*size))
		}
		if *after != "" {
			q.Set("after", *after)
		}
		return q
	}
}

func conversationCmd(args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New(adminUsage)
	}
	c := newAdminCmd("conversation "+args[0], out)
	var friendly, unique, state, inactive, closed optString
	var attrs jsonFlag
	switch args[0] {
	case "create", "update":
		c.fs.Var(&friendly, "friendly-name", "friendly name")
		c.fs.Var(&unique, "unique-name", "unique name")
		c.fs.Var(&attrs, "attributes", "attributes (JSON)")
		c.fs.Var(&state, "state", "active, inactive or closed")
		c.fs.Var(&inactive, "inactive", "inactive timer, e.g. 10m or PT10M")
		c.fs.Var(&closed, "closed", "closed timer, e.g. 24h or P1D")
		body := map[string]any{}
		want := []string{}
		if args[0] == "update" {
			want = []string{"CONVERSATION"}
		}
		pos, err := c.parse(args[1:], want...)
		if err != nil {
			return err
		}
		setIf(body, "friendlyName", friendly)
		setIf(body, "uniqueName", unique)
		setIf(body, "state", state)
		setJSON(body, "attributes", attrs)
		if inactive.v != nil || closed.v != nil {
			body["timers"] = map[string]string{"inactive": inactive.String(), "closed": closed.String()}
		}
		if args[0] == "create" {
			return c.call("POST", "/conversations", nil, body)
		}
		return c.call("PATCH", "/conversations/"+esc(pos[0]), nil, body)
	case "list":
		q := pageQuery(c)
		if _, err := c.parse(args[1:]); err != nil {
			return err
		}
		return c.call("GET", "/conversations", q(), nil)
	case "get", "delete":
		pos, err := c.parse(args[1:], "CONVERSATION")
		if err != nil {
			return err
		}
		method := map[string]string{"get": "GET", "delete": "DELETE"}[args[0]]
		return c.call(method, "/conversations/"+esc(pos[0]), nil, nil)
	}
	return fmt.Errorf("unknown command conversation %q\n%s", args[0], adminUsage)
}

func participantCmd(args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New(adminUsage)
	}
	c := newAdminCmd("participant "+args[0], out)
	switch args[0] {
	case "add":
		var identity, address, proxy optString
		var attrs jsonFlag
		c.fs.Var(&identity, "identity", "chat participant identity")
		c.fs.Var(&address, "address", "non-chat participant address (+1555..., whatsapp:+1555..., name@example.com)")
		c.fs.Var(&proxy, "proxy-address", "the conversation's address towards a non-chat participant")
		c.fs.Var(&attrs, "attributes", "attributes (JSON)")
		pos, err := c.parse(args[1:], "CONVERSATION")
		if err != nil {
			return err
		}
		body := map[string]any{}
		setIf(body, "identity", identity)
		setIf(body, "address", address)
		setIf(body, "proxyAddress", proxy)
		setJSON(body, "attributes", attrs)
		return c.call("POST", "/conversations/"+esc(pos[0])+"/participants", nil, body)
	case "list":
		pos, err := c.parse(args[1:], "CONVERSATION")
		if err != nil {
			return err
		}
		return c.call("GET", "/conversations/"+esc(pos[0])+"/participants", nil, nil)
	case "remove":
		pos, err := c.parse(args[1:], "CONVERSATION", "PARTICIPANT")
		if err != nil {
			return err
		}
		return c.call("DELETE", "/conversations/"+esc(pos[0])+"/participants/"+esc(pos[1]), nil, nil)
	}
	return fmt.Errorf("unknown command participant %q\n%s", args[0], adminUsage)
}

func messageCmd(args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New(adminUsage)
	}
	c := newAdminCmd("message "+args[0], out)
	switch args[0] {
	case "send":
		var body, author, subject, content optString
		var attrs jsonFlag
		c.fs.Var(&body, "body", "message body")
		c.fs.Var(&author, "author", "author (default: system)")
		c.fs.Var(&subject, "subject", "subject (email)")
		c.fs.Var(&content, "content-sid", "content template sid")
		c.fs.Var(&attrs, "attributes", "attributes (JSON)")
		pos, err := c.parse(args[1:], "CONVERSATION")
		if err != nil {
			return err
		}
		m := map[string]any{}
		setIf(m, "body", body)
		setIf(m, "author", author)
		setIf(m, "subject", subject)
		setIf(m, "contentSid", content)
		setJSON(m, "attributes", attrs)
		return c.call("POST", "/conversations/"+esc(pos[0])+"/messages", nil, m)
	case "list":
		size := c.fs.Int("page-size", 0, "page size (1-100)")
		anchor := c.fs.Int("anchor", -1, "message index the page ends (backwards) or starts (forward) at")
		dir := c.fs.String("direction", "", "backwards (default) or forward")
		pos, err := c.parse(args[1:], "CONVERSATION")
		if err != nil {
			return err
		}
		q := url.Values{}
		if *size != 0 {
			q.Set("pageSize", fmt.Sprint(*size))
		}
		if *anchor >= 0 {
			q.Set("anchor", fmt.Sprint(*anchor))
		}
		if *dir != "" {
			q.Set("direction", *dir)
		}
		return c.call("GET", "/conversations/"+esc(pos[0])+"/messages", q, nil)
	}
	return fmt.Errorf("unknown command message %q\n%s", args[0], adminUsage)
}

func userCmd(args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New(adminUsage)
	}
	c := newAdminCmd("user "+args[0], out)
	switch args[0] {
	case "get":
		pos, err := c.parse(args[1:], "IDENTITY")
		if err != nil {
			return err
		}
		return c.call("GET", "/users/"+esc(pos[0]), nil, nil)
	case "update":
		var friendly optString
		var attrs jsonFlag
		c.fs.Var(&friendly, "friendly-name", "friendly name")
		c.fs.Var(&attrs, "attributes", "attributes (JSON)")
		pos, err := c.parse(args[1:], "IDENTITY")
		if err != nil {
			return err
		}
		body := map[string]any{}
		setIf(body, "friendlyName", friendly)
		setJSON(body, "attributes", attrs)
		return c.call("PATCH", "/users/"+esc(pos[0]), nil, body)
	case "export":
		pos, err := c.parse(args[1:], "IDENTITY")
		if err != nil {
			return err
		}
		return c.call("GET", "/users/"+esc(pos[0])+"/export", nil, nil)
	case "erase":
		pos, err := c.parse(args[1:], "IDENTITY")
		if err != nil {
			return err
		}
		return c.call("DELETE", "/users/"+esc(pos[0])+"/data", nil, nil)
	}
	return fmt.Errorf("unknown command user %q\n%s", args[0], adminUsage)
}

func templateCmd(args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New(adminUsage)
	}
	c := newAdminCmd("template "+args[0], out)
	switch args[0] {
	case "create":
		var friendly optString
		var vars, variants jsonFlag
		c.fs.Var(&friendly, "friendly-name", "friendly name")
		c.fs.Var(&vars, "variables", `variables (JSON), e.g. [{"name":"1","value":"friend"}]`)
		c.fs.Var(&variants, "variants", `variants (JSON), e.g. {"twilio/text":{"body":"Hi {{1}}"}}`)
		if _, err := c.parse(args[1:]); err != nil {
			return err
		}
		body := map[string]any{}
		setIf(body, "friendlyName", friendly)
		setJSON(body, "variables", vars)
		setJSON(body, "variants", variants)
		return c.call("POST", "/content", nil, body)
	case "list":
		q := pageQuery(c)
		if _, err := c.parse(args[1:]); err != nil {
			return err
		}
		return c.call("GET", "/content", q(), nil)
	}
	return fmt.Errorf("unknown command template %q\n%s", args[0], adminUsage)
}
