package server_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/server/auth"
	"github.com/convo-sdk/convo/server/servertest"
	"github.com/convo-sdk/convo/wire"
)

// The variants of a sid a name may not take: the sid itself, its prefix in lowercase, its
// hex in uppercase, and the same digits under another kind's prefix.
func sidLookalikes(sid string) []string {
	return []string{sid, strings.ToLower(sid[:2]) + sid[2:], sid[:2] + strings.ToUpper(sid[2:]), "MB" + sid[2:], "US" + sid[2:]}
}

// The attack of the issue: conversation B named with conversation A's sid would take A's
// place in the admin API once A is deleted. The name is refused, on create and on update.
func TestAdminRefusesAUniqueNameShapedLikeASid(t *testing.T) {
	env := servertest.Start(t)
	a := env.Admin(t)
	var convA, convB wire.Conversation
	a.Do("POST", "/conversations", map[string]any{"friendlyName": "A"}, &convA)
	for _, name := range sidLookalikes(convA.Sid) {
		msg := a.Fail("POST", "/conversations", map[string]any{"friendlyName": "B", "uniqueName": name}, 400, wire.CodeBadIdentifier)
		assert.Contains(t, msg, "shape of a sid", name)
	}
	a.Do("POST", "/conversations", map[string]any{"friendlyName": "B", "uniqueName": "b"}, &convB)
	a.Fail("PATCH", "/conversations/"+convB.Sid, map[string]any{"uniqueName": convA.Sid}, 400, wire.CodeBadIdentifier)
	a.Fail("PATCH", "/conversations/b", map[string]any{"uniqueName": convA.Sid}, 400, wire.CodeBadIdentifier)

	a.Do("DELETE", "/conversations/"+convA.Sid, nil, nil)
	a.Fail("GET", "/conversations/"+convA.Sid, nil, 404, wire.CodeNotFound)
	a.Fail("POST", "/conversations/"+convA.Sid+"/participants", map[string]any{"identity": "mallory"}, 404, wire.CodeNotFound)
	a.Fail("POST", "/conversations/"+convA.Sid+"/messages", map[string]any{"body": "for A"}, 404, wire.CodeNotFound)
	var got wire.Conversation
	a.Do("GET", "/conversations/b", nil, &got)
	assert.Equal(t, convB.Sid, got.Sid)
	assert.Equal(t, "b", got.UniqueName, "B kept its name")
}

// The same between identities and participant sids: an identity of a sid's shape is refused
// wherever the admin API takes one.
func TestAdminRefusesAnIdentityShapedLikeAParticipantSid(t *testing.T) {
	env := servertest.Start(t)
	a := env.Admin(t)
	var conv wire.Conversation
	a.Do("POST", "/conversations", map[string]any{"uniqueName": "room"}, &conv)
	base := "/conversations/" + conv.Sid + "/participants"
	var alice wire.Participant
	a.Do("POST", base, map[string]any{"identity": "alice"}, &alice)
	for _, id := range sidLookalikes(alice.Sid) {
		msg := a.Fail("POST", base, map[string]any{"identity": id}, 400, wire.CodeBadIdentifier)
		assert.Contains(t, msg, "shape of a sid", id)
	}
	a.Fail("POST", "/conversations", map[string]any{"createdBy": alice.Sid}, 400, wire.CodeBadIdentifier)
	a.Fail("POST", "/conversations/"+conv.Sid+"/messages", map[string]any{"author": alice.Sid, "body": "hi"}, 400, wire.CodeBadIdentifier)
	a.Fail("PATCH", "/users/"+alice.Sid, map[string]any{"friendlyName": "x"}, 400, wire.CodeBadIdentifier)
}

// Over the protocol: a unique name or identity of a sid's shape is refused by every op that
// stores one, and by the token check.
func TestProtocolRefusesNamesShapedLikeSids(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t)
	alice := env.Connect(ctx, "alice")
	conv := room(t, ctx, alice, "bob")
	var ps wire.ParticipantPage
	require.NoError(t, alice.Call(ctx, wire.OpParticipantList, wire.ConversationRef{ConversationSid: conv.Sid}, &ps))
	require.Len(t, ps.Items, 2)
	for _, name := range sidLookalikes(conv.Sid) {
		err := alice.Call(ctx, wire.OpConversationCreate, wire.CreateConversationArgs{UniqueName: name}, nil)
		assert.Equal(t, wire.CodeBadIdentifier, code(t, err), name)
		assert.Contains(t, err.Error(), "shape of a sid")
		err = alice.Call(ctx, wire.OpConversationUpdate, wire.UpdateConversationArgs{ConversationSid: conv.Sid, UniqueName: &name}, nil)
		assert.Equal(t, wire.CodeBadIdentifier, code(t, err), name)
	}
	for _, p := range ps.Items {
		for _, id := range sidLookalikes(p.Sid) {
			err := alice.Call(ctx, wire.OpParticipantAdd, wire.AddParticipantArgs{ConversationSid: conv.Sid, Identity: id}, nil)
			assert.Equal(t, wire.CodeBadIdentifier, code(t, err), id)
		}
	}
	_, err := servertest.Dial(ctx, env.URL, signedToken(t, env.Key, conv.Sid), nil)
	assert.Equal(t, wire.CodeTokenIdentity, code(t, err))
	assert.Contains(t, err.Error(), "shape of a sid")
}

