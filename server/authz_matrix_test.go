package server_test

// The authorization matrix: every protocol op (the set is parsed from wire at test
// time, so a new op without a row fails here) against every kind of caller, every admin
// route (parsed from server/routes.go) against every kind of credential, and every op
// on a WebSocket whose hello is missing or carries a bad token. Expectations follow
// docs/PROTOCOL.md ("who may call") and docs/ADMIN-API.md ("Authentication").

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/constant"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/server"
	"github.com/convo-sdk/convo/server/auth"
	"github.com/convo-sdk/convo/server/servertest"
	"github.com/convo-sdk/convo/wire"
)

// azCaller is a kind of caller, relative to the fixture conversation.
type azCaller int

const (
	azParticipant azCaller = iota // alice: participant, author of the message, the targeted participant
	azOtherPart                   // bob: participant, but neither the author nor the target
	azCreator                     // carol: created the conversation, never joined
	azOutsider                    // mallory: no relation to the conversation
	azOtherConv                   // olga: participant of another conversation only
	azRemoved                     // rick: was a participant, removed by the creator
	azCallers
)

var azIdentity = [azCallers]string{"alice", "bob", "carol", "mallory", "olga", "rick"}
var azCallerName = [azCallers]string{"participant", "other-participant", "creator-not-participant", "non-participant", "participant-of-other-conversation", "removed"}

// Outcomes in a matrix cell: azOK (allowed) or a wire error code.
const (
	azOK  = 0
	azNo  = wire.CodeForbidden
	azDup = wire.CodeConflict
)

// azFixture is a fresh conversation per cell: carol created it and added alice, bob and
// rick; alice sent a message; carol removed rick (which bans him).
type azFixture struct {
	conv    wire.Conversation
	other   wire.Conversation // olga's conversation
	aliceP  wire.Participant
	msg     wire.Message
	media   string // uploaded by alice, attached to msg (only when the row asks for it)
	loose   string // uploaded by alice, not attached
	env     *servertest.Env
	caller  string
	callerK azCaller
}

type azRow struct {
	op, variant string
	media       bool // the fixture needs media
	args        func(f *azFixture) any
	want        [azCallers]wire.Code // participant, other participant, creator, outsider, other conversation, removed
	// check, when set, inspects an allowed call's result.
	check func(t *testing.T, f *azFixture, res wire.RawJSON)
}

