//go:build !js

package main

// A loopback TCP proxy that puts network faults between core clients and convod: dropped
// connections, delayed traffic, connections cut in the middle of a WebSocket frame, and
// black holes (nothing moves, nothing closes). Each client gets its own listener so one can
// be refused on its own.

import (
	"encoding/binary"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// faultNet is the set of proxies of a test and the faults they inject.
type faultNet struct {
	target string // convod's address

	mu      sync.Mutex
	pairs   map[*proxyPair]struct{} // live (not stalled, not closed)
	stalled []*proxyPair            // black holes, closed only at the end

	drops, delays, truncations, stalls, refusals atomic.Int32
	truncUp, truncDown                           atomic.Int32 // truncations by direction
}

// faultProxy is one client's way to the server.
type faultProxy struct {
	net    *faultNet
	ln     net.Listener
	refuse atomic.Bool
}

// proxyPair is one relayed connection.
type proxyPair struct {
	proxy          *faultProxy
	client, server net.Conn
	born           time.Time

	delayUntil atomic.Int64 // unix nanoseconds; until then each chunk waits
	delayMax   atomic.Int64 // nanoseconds, the longest wait of a chunk
	truncate   atomic.Bool  // cut the next chunk of a frame part-way
	stalled    chan struct{}
	closed     chan struct{}
	stallOnce  sync.Once
	closeOnce  sync.Once
}

func newFaultNet(t *testing.T, target string) *faultNet {
	n := &faultNet{target: target, pairs: make(map[*proxyPair]struct{})}
	t.Cleanup(n.closeAll)
	return n
}

// listen opens a proxy on 127.0.0.1; its address is the client's server address.
func (n *faultNet) listen(t *testing.T) *faultProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{net: n, ln: ln}
	t.Cleanup(func() { ln.Close() })
	go p.serve()
	return p
}

func (p *faultProxy) addr() string { return p.ln.Addr().String() }

func (p *faultProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if p.refuse.Load() {
			p.net.refusals.Add(1)
			abort(c)
			continue
		}
		s, err := net.Dial("tcp", p.net.target)
		if err != nil {
			abort(c)
			continue
		}
		pr := &proxyPair{proxy: p, client: c, server: s, born: time.Now(), stalled: make(chan struct{}), closed: make(chan struct{})}
		p.net.mu.Lock()
		p.net.pairs[pr] = struct{}{}
		p.net.mu.Unlock()
		go pr.pump(c, s, &p.net.truncUp)
		go pr.pump(s, c, &p.net.truncDown)
	}
}

// abort closes with a reset, as a refusing or failing network does.
func abort(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	c.Close()
}

// setRefuse makes the proxy refuse new connections and drops the ones it has.
func (p *faultProxy) setRefuse(v bool) {
	p.refuse.Store(v)
	if !v {
		return
	}
	p.net.mu.Lock()
	var mine []*proxyPair
	for pr := range p.net.pairs {
		if pr.proxy == p {
			mine = append(mine, pr)
		}
	}
	p.net.mu.Unlock()
	for _, pr := range mine {
		pr.close(true)
	}
}

// close ends both sides (with a reset when abrupt) and forgets the pair.
func (pr *proxyPair) close(abrupt bool) {
	pr.closeOnce.Do(func() {
		close(pr.closed)
		if abrupt {
			abort(pr.client)
			abort(pr.server)
		} else {
			pr.client.Close()
			pr.server.Close()
		}
		n := pr.proxy.net
		n.mu.Lock()
		delete(n.pairs, pr)
		n.mu.Unlock()
	})
}

// pump copies src to dst chunk by chunk, applying the pair's faults; truncs counts the
// cuts in this direction.
func (pr *proxyPair) pump(src, dst net.Conn, truncs *atomic.Int32) {
	var ft frameTracker
	ft.inHTTP = true
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		select {
		case <-pr.stalled:
			// A black hole: what was read vanishes, nothing more is read or closed.
			<-pr.closed
			return
		default:
		}
		if n > 0 {
			armed := pr.truncate.Load()
			mid := ft.feed(buf[:n], armed)
			if armed && len(mid) > 0 && pr.truncate.CompareAndSwap(true, false) {
				cut := mid[rand.IntN(len(mid))]
				_, _ = dst.Write(buf[:cut])
				truncs.Add(1)
				pr.close(rand.IntN(2) == 0)
				return
			}
			if until := pr.delayUntil.Load(); until > 0 && time.Now().UnixNano() < until {
				time.Sleep(time.Duration(rand.Int64N(pr.delayMax.Load() + 1)))
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				pr.close(false)
				return
			}
		}
		if err != nil {
			pr.close(false)
			return
		}
	}
}

// stall turns the pair into a black hole: its pumps stop, its sockets stay open.
func (pr *proxyPair) stall() {
	pr.stallOnce.Do(func() {
		close(pr.stalled)
		n := pr.proxy.net
		n.mu.Lock()
		delete(n.pairs, pr)
		n.stalled = append(n.stalled, pr)
		n.mu.Unlock()
	})
}

// pick returns a live pair at least minAge old, or nil.
func (n *faultNet) pick(minAge time.Duration) *proxyPair {
	n.mu.Lock()
	defer n.mu.Unlock()
	var old []*proxyPair
	for pr := range n.pairs {
		if time.Since(pr.born) >= minAge {
			old = append(old, pr)
		}
	}
	if len(old) == 0 {
		return nil
	}
	return old[rand.IntN(len(old))]
}

