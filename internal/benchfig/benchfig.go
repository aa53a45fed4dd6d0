// Package benchfig declares the JSON of the SDK's figures in headless Chromium: the
// TestBench* functions of web/e2e (bench_test.go) write it, each under its key of Figures,
// and tools/benchreport reads it.
package benchfig

// Figures is the whole file: each benchmark sets its own key.
type Figures struct {
	Quick      bool        `json:"quick,omitempty"` // small loads, to check the harness
	Ready      *Ready      `json:"ready,omitempty"`
	Throughput *Throughput `json:"throughput,omitempty"`
	Latency    *Latency    `json:"latency,omitempty"`
	Memory     *Memory     `json:"memory,omitempty"`
}

// Ready: navigation start → Client usable, convo's SDK against the vendor bundle, with the
// HTTP cache off (cold: a first visit) and on (warm), and navigation start → initialized
// for a user with many conversations.
type Ready struct {
	Loads int `json:"loads"`
	// Cold: HTTP cache off (every load fetches and compiles everything: a first visit).
	// Warm: HTTP cache on (a return visit; files revalidated, bodies from the cache).
	Cold ReadyPair `json:"cold"`
	Warm ReadyPair `json:"warm"`
	// SlowCold and SlowWarm are the same on an emulated slow mobile link (SlowLink), over
	// SlowLoads loads each.
	SlowLink  string    `json:"slowLink"`
	SlowLoads int       `json:"slowLoads"`
	SlowCold  ReadyPair `json:"slowCold"`
	SlowWarm  ReadyPair `json:"slowWarm"`
	Init      Init      `json:"init"`
}

// ReadyPair is one cache mode of the ready comparison: convo's SDK and the vendor bundle,
// each navigation start → its Client usable, medians (ms) of the loads.
type ReadyPair struct {
	ConvoMs   float64   `json:"convoMs"`
	VendorMs  float64   `json:"vendorMs"`
	Ratio     float64   `json:"ratio"`
	ConvoAll  []float64 `json:"convoAll"`
	VendorAll []float64 `json:"vendorAll"`
	// Bytes over the wire per load (transferSize of every resource, the page included).
	ConvoTransfer  int64 `json:"convoTransferBytes"`
	VendorTransfer int64 `json:"vendorTransferBytes"`
}

// Init: navigation start → initialized (ms, medians) for a user with many conversations.
type Init struct {
	Conversations           int       `json:"conversations"`
	MessagesPerConversation int       `json:"messagesPerConversation"`
	ColdMs                  float64   `json:"coldMs"`
	WarmMs                  float64   `json:"warmMs"`
	ColdAll                 []float64 `json:"coldAll"`
	WarmAll                 []float64 `json:"warmAll"`
	// WarmReadyMs is when the same pages had the Client usable (warm), for the split.
	WarmReadyMs float64 `json:"warmReadyMs"`
	// WarmSinceReadyMs is the warm loads' initialized less their ready: the server's share.
	WarmSinceReadyMs float64 `json:"warmSinceReadyMs"`
	// StoredMs is initialized less ready for a client started on its local store holding
	// the same conversations and messages (HTTP cache on); StoreBytes is what IndexedDB
	// holds for it.
	StoredMs   float64   `json:"storedMs"`
	StoredAll  []float64 `json:"storedAll"`
	StoreBytes int64     `json:"storeBytes"`
}

// Throughput: messages/s reaching the SDK's messageAdded listener against a bare WebSocket
// reading the same replayed frames in the same page.
type Throughput struct {
	Messages int `json:"messages"`
	Rounds   int `json:"rounds"`
	// SDKPerSec is the SDK; BarePerSec the ceiling. Each is the median of Rounds runs, each
	// round a bare run and then the SDK's over a fresh batch of Messages.
	SDKPerSec  float64   `json:"sdkPerSec"`
	BarePerSec float64   `json:"barePerSec"`
	Ratio      float64   `json:"ratio"`
	SDKMs      []float64 `json:"sdkMs"`
	BareMs     []float64 `json:"bareMs"`
}

// Latency: send-to-listener times (ms) between two pages of one browser (so
// performance.timeOrigin + now() is one clock): page A's sendMessage to page B's
// messageAdded.
type Latency struct {
	Messages   int     `json:"messages"`
	IntervalMs int     `json:"intervalMs"`
	P50Ms      float64 `json:"p50Ms"`
	P99Ms      float64 `json:"p99Ms"`
	MaxMs      float64 `json:"maxMs"`
	Visibility string  `json:"visibility"`
}

// Memory: the SDK's memory (wasm linear memory + JS heap after a forced GC) with many
// cached messages, beside an empty client.
type Memory struct {
	Conversations           int          `json:"conversations"`
	MessagesPerConversation int          `json:"messagesPerConversation"`
	CachedMessages          int          `json:"cachedMessages"`
	Empty                   MemorySample `json:"empty"`
	Loaded                  MemorySample `json:"loaded"`
	// BytesPerMessage is (Loaded - Empty) / CachedMessages; it carries the conversations'
	// share too.
	BytesPerMessage float64 `json:"bytesPerMessage"`
}

// MemorySample is what one page holds after a forced GC, in bytes.
type MemorySample struct {
	WasmBytes   int64 `json:"wasmBytes"`   // the wasm instance's linear memory
	JSHeapBytes int64 `json:"jsHeapBytes"` // V8 heap in use (Runtime.getHeapUsage)
	TotalBytes  int64 `json:"totalBytes"`
}