func azRows() []azRow {
	ref := func(f *azFixture) any { return wire.ConversationRef{ConversationSid: f.conv.Sid} }
	msgRef := func(f *azFixture) any {
		return wire.MessageRef{ConversationSid: f.conv.Sid, MessageSid: f.msg.Sid}
	}
	members := [azCallers]wire.Code{azOK, azOK, azNo, azNo, azNo, azNo}
	membersAndCreator := [azCallers]wire.Code{azOK, azOK, azOK, azNo, azNo, azNo}
	selfOrCreator := [azCallers]wire.Code{azOK, azNo, azOK, azNo, azNo, azNo}
	authorOnly := [azCallers]wire.Code{azOK, azNo, azNo, azNo, azNo, azNo}
	anyone := [azCallers]wire.Code{azOK, azOK, azOK, azOK, azOK, azOK}
	return []azRow{
		{op: wire.OpConversationCreate, args: func(*azFixture) any { return wire.CreateConversationArgs{FriendlyName: "x"} }, want: anyone},
		{op: wire.OpConversationGet, variant: "by sid", args: func(f *azFixture) any { return wire.GetConversationArgs{Sid: f.conv.Sid} }, want: membersAndCreator},
		{op: wire.OpConversationGet, variant: "by uniqueName", args: func(f *azFixture) any { return wire.GetConversationArgs{UniqueName: f.conv.UniqueName} },
			// Outsiders asking by name learn nothing, not even that it exists.
			want: [azCallers]wire.Code{azOK, azOK, azOK, wire.CodeNotFound, wire.CodeNotFound, wire.CodeNotFound}},
		{op: wire.OpConversationPeek, args: func(f *azFixture) any { return wire.GetConversationArgs{Sid: f.conv.Sid} }, want: anyone},
		{op: wire.OpConversationList, args: func(*azFixture) any { return wire.ListArgs{} }, want: anyone,
			check: func(t *testing.T, f *azFixture, res wire.RawJSON) {
				var page wire.ConversationPage
				require.NoError(t, json.Unmarshal(res, &page))
				listed := slices.ContainsFunc(page.Items, func(c wire.Conversation) bool { return c.Sid == f.conv.Sid })
				member := f.callerK == azParticipant || f.callerK == azOtherPart
				assert.Equal(t, member, listed, "conversation.list shows the conversation to exactly its participants")
			}},
		{op: wire.OpConversationJoin, args: ref, want: [azCallers]wire.Code{azDup, azDup, azOK, azOK, azOK, azNo}},
		{op: wire.OpParticipantAdd, variant: "new identity", args: func(f *azFixture) any {
			return wire.AddParticipantArgs{ConversationSid: f.conv.Sid, Identity: "newcomer"}
		}, want: membersAndCreator},
		{op: wire.OpParticipantAdd, variant: "removed identity", args: func(f *azFixture) any {
			return wire.AddParticipantArgs{ConversationSid: f.conv.Sid, Identity: "rick"}
		}, want: [azCallers]wire.Code{azNo, azNo, azOK, azNo, azNo, azNo}}, // only the creator lifts the ban
		{op: wire.OpParticipantList, args: ref, want: members},
		{op: wire.OpMessageSend, args: func(f *azFixture) any {
			return wire.SendMessageArgs{ConversationSid: f.conv.Sid, Body: str("hi")}
		}, want: members},
		{op: wire.OpMessageList, args: func(f *azFixture) any { return wire.ListMessagesArgs{ConversationSid: f.conv.Sid} }, want: members},
		{op: wire.OpConversationUpdate, variant: "friendlyName", args: func(f *azFixture) any {
			return wire.UpdateConversationArgs{ConversationSid: f.conv.Sid, FriendlyName: str("renamed")}
		}, want: membersAndCreator},
		{op: wire.OpConversationUpdate, variant: "uniqueName", args: func(f *azFixture) any {
			return wire.UpdateConversationArgs{ConversationSid: f.conv.Sid, UniqueName: str(f.conv.UniqueName + "-new")}
		}, want: [azCallers]wire.Code{azNo, azNo, azOK, azNo, azNo, azNo}},
		{op: wire.OpConversationDelete, args: ref, want: [azCallers]wire.Code{azNo, azNo, azOK, azNo, azNo, azNo}},
		{op: wire.OpConversationLeave, args: ref, want: members},
		{op: wire.OpConversationNotify, args: func(f *azFixture) any {
			return wire.NotificationLevelArgs{ConversationSid: f.conv.Sid, Level: wire.NotificationMuted}
		}, want: members},
		{op: wire.OpConversationRead, args: func(f *azFixture) any {
			return wire.ReadArgs{ConversationSid: f.conv.Sid, Mode: wire.ReadAll}
		}, want: members},
		{op: wire.OpConversationCounts, args: ref, want: members},
		{op: wire.OpConversationTyping, args: ref, want: members},
		{op: wire.OpParticipantAddNonChat, args: func(f *azFixture) any {
			return wire.AddNonChatParticipantArgs{ConversationSid: f.conv.Sid, Address: "+15550001", ProxyAddress: "+15559999"}
		}, want: membersAndCreator},
		{op: wire.OpParticipantUpdate, args: func(f *azFixture) any {
			return wire.UpdateParticipantArgs{ConversationSid: f.conv.Sid, ParticipantSid: f.aliceP.Sid, Attributes: wire.RawJSON(`{"a":1}`)}
		}, want: selfOrCreator},
		{op: wire.OpParticipantRemove, variant: "by sid", args: func(f *azFixture) any {
			return wire.RemoveParticipantArgs{ConversationSid: f.conv.Sid, ParticipantSid: f.aliceP.Sid}
		}, want: selfOrCreator},
		{op: wire.OpParticipantRemove, variant: "by identity", args: func(f *azFixture) any {
			return wire.RemoveParticipantArgs{ConversationSid: f.conv.Sid, Identity: "alice"}
		}, want: selfOrCreator},
		{op: wire.OpMessageUpdate, args: func(f *azFixture) any {
			return wire.UpdateMessageArgs{ConversationSid: f.conv.Sid, MessageSid: f.msg.Sid, Body: str("edited")}
		}, want: authorOnly},
		{op: wire.OpMessageRemove, args: msgRef, want: authorOnly},
		{op: wire.OpMessageReceipts, args: msgRef, want: members},
		{op: wire.OpMessageRecipients, args: msgRef, want: members},
		{op: wire.OpMessageChannelMeta, args: msgRef, want: members},
		{op: wire.OpContentList, args: func(*azFixture) any { return wire.ListArgs{} }, want: anyone},
		{op: wire.OpUserSubscribe, args: func(*azFixture) any { return wire.UserRef{Identity: "alice"} }, want: anyone},
		{op: wire.OpUserUnsubscribe, args: func(*azFixture) any { return wire.UserRef{Identity: "alice"} }, want: anyone},
		{op: wire.OpUserUpdate, args: func(*azFixture) any { return wire.UpdateUserArgs{FriendlyName: str("me")} }, want: anyone,
			check: func(t *testing.T, f *azFixture, res wire.RawJSON) {
				var u wire.User
				require.NoError(t, json.Unmarshal(res, &u))
				assert.Equal(t, f.caller, u.Identity, "user.update changes the caller's own record")
			}},
		{op: wire.OpMediaURLs, variant: "attached", media: true, args: func(f *azFixture) any {
			return wire.MediaURLsArgs{MediaSids: []string{f.media}}
		}, want: members}, // alice is also the uploader
		{op: wire.OpMediaURLs, variant: "unattached", media: true, args: func(f *azFixture) any {
			return wire.MediaURLsArgs{MediaSids: []string{f.loose}}
		}, want: authorOnly}, // the uploader only
		{op: wire.OpPushRegister, args: func(*azFixture) any {
			return wire.PushRegistrationArgs{ChannelType: wire.PushFCM, RegistrationID: "device-1"}
		}, want: anyone},
		{op: wire.OpPushUnregister, args: func(*azFixture) any { return wire.PushRegistrationArgs{ChannelType: wire.PushFCM} }, want: anyone},
		{op: wire.OpSessionUpdateToken, variant: "own identity", args: func(f *azFixture) any {
			return wire.UpdateTokenArgs{Token: f.env.Token(f.caller, time.Hour)}
		}, want: anyone},
		{op: wire.OpSessionUpdateToken, variant: "other identity", args: func(f *azFixture) any {
			return wire.UpdateTokenArgs{Token: f.env.Token("someone-else", time.Hour)}
		}, want: [azCallers]wire.Code{wire.CodeTokenIdentity, wire.CodeTokenIdentity, wire.CodeTokenIdentity, wire.CodeTokenIdentity, wire.CodeTokenIdentity, wire.CodeTokenIdentity}},
	}
}

