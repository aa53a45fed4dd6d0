package server

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
)

// A WebSocket connection keeps the buffered reader and writer that the hijack hands over for
// its whole life, idle or not. net/http's are 4 KB each; these sizes fit the frames convo
// carries (requests and events are a few hundred bytes; a larger frame is read or written
// past the buffer, straight to the socket), and take an idle connection from 8 KB of buffers
// to 2.
const (
	wsReadBuffer  = 1 << 10
	wsWriteBuffer = 1 << 10
)

// smallBuffers hands the WebSocket library, at the hijack, buffers of the sizes above in
// place of net/http's, which are then garbage.
type smallBuffers struct{ http.ResponseWriter }

func (w smallBuffers) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("the HTTP connection cannot be taken over for a WebSocket")
	}
	nc, brw, err := hj.Hijack()
	if err != nil {
		return nil, nil, err
	}
	// Bytes the client sent after its upgrade request (its hello) may already sit in
	// net/http's buffer. They must sit in the new reader's buffer too: the library keeps
	// what is buffered and then reads the socket itself.
	br := brw.Reader
	if n := br.Buffered(); n <= wsReadBuffer {
		early, _ := br.Peek(n) // n bytes are buffered, so Peek cannot fail
		br = bufio.NewReaderSize(io.MultiReader(bytes.NewReader(bytes.Clone(early)), nc), wsReadBuffer)
		if _, err := br.Peek(n); err != nil {
			nc.Close()
			return nil, nil, err
		}
	}
	return nc, bufio.NewReadWriter(br, bufio.NewWriterSize(nc, wsWriteBuffer)), nil
}
