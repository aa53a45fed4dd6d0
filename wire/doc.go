// Package wire defines convo's client/server protocol: frame layout, operation and event
// names, payload shapes and error codes. The server and the client engine both import it, so
// the two sides cannot drift apart. docs/PROTOCOL.md describes the same protocol in prose.
//
// One WebSocket per client, subprotocol [Subprotocol], one JSON object per text message.
// The first client frame is a hello that carries the access token (never the URL: URLs end up
// in logs). Requests carry an id that the reply echoes. Server-pushed events carry the dense
// offset of the user's event stream, so a client that reconnects resumes where it stopped.
package wire