// wireOps parses wire for its Op* constants: name → value.
func wireOps(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob("../wire/*.go")
	require.NoError(t, err)
	ops := map[string]string{}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		require.NoError(t, err)
		for _, d := range f.Decls {
			gd, isGen := d.(*ast.GenDecl)
			if !isGen || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, id := range vs.Names {
					if !strings.HasPrefix(id.Name, "Op") || i >= len(vs.Values) {
						continue
					}
					lit, isLit := vs.Values[i].(*ast.BasicLit)
					require.True(t, isLit && lit.Kind == token.STRING, "wire.%s is not a string literal", id.Name)
					ops[id.Name] = constant.StringVal(constant.MakeFromLiteral(lit.Value, lit.Kind, 0))
				}
			}
		}
	}
	require.NotEmpty(t, ops, "no Op* constants found in wire")
	return ops
}

// TestAuthzMatrixCoversEveryOp fails, naming the op, when wire gains an op without a
// row in the matrix (or the matrix names an op wire does not have).
func TestAuthzMatrixCoversEveryOp(t *testing.T) {
	ops := wireOps(t)
	rows := map[string]bool{}
	for _, r := range azRows() {
		rows[r.op] = true
	}
	for name, op := range ops {
		assert.True(t, rows[op], "wire.%s (%q) has no row in the authorization matrix (server/authz_matrix_test.go); add one with the expected outcome per caller from docs/PROTOCOL.md", name, op)
	}
	known := map[string]bool{}
	for _, op := range ops {
		known[op] = true
	}
	for op := range rows {
		assert.True(t, known[op], "the authorization matrix has a row for %q, which is not an op in wire", op)
	}
}

