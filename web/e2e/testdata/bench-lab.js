// The page side of web/e2e/bench_test.go: delivery throughput (the SDK against a bare
// WebSocket reading the same frames), send-to-listener latency between two pages, and memory.
// Go drives it through window.lab; every time is taken here with performance.now().

// The instrumentation goes in before the SDK loads, so the SDK is the one an app gets.

// Every WebSocket the SDK opens, with when it was constructed: the replay measurement closes
// the SDK's socket and times from the reconnect's new socket.
const NativeWebSocket = globalThis.WebSocket;
const sockets = [];
globalThis.WebSocket = class extends NativeWebSocket {
  constructor(...args) {
    super(...args);
    sockets.push({ ws: this, at: performance.now() });
  }
};

// The wasm instance, to read its linear memory's size (the SDK does not expose it).
let wasmInstance = null;
for (const name of ['instantiateStreaming', 'instantiate']) {
  const original = WebAssembly[name];
  WebAssembly[name] = function (...args) {
    return original.apply(this, args).then((r) => {
      wasmInstance = r instanceof WebAssembly.Instance ? r : r.instance;
      return r;
    });
  };
}

const { Client } = await import('/sdk/index.js');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(what, cond, timeoutMs) {
  const deadline = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error('timed out waiting for ' + what());
    await sleep(5);
  }
}

let client = null;
const conversations = [];

// What the SDK's messageAdded listener saw; see watch and replay.
// Each replay starts the counts again.
const seen = { count: 0, bodyChars: 0, lastIndex: -1, target: 0, doneAt: 0 };

window.lab = {
  // Creates the client and resolves once it is initialised.
  async start(token) {
    client = new Client(token);
    client.on('conversationAdded', (c) => conversations.push(c));
    await new Promise((resolve, reject) => {
      client.on('initialized', resolve);
      client.on('initFailed', ({ error }) => reject(error));
    });
    return { conversations: conversations.length, sockets: sockets.length };
  },

  // The size of the wasm instance's linear memory.
  wasmBytes() {
    for (const v of Object.values(wasmInstance.exports)) {
      if (v instanceof WebAssembly.Memory) return v.buffer.byteLength;
    }
    throw new Error('the wasm instance exports no memory');
  },

  // getMessages(pageSize) on every conversation, a few at a time; the pages are dropped, so
  // what stays is what the SDK caches.
  async loadMessages(pageSize, concurrency) {
    let next = 0;
    let messages = 0;
    const worker = async () => {
      while (next < conversations.length) {
        const page = await conversations[next++].getMessages(pageSize);
        messages += page.items.length;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    return { conversations: conversations.length, messages };
  },

  // The ceiling: a bare WebSocket says hello resuming at offset and JSON.parses each frame
  // until n messageAdded events have arrived. Timed from the socket's construction.
  bare(url, token, epoch, offset, n) {
    return new Promise((resolve, reject) => {
      const t0 = performance.now();
      const ws = new NativeWebSocket(url, ['convo.v1']);
      let count = 0;
      let bodyChars = 0;
      let frames = 0;
      let lastIndex = -1;
      ws.onopen = () => ws.send(JSON.stringify({ type: 'hello', data: { token, resume: { epoch, offset }, client: 'bench-bare' } }));
      ws.onmessage = (ev) => {
        const f = JSON.parse(ev.data);
        frames++;
        if (f.type === 'welcome' && !f.data.resumed) {
          reject(new Error('the server did not resume the bare reader: ' + ev.data));
          ws.close();
        } else if (f.type === 'event' && f.event === 'messageAdded') {
          count++;
          bodyChars += f.data.message.body.length;
          lastIndex = f.data.message.index;
          if (count === n) {
            const ms = performance.now() - t0;
            ws.close();
            resolve({ ms, messages: count, bodyChars, frames, lastIndex });
          }
        }
      };
      ws.onclose = () => reject(new Error('the bare reader was closed after ' + count + ' messages'));
    });
  },

  // Counts the SDK's messageAdded calls from now on; the listener reads what an app would.
  watch() {
    client.on('messageAdded', (m) => {
      seen.count++;
      seen.bodyChars += m.body.length;
      seen.lastIndex = m.index;
      if (seen.count === seen.target) seen.doneAt = performance.now();
    });
    return seen.count;
  },

  messagesSeen() {
    return seen.count;
  },

  // Closes the SDK's socket; the client reconnects at once resuming from its position, and
  // the server replays what was committed meanwhile. Timed from the new socket's construction
  // to the nth messageAdded call.
  async replay(n, timeoutMs) {
    if (seen.count !== seen.target) throw new Error('the SDK saw ' + (seen.count - seen.target) + ' messages before the replay');
    Object.assign(seen, { count: 0, bodyChars: 0, lastIndex: -1, doneAt: 0 });
    seen.target = n;
    const before = sockets.length;
    sockets[before - 1].ws.close();
    await waitFor(() => 'the reconnect', () => sockets.length > before, timeoutMs);
    const t0 = sockets[before].at;
    await waitFor(() => n + ' messages (saw ' + seen.count + ')', () => seen.doneAt > 0, timeoutMs);
    return { ms: seen.doneAt - t0, messages: seen.count, bodyChars: seen.bodyChars, lastIndex: seen.lastIndex };
  },

  // Latency, receiving side: the wall time (one clock for every page of the browser) at which
  // each message reaches the listener.
  receive() {
    window.received = [];
    client.on('messageAdded', (m) => {
      window.received.push({ at: performance.timeOrigin + performance.now(), body: m.body });
    });
    return true;
  },

  received() {
    return window.received;
  },

  // Latency, sending side: n messages, one every intervalMs, each carrying the time its
  // sendMessage was called.
  async sendPaced(conversationSid, n, intervalMs) {
    const conv = await client.getConversationBySid(conversationSid);
    const t0 = performance.now();
    const sends = [];
    for (let i = 0; i < n; i++) {
      const due = t0 + i * intervalMs;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      sends.push(conv.sendMessage('lat ' + i + ' ' + (performance.timeOrigin + performance.now())));
    }
    await Promise.all(sends);
    return n;
  },

  visibility() {
    return document.visibilityState;
  },
};
window.labReady = true;