// Identities and unique names meet one profile at every entry point; look-alikes made with
// invisible or bidirectional characters are refused with 40004 (40103 in a token) naming the
// code point, and ordinary names, with spaces, accents or another script, are accepted.
func TestIdentifierProfileAtEveryEntryPoint(t *testing.T) {
	ctx := ctxT(t)
	env := servertest.Start(t, servertest.Options{DevTokens: true})
	a := env.Admin(t)
	const rlo, zwsp = "ali\u202Eecb", "ali\u200Bce"
	good := []string{"Élodie Durand", "山田 太郎", "ops@example.com"}

	// Tokens: the WebSocket hello, and the dev token endpoint.
	for _, bad := range []string{rlo, zwsp} {
		_, err := servertest.Dial(ctx, env.URL, signedToken(t, env.Key, bad), nil)
		assert.Equal(t, wire.CodeTokenIdentity, code(t, err), "%q", bad)
		assert.Contains(t, err.Error(), "invisible format character")
		res, e := postDevToken(t, env, bad)
		assert.Equal(t, 400, res)
		assert.Equal(t, wire.CodeTokenIdentity, e.Code)
	}
	for _, id := range good {
		c, err := servertest.Dial(ctx, env.URL, signedToken(t, env.Key, id), nil)
		require.NoError(t, err, id)
		assert.Equal(t, id, c.Welcome.Identity)
		c.Close()
	}

	// The admin API.
	var conv wire.Conversation
	a.Do("POST", "/conversations", map[string]any{"friendlyName": "x"}, &conv)
	cbase := "/conversations/" + conv.Sid
	for _, bad := range []string{rlo, zwsp} {
		for _, c := range []struct {
			method, path string
			body         map[string]any
		}{
			{"POST", "/conversations", map[string]any{"uniqueName": bad}},
			{"POST", "/conversations", map[string]any{"createdBy": bad}},
			{"PATCH", cbase, map[string]any{"uniqueName": bad}},
			{"POST", cbase + "/participants", map[string]any{"identity": bad}},
			{"POST", cbase + "/messages", map[string]any{"author": bad, "body": "hi"}},
			{"PATCH", "/users/" + url.PathEscape(bad), map[string]any{"friendlyName": "x"}},
		} {
			msg := a.Fail(c.method, c.path, c.body, 400, wire.CodeBadIdentifier)
			assert.Contains(t, msg, "invisible format character", "%s %s %v", c.method, c.path, c.body)
		}
	}
	var m wire.Message
	a.Do("POST", cbase+"/messages", map[string]any{"body": "hi"}, &m)
	a.Fail("PATCH", cbase+"/messages/"+m.Sid, map[string]any{"body": "x", "updatedBy": rlo}, 400, wire.CodeBadIdentifier)
	for i, id := range good {
		var p wire.Participant
		a.Do("POST", cbase+"/participants", map[string]any{"identity": id}, &p)
		assert.Equal(t, id, p.Identity)
		var u wire.User
		a.Do("PATCH", "/users/"+url.PathEscape(id), map[string]any{"friendlyName": "x"}, &u)
		assert.Equal(t, id, u.Identity)
		var c wire.Conversation
		a.Do("POST", "/conversations", map[string]any{"uniqueName": id, "createdBy": id}, &c)
		assert.Equal(t, id, c.UniqueName)
		a.Do("PATCH", "/conversations/"+c.Sid, map[string]any{"uniqueName": good[(i+1)%len(good)] + " 2"}, &c)
	}

	// The protocol.
	alice := env.Connect(ctx, "alice")
	own := room(t, ctx, alice)
	for _, bad := range []string{rlo, zwsp} {
		err := alice.Call(ctx, wire.OpConversationCreate, wire.CreateConversationArgs{UniqueName: bad}, nil)
		assert.Equal(t, wire.CodeBadIdentifier, code(t, err))
		assert.Contains(t, err.Error(), "invisible format character")
		err = alice.Call(ctx, wire.OpConversationUpdate, wire.UpdateConversationArgs{ConversationSid: own.Sid, UniqueName: str(bad)}, nil)
		assert.Equal(t, wire.CodeBadIdentifier, code(t, err))
		err = alice.Call(ctx, wire.OpParticipantAdd, wire.AddParticipantArgs{ConversationSid: own.Sid, Identity: bad}, nil)
		assert.Equal(t, wire.CodeBadIdentifier, code(t, err))
	}
	for _, id := range good {
		var c wire.Conversation
		require.NoError(t, alice.Call(ctx, wire.OpConversationCreate, wire.CreateConversationArgs{UniqueName: "p " + id}, &c))
		require.NoError(t, alice.Call(ctx, wire.OpParticipantAdd, wire.AddParticipantArgs{ConversationSid: own.Sid, Identity: id}, nil))
	}
	require.NoError(t, alice.Call(ctx, wire.OpConversationUpdate, wire.UpdateConversationArgs{ConversationSid: own.Sid, UniqueName: str("Ωμέγα")}, nil))
}

// signedToken signs a token for identity by hand: auth.Mint refuses identities outside the
// profile, and the server must refuse them in a token it did not mint.
func signedToken(t *testing.T, key auth.Key, identity string) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"identity": identity, "exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix()})
	tok.Header["kid"] = key.ID
	s, err := tok.SignedString([]byte(key.Secret))
	require.NoError(t, err)
	return s
}

func postDevToken(t *testing.T, env *servertest.Env, identity string) (int, wire.Error) {
	t.Helper()
	body, err := json.Marshal(map[string]string{"identity": identity})
	require.NoError(t, err)
	res, err := http.Post(env.HTTPURL+"/v1/dev/token", "application/json", strings.NewReader(string(body)))
	require.NoError(t, err)
	defer res.Body.Close()
	var v struct{ Error wire.Error }
	require.NoError(t, json.NewDecoder(res.Body).Decode(&v))
	return res.StatusCode, v.Error
}