func azEnv(t *testing.T) *servertest.Env {
	return servertest.Start(t, servertest.Options{Configure: func(c *server.Config) {
		c.RequestRate, c.ConversationWriteRate = -1, -1
		c.MediaUploadsPerMinute = -1
		c.MaxConnsPerIdentity = 1000
	}})
}

func TestAuthzMatrixOps(t *testing.T) {
	ctx := ctxT(t)
	env := azEnv(t)
	carol := env.Connect(ctx, "carol")
	alice := env.Connect(ctx, "alice")
	olga := env.Connect(ctx, "olga")
	var other wire.Conversation
	require.NoError(t, olga.Call(ctx, wire.OpConversationCreate, wire.CreateConversationArgs{FriendlyName: "olga's"}, &other))
	require.NoError(t, olga.Call(ctx, wire.OpConversationJoin, wire.ConversationRef{ConversationSid: other.Sid}, nil))

	n := 0
	fixture := func(t *testing.T, media bool) *azFixture {
		t.Helper()
		n++
		f := &azFixture{other: other, env: env}
		require.NoError(t, carol.Call(ctx, wire.OpConversationCreate, wire.CreateConversationArgs{FriendlyName: "matrix", UniqueName: fmt.Sprintf("matrix-%d", n)}, &f.conv))
		for _, id := range []string{"alice", "bob", "rick"} {
			var p wire.Participant
			require.NoError(t, carol.Call(ctx, wire.OpParticipantAdd, wire.AddParticipantArgs{ConversationSid: f.conv.Sid, Identity: id}, &p))
			if id == "alice" {
				f.aliceP = p
			}
		}
		send := wire.SendMessageArgs{ConversationSid: f.conv.Sid, Body: str("from alice")}
		if media {
			m, err := env.Upload(ctx, "alice", "a.txt", "media", "text/plain", []byte("attached"))
			require.NoError(t, err)
			f.media = m.Sid
			send.MediaSids = []string{m.Sid}
			m, err = env.Upload(ctx, "alice", "b.txt", "media", "text/plain", []byte("loose"))
			require.NoError(t, err)
			f.loose = m.Sid
		}
		require.NoError(t, alice.Call(ctx, wire.OpMessageSend, send, &f.msg))
		require.NoError(t, carol.Call(ctx, wire.OpParticipantRemove, wire.RemoveParticipantArgs{ConversationSid: f.conv.Sid, Identity: "rick"}, nil))
		alice.PendingEvents()
		carol.PendingEvents()
		return f
	}
	adm := &azAdmin{base: env.HTTPURL + "/v1/admin", id: env.Key.ID, secret: env.Key.Secret}

	for _, row := range azRows() {
		name := row.op
		if row.variant != "" {
			name += "/" + row.variant
		}
		t.Run(name, func(t *testing.T) {
			for k := azCaller(0); k < azCallers; k++ {
				t.Run(azCallerName[k], func(t *testing.T) {
					f := fixture(t, row.media)
					f.caller, f.callerK = azIdentity[k], k
					before := adm.snapshot(t, ctx, f.conv.Sid)
					c, err := servertest.Dial(ctx, env.URL, env.Token(f.caller, time.Hour), nil)
					require.NoError(t, err)
					defer c.Close()
					var res wire.RawJSON
					err = c.Call(ctx, row.op, row.args(f), &res)
					want := row.want[k]
					if want == azOK {
						require.NoError(t, err, "%s as %s (%s) must be allowed", row.op, azCallerName[k], f.caller)
						if row.check != nil {
							row.check(t, f, res)
						}
						return
					}
					var we *wire.Error
					require.True(t, errors.As(err, &we), "%s as %s (%s): want error %d, got %v (result %s)", row.op, azCallerName[k], f.caller, want, err, res)
					assert.Equal(t, want, we.Code, "%s as %s (%s): %s", row.op, azCallerName[k], f.caller, we.Message)
					// A refused op changes nothing.
					assert.Equal(t, before, adm.snapshot(t, ctx, f.conv.Sid), "%s refused for %s changed the conversation", row.op, azCallerName[k])
				})
			}
		})
	}
}

