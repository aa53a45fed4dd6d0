// Command centrifugo is benchreport's load generator for Centrifugo: the same fan-out and idle
// loads that benchreport runs against convod (tools/benchreport/server_load.go), spoken over
// Centrifugo's client protocol with centrifuge-go. It is its own module so that centrifuge-go
// never enters convo's module; benchreport builds it, starts Centrifugo, runs this with the
// server's address, HMAC secret and process id, and reads the JSON it prints on stdout.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Result is what this prints: the figures of the load it ran, in benchreport's JSON shape.
type Result struct {
	Fanout *FanoutFigures `json:"fanout,omitempty"`
	Idle   *IdleFigures   `json:"idle,omitempty"`
}

// FanoutFigures and FanoutStep mirror benchreport's types of the same names.
type FanoutFigures struct {
	Connections   int          `json:"connections"`
	Conversations int          `json:"conversations"`
	Members       int          `json:"members"`
	Steps         []FanoutStep `json:"steps"`
	Chosen        int          `json:"chosen"`
}

type FanoutStep struct {
	OfferedMsgsPerSec float64 `json:"offeredMsgsPerSec"`
	SentMsgsPerSec    float64 `json:"sentMsgsPerSec"`
	Seconds           float64 `json:"seconds"`
	Sent              int64   `json:"sent"`
	Expected          int64   `json:"expectedDeliveries"`
	Delivered         int64   `json:"delivered"`
	DeliveriesPerSec  float64 `json:"deliveriesPerSec"`
	DeliveriesPerCore float64 `json:"deliveriesPerServerCore"`
	P50Ms             float64 `json:"p50Ms"`
	P99Ms             float64 `json:"p99Ms"`
	MaxMs             float64 `json:"maxMs"`
	Skipped           int64   `json:"skipped"`
	Errors            int64   `json:"errors"`
	Sustained         bool    `json:"sustained"`
	CPU               CPUUse  `json:"cpu"`
}

// IdleFigures mirrors benchreport's (without the Go runtime split, which Centrifugo does not
// expose in the same form).
type IdleFigures struct {
	Connections    int     `json:"connections"`
	ConnectSeconds float64 `json:"connectSeconds"`
	RSSBeforeMB    float64 `json:"rssBeforeMB"`
	RSSAfterMB     float64 `json:"rssAfterMB"`
	KBPerConn      float64 `json:"kbPerConnection"`
}

// CPUUse: cores busy in a window (the server, this process, the rest of the machine).
type CPUUse struct {
	Server float64 `json:"server"`
	Load   float64 `json:"load"`
	Other  float64 `json:"other"`
}

type options struct {
	url, secret        string
	pid                int
	channels, members  int
	rates              []float64
	warm, measure      time.Duration
	conns              int
	p99Budget          float64
	connectParallelism int
}

func main() {
	var o options
	load := flag.String("load", "fanout", "fanout or idle")
	flag.StringVar(&o.url, "url", "ws://127.0.0.1:8000/connection/websocket", "Centrifugo's WebSocket endpoint (loopback only)")
	flag.StringVar(&o.secret, "secret", "", "the HMAC secret Centrifugo checks connection tokens with")
	flag.IntVar(&o.pid, "pid", 0, "Centrifugo's process id, whose CPU time and RSS are measured")
	flag.IntVar(&o.channels, "channels", 200, "fanout: channels")
	flag.IntVar(&o.members, "subscribers", 10, "fanout: subscribers per channel, each its own connection")
	rates := flag.String("rates", "500,1000,1500,2000,2500,3000,4000", "fanout: offered publishes a second, stepped up until one is not sustained within -p99")
	flag.DurationVar(&o.warm, "warm", 2*time.Second, "fanout: warm-up of each step")
	flag.DurationVar(&o.measure, "measure", 6*time.Second, "fanout: measured window of each step")
	flag.Float64Var(&o.p99Budget, "p99", 50, "fanout: the latency budget in ms a step must meet for the next to run")
	flag.IntVar(&o.conns, "conns", 10000, "idle: connections")
	flag.Parse()
	o.connectParallelism = 64
	for _, s := range strings.Split(*rates, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			fail(fmt.Errorf("-rates: %w", err))
		}
		o.rates = append(o.rates, v)
	}
	if o.secret == "" || o.pid == 0 {
		fail(fmt.Errorf("-secret and -pid are required"))
	}
	if err := raiseFileLimit(); err != nil {
		fail(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	var (
		res Result
		err error
	)
	switch *load {
	case "fanout":
		res.Fanout, err = runFanout(ctx, o)
	case "idle":
		res.Idle, err = runIdle(ctx, o)
	default:
		err = fmt.Errorf("unknown -load %q", *load)
	}
	// The figures gathered so far are printed even when the load failed part way.
	b, _ := json.Marshal(res)
	fmt.Println(string(b))
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "centrifugo load:", err)
	os.Exit(1)
}

// raiseFileLimit lifts the soft open-file limit to the hard one: every connection is a socket.
func raiseFileLimit() error {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return err
	}
	if l.Cur < l.Max {
		l.Cur = l.Max
		return syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
	return nil
}