// fault injects one fault into a random live connection and reports whether it found one.
// Black holes go to connections past their handshake (the client's connect has a timeout
// of its own, 15 s, which is not under test here).
func (n *faultNet) fault() bool {
	pr := n.pick(50 * time.Millisecond)
	if pr == nil {
		return false
	}
	switch k := rand.IntN(10); {
	case k < 3:
		n.drops.Add(1)
		pr.close(rand.IntN(2) == 0)
	case k < 6:
		n.delays.Add(1)
		pr.delayMax.Store(int64(time.Duration(20+rand.IntN(230)) * time.Millisecond))
		pr.delayUntil.Store(time.Now().Add(time.Duration(300+rand.IntN(1200)) * time.Millisecond).UnixNano())
	case k < 8:
		n.truncations.Add(1)
		pr.truncate.Store(true)
	default:
		if pr = n.pick(300 * time.Millisecond); pr == nil {
			return false
		}
		n.stalls.Add(1)
		pr.stall()
	}
	return true
}

// closeAll ends every connection, the black holes included.
func (n *faultNet) closeAll() {
	n.mu.Lock()
	all := append([]*proxyPair(nil), n.stalled...)
	for pr := range n.pairs {
		all = append(all, pr)
	}
	n.stalled = nil
	n.mu.Unlock()
	for _, pr := range all {
		pr.close(false)
	}
}

// frameTracker follows a WebSocket byte stream (after its HTTP upgrade) to know where frames
// begin and end, so a cut can land strictly inside one.
type frameTracker struct {
	inHTTP bool   // still in the HTTP request or response head
	tail   uint32 // last four bytes of the head, to spot "\r\n\r\n"
	hdr    []byte // the current frame's header so far
	left   uint64 // payload bytes left in the current frame
}

// feed advances over b. With collect, it returns every length p (1..len(b)) such that
// forwarding b[:p] leaves the peer inside a frame: a header or payload part-read.
func (f *frameTracker) feed(b []byte, collect bool) (mid []int) {
	for i := 0; i < len(b); {
		switch {
		case f.inHTTP:
			f.tail = f.tail<<8 | uint32(b[i])
			i++
			if f.tail == 0x0d0a0d0a {
				f.inHTTP = false
			}
		case f.left > 0:
			k := int(min(uint64(len(b)-i), f.left))
			f.left -= uint64(k)
			if collect {
				for p := i + 1; p <= i+k; p++ {
					if p < i+k || f.left > 0 {
						mid = append(mid, p)
					}
				}
			}
			i += k
		default:
			f.hdr = append(f.hdr, b[i])
			i++
			if need := wsHeaderLen(f.hdr); need == 0 || len(f.hdr) < need {
				if collect {
					mid = append(mid, i)
				}
				continue
			}
			f.left = wsPayloadLen(f.hdr)
			f.hdr = f.hdr[:0]
			if collect && f.left > 0 {
				mid = append(mid, i)
			}
		}
	}
	return mid
}

// wsHeaderLen is the length of the frame header that begins h, or 0 while h is too short
// to tell.
func wsHeaderLen(h []byte) int {
	if len(h) < 2 {
		return 0
	}
	n := 2
	switch h[1] & 0x7f {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if h[1]&0x80 != 0 {
		n += 4 // masking key
	}
	return n
}

func wsPayloadLen(h []byte) uint64 {
	switch l := h[1] & 0x7f; l {
	case 126:
		return uint64(binary.BigEndian.Uint16(h[2:4]))
	case 127:
		return binary.BigEndian.Uint64(h[2:10])
	default:
		return uint64(l)
	}
}

// The tracker finds every cut point inside a frame and none at a boundary or in the HTTP
// head, whatever the chunking.
func TestFrameTrackerCutsOnlyInsideFrames(t *testing.T) {
	head := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"
	stream := []byte(head)
	boundary := map[int]bool{len(stream): true}
	frame := func(payload int, masked bool) {
		h := []byte{0x81, 0}
		switch {
		case payload < 126:
			h[1] = byte(payload)
		case payload < 1<<16:
			h[1] = 126
			h = binary.BigEndian.AppendUint16(h, uint16(payload))
		default:
			h[1] = 127
			h = binary.BigEndian.AppendUint64(h, uint64(payload))
		}
		if masked {
			h[1] |= 0x80
			h = append(h, 1, 2, 3, 4)
		}
		stream = append(stream, h...)
		stream = append(stream, make([]byte, payload)...)
		boundary[len(stream)] = true
	}
	frame(0, false)
	frame(5, false)
	frame(200, true)
	frame(70000, false)
	frame(3, true)
	for round := 0; round < 20; round++ {
		var ft frameTracker
		ft.inHTTP = true
		got := make(map[int]bool)
		for at := 0; at < len(stream); {
			n := min(1+rand.IntN(3000), len(stream)-at)
			for _, p := range ft.feed(stream[at:at+n], true) {
				got[at+p] = true
			}
			at += n
		}
		for p := len(head) + 1; p <= len(stream); p++ {
			if got[p] == boundary[p] {
				t.Fatalf("round %d: offset %d: reported inside a frame %v, a boundary %v", round, p, got[p], boundary[p])
			}
		}
		for p := range got {
			if p <= len(head) {
				t.Fatalf("round %d: offset %d is in the HTTP head", round, p)
			}
		}
	}
}