// ---- the WebSocket without a valid session

func TestAuthzMatrixUnauthenticatedWS(t *testing.T) {
	ctx := ctxT(t)
	env := azEnv(t)
	other := auth.NewKey("other")
	wrongKey, err := auth.Mint(other, "alice", time.Hour, "")
	require.NoError(t, err)
	wrongSecret, err := auth.Mint(auth.Key{ID: env.Key.ID, Secret: other.Secret}, "alice", time.Hour, "")
	require.NoError(t, err)
	expired, err := auth.MintAt(env.Key, "alice", time.Now().Add(-2*time.Hour), time.Hour, "")
	require.NoError(t, err)
	cases := []struct {
		name  string
		hello bool // send a hello with token first
		token string
		code  wire.Code
	}{
		{"hello without token", true, "", wire.CodeTokenInvalid},
		{"expired token", true, expired, wire.CodeTokenExpired},
		{"unknown key id", true, wrongKey, wire.CodeTokenInvalid},
		{"wrong secret", true, wrongSecret, wire.CodeTokenInvalid},
		{"no hello", false, "", wire.CodeNoHello},
	}
	ops := wireOps(t)
	names := make([]string, 0, len(ops))
	for _, op := range ops {
		names = append(names, op)
	}
	sort.Strings(names)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, op := range names {
				ws, err := servertest.DialRaw(ctx, env.URL)
				require.NoError(t, err)
				c := &servertest.Client{WS: ws}
				if tc.hello {
					hello, _ := json.Marshal(wire.HelloData{Token: tc.token})
					require.NoError(t, c.Send(ctx, &wire.Frame{Type: wire.TypeHello, Data: hello}))
				}
				// The request may race the bye; either it is never answered or the write fails.
				_ = c.Send(ctx, &wire.Frame{Type: wire.TypeRequest, ID: 1, Op: op, Data: wire.RawJSON(`{}`)})
				f, err := c.ReadFrame(ctx)
				var we *wire.Error
				if assert.True(t, errors.As(err, &we), "%s reached with %s: got frame %+v, err %v", op, tc.name, f, err) {
					assert.Equal(t, tc.code, we.Code, "%s with %s: %s", op, tc.name, we.Message)
				}
				_, _, err = ws.Read(ctx)
				assert.Equal(t, websocket.StatusCode(4000+tc.code/100%1000), websocket.CloseStatus(err), "%s with %s: close code", op, tc.name)
				c.Close()
			}
		})
	}
}

// ---- the admin REST API

type azAdmin struct{ base, id, secret string }

// do sends an admin request with the given Authorization header value (empty: none).
func (a *azAdmin) do(t *testing.T, ctx context.Context, method, path string, body any, authz string) (int, http.Header, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, rd)
	require.NoError(t, err)
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, res.Header, b
}

func basic(id, secret string) string {
	req, _ := http.NewRequest(http.MethodGet, "http://x", nil)
	req.SetBasicAuth(id, secret)
	return req.Header.Get("Authorization")
}

func (a *azAdmin) valid() string { return basic(a.id, a.secret) }

func (a *azAdmin) json(t *testing.T, ctx context.Context, method, path string, body, out any) {
	t.Helper()
	st, _, b := a.do(t, ctx, method, path, body, a.valid())
	require.True(t, st/100 == 2, "%s %s: %d %s", method, path, st, b)
	if out != nil {
		require.NoError(t, json.Unmarshal(b, out), string(b))
	}
}

// snapshot is what the admin API shows of a conversation, its participants and messages.
func (a *azAdmin) snapshot(t *testing.T, ctx context.Context, sid string) string {
	t.Helper()
	var out strings.Builder
	for _, p := range []string{"", "/participants", "/messages?pageSize=100"} {
		st, _, b := a.do(t, ctx, http.MethodGet, "/conversations/"+sid+p, nil, a.valid())
		fmt.Fprintf(&out, "%d %s\n", st, b)
	}
	return out.String()
}

// adminPatterns parses server/routes.go for the registered admin routes.
func adminPatterns(t *testing.T) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "routes.go", nil, 0)
	require.NoError(t, err)
	var out []string
	ast.Inspect(f, func(n ast.Node) bool {
		call, isCall := n.(*ast.CallExpr)
		if !isCall || len(call.Args) == 0 {
			return true
		}
		sel, isSel := call.Fun.(*ast.SelectorExpr)
		if !isSel || (sel.Sel.Name != "adminRoute" && sel.Sel.Name != "adminFileRoute") {
			return true
		}
		if lit, isLit := call.Args[0].(*ast.BasicLit); isLit && lit.Kind == token.STRING {
			s, err := strconv.Unquote(lit.Value)
			require.NoError(t, err)
			out = append(out, s)
		}
		return true
	})
	require.NotEmpty(t, out)
	return out
}

// azAdminFixture holds what admin route requests refer to.
type azAdminFixture struct {
	conv, msg, chatP, smsP, content string
}

type azAdminRow struct {
	path   func(f *azAdminFixture) string
	body   any
	status int // with valid credentials
}

func azAdminRows() map[string]azAdminRow {
	conv := func(f *azAdminFixture) string { return "/conversations/" + f.conv }
	msg := func(f *azAdminFixture) string { return "/conversations/" + f.conv + "/messages/" + f.msg }
	part := func(f *azAdminFixture) string { return "/conversations/" + f.conv + "/participants/" + f.chatP }
	content := func(f *azAdminFixture) string { return "/content/" + f.content }
	fixed := func(p string) func(*azAdminFixture) string { return func(*azAdminFixture) string { return p } }
	return map[string]azAdminRow{
		"POST /conversations":                                 {fixed("/conversations"), map[string]any{"friendlyName": "x"}, 201},
		"GET /conversations":                                  {fixed("/conversations"), nil, 200},
		"GET /conversations/{conv}":                           {conv, nil, 200},
		"PATCH /conversations/{conv}":                         {conv, map[string]any{"friendlyName": "y"}, 200},
		"POST /conversations/{conv}":                          {conv, map[string]any{"friendlyName": "y"}, 200},
		"DELETE /conversations/{conv}":                        {conv, nil, 204},
		"GET /conversations/{conv}/participants":              {func(f *azAdminFixture) string { return conv(f) + "/participants" }, nil, 200},
		"POST /conversations/{conv}/participants":             {func(f *azAdminFixture) string { return conv(f) + "/participants" }, map[string]any{"identity": "zed"}, 201},
		"GET /conversations/{conv}/participants/{p}":          {part, nil, 200},
		"PATCH /conversations/{conv}/participants/{p}":        {part, map[string]any{"attributes": map[string]int{"a": 1}}, 200},
		"DELETE /conversations/{conv}/participants/{p}":       {part, nil, 204},
		"GET /conversations/{conv}/messages":                  {func(f *azAdminFixture) string { return conv(f) + "/messages" }, nil, 200},
		"POST /conversations/{conv}/messages":                 {func(f *azAdminFixture) string { return conv(f) + "/messages" }, map[string]any{"body": "b"}, 201},
		"GET /conversations/{conv}/messages/{m}":              {msg, nil, 200},
		"PATCH /conversations/{conv}/messages/{m}":            {msg, map[string]any{"body": "c"}, 200},
		"DELETE /conversations/{conv}/messages/{m}":           {msg, nil, 204},
		"GET /conversations/{conv}/messages/{m}/receipts":     {func(f *azAdminFixture) string { return msg(f) + "/receipts" }, nil, 200},
		"PUT /conversations/{conv}/messages/{m}/receipts/{p}": {func(f *azAdminFixture) string { return msg(f) + "/receipts/" + f.smsP }, map[string]any{"status": "delivered"}, 200},
		"GET /users/{identity}":                               {fixed("/users/alice"), nil, 200},
		"PATCH /users/{identity}":                             {fixed("/users/alice"), map[string]any{"friendlyName": "A"}, 200},
		"GET /users/{identity}/export":                        {fixed("/users/alice/export"), nil, 200},
		"DELETE /users/{identity}/data":                       {fixed("/users/zoe/data"), nil, 204}, // not alice: the other rows need her
		"POST /content":                                       {fixed("/content"), map[string]any{"friendlyName": "t"}, 201},
		"GET /content":                                        {fixed("/content"), nil, 200},
		"GET /content/{sid}":                                  {content, nil, 200},
		"PATCH /content/{sid}":                                {content, map[string]any{"friendlyName": "u"}, 200},
		"DELETE /content/{sid}":                               {content, nil, 204},
		"POST /backup":                                        {fixed("/backup"), nil, 200},
	}
}

func TestAuthzMatrixAdmin(t *testing.T) {
	ctx := ctxT(t)
	env := azEnv(t)
	alice := env.Connect(ctx, "alice") // so GET /users/alice exists
	_ = alice
	adm := &azAdmin{base: env.HTTPURL + "/v1/admin", id: env.Key.ID, secret: env.Key.Secret}
	rows := azAdminRows()
	patterns := adminPatterns(t)
	for _, p := range patterns {
		assert.Contains(t, rows, p, "admin route %q (server/routes.go) has no row in the authorization matrix", p)
	}
	for p := range rows {
		assert.Contains(t, patterns, p, "the admin matrix names %q, which server/routes.go does not register", p)
	}

	fixture := func(t *testing.T) *azAdminFixture {
		f := &azAdminFixture{}
		var c wire.Conversation
		adm.json(t, ctx, http.MethodPost, "/conversations", map[string]any{"friendlyName": "adm"}, &c)
		f.conv = c.Sid
		var p wire.Participant
		adm.json(t, ctx, http.MethodPost, "/conversations/"+c.Sid+"/participants", map[string]any{"identity": "alice"}, &p)
		f.chatP = p.Sid
		adm.json(t, ctx, http.MethodPost, "/conversations/"+c.Sid+"/participants", map[string]any{"address": "+15550001", "proxyAddress": "+15559999"}, &p)
		f.smsP = p.Sid
		var m wire.Message
		adm.json(t, ctx, http.MethodPost, "/conversations/"+c.Sid+"/messages", map[string]any{"author": "alice", "body": "a"}, &m)
		f.msg = m.Sid
		var ct wire.ContentTemplate
		adm.json(t, ctx, http.MethodPost, "/content", map[string]any{"friendlyName": "tpl"}, &ct)
		f.content = ct.Sid
		return f
	}
	creds := []struct {
		name  string
		authz func() string
	}{
		{"valid admin key", adm.valid},
		{"wrong secret", func() string { return basic(env.Key.ID, strings.Repeat("0", len(env.Key.Secret))) }},
		{"unknown key id", func() string { return basic("nosuchkey", env.Key.Secret) }},
		{"empty key id", func() string { return basic("", env.Key.Secret) }},
		{"no auth", func() string { return "" }},
		{"user access token as Bearer", func() string { return "Bearer " + env.Token("alice", time.Hour) }},
		{"user access token as Basic password", func() string { return basic(env.Key.ID, env.Token("alice", time.Hour)) }},
	}
	sort.Strings(patterns)
	for _, p := range patterns {
		row, found := rows[p]
		if !found {
			continue
		}
		method, _, _ := strings.Cut(p, " ")
		t.Run(p, func(t *testing.T) {
			for _, cr := range creds {
				t.Run(cr.name, func(t *testing.T) {
					f := fixture(t)
					path := row.path(f)
					before := adm.snapshot(t, ctx, f.conv)
					st, h, b := adm.do(t, ctx, method, path, row.body, cr.authz())
					if cr.name == "valid admin key" {
						assert.Equal(t, row.status, st, "%s %s: %s", method, path, b)
						return
					}
					require.Equal(t, http.StatusUnauthorized, st, "%s %s with %s: %s", method, path, cr.name, b)
					assert.Contains(t, h.Get("WWW-Authenticate"), `Basic realm="convo"`)
					var e wire.Error
					require.NoError(t, json.Unmarshal(b, &e), string(b))
					assert.Equal(t, wire.CodeTokenInvalid, e.Code)
					assert.Equal(t, before, adm.snapshot(t, ctx, f.conv), "a refused %s %s changed the conversation", method, path)
				})
			}
		})
	}
}
