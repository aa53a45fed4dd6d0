// convo browser SDK: the boot code shared by the ES module (index.js) and the classic-script
// build (convo.js). It starts the Go program compiled to WebAssembly and resolves with the API
// object the program hands back.
//
// Boot handshake with the Go program (see wasm/ in the repository):
//   1. we store a one-shot callback under a fresh random key on globalThis;
//   2. the key is passed to Go as its second command-line argument (go.argv[1]);
//   3. Go builds the API object and calls globalThis[key](api) exactly once;
//   4. we remove the key again and hand the API to the caller.
//
// It expects globalThis.Go (wasm_exec.js) to be loaded. The build turns this module into plain
// script code by dropping the `export` keywords, so keep every export at the start of a line.

// Every name the package exports. Names the Go side does not (yet) provide export `undefined`.
export const EXPORT_NAMES = [
  'Client',
  'Conversation',
  'Message',
  'Participant',
  'User',
  'Media',
  'Paginator',
  'RestPaginator',
  'MessageBuilder',
  'UnsentMessage',
  'AggregatedDeliveryReceipt',
  'DetailedDeliveryReceipt',
  'ContentTemplate',
  'ContentTemplateVariable',
  'PushNotification',
  'ChannelMetadata',
  'EmailRecipientDescriptor',
  'UnknownRecipientDescriptor',
  'NotificationTypes',
  'CancellablePromise',
  'version',
];

// How long the Go program may take, once started, to hand over its API. Starting the runtime
// normally takes well under a second; this only turns a silent hang into a readable error.
const BOOT_TIMEOUT_MS = 30000;

// Reads the module bytes or streams them into the compiler, whichever the environment allows.
// early, if given, is the fetch of url already under way.
async function instantiate(url, importObject, early) {
  if (url.protocol === 'file:') {
    // Node (tests, server-side rendering): fetch() cannot read file: URLs there.
    const fsModule = 'node:fs/promises';
    const { readFile } = await import(/* webpackIgnore: true */ /* @vite-ignore */ fsModule);
    return (await WebAssembly.instantiate(await readFile(url), importObject)).instance;
  }

  const response = await (early || fetch(url));
  if (!response.ok) {
    throw new Error(`convo: could not load ${url.href}: HTTP ${response.status} ${response.statusText}`);
  }

  // Streaming compilation is only allowed when the server labels the file application/wasm.
  // Many static servers do not, so fall back to buffering the whole file in that case.
  const type = (response.headers.get('content-type') || '').split(';')[0].trim().toLowerCase();
  if (type === 'text/html') {
    // A single-page-app fallback answered for a file that is not there.
    throw new Error(`convo: ${url.href} is an HTML page, not convo.wasm: serve the package's convo.wasm at that URL ` +
      "(with Vite's dev server and a non-default cacheDir, add optimizeDeps: { exclude: ['@convo-sdk/conversations'] } to vite.config)");
  }
  if (type === 'application/wasm' && typeof WebAssembly.instantiateStreaming === 'function') {
    return (await WebAssembly.instantiateStreaming(response, importObject)).instance;
  }
  return (await WebAssembly.instantiate(await response.arrayBuffer(), importObject)).instance;
}

// Go cannot throw into JavaScript. A Go function that must throw returns a marker object
// instead, and the Go side wraps each of its functions with this to turn the marker into a
// real exception for the caller.
function rethrow(fn) {
  return function (...args) {
    const r = fn.apply(this, args);
    if (r !== null && typeof r === 'object' && Object.prototype.hasOwnProperty.call(r, '__convoThrow')) {
      throw r.__convoThrow;
    }
    return r;
  };
}

function randomKey() {
  const bytes = new Uint8Array(12);
  globalThis.crypto.getRandomValues(bytes);
  return '__convo_boot_' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

// prepare makes a Go instance whose program, once run, hands its API to the boot object:
// boot.settle(err, api) is called once, with the API or with the reason the boot failed.
function prepare() {
  if (typeof globalThis.Go !== 'function') {
    throw new Error('convo: wasm_exec.js did not define globalThis.Go; is it missing from the package?');
  }

  const key = randomKey();
  const go = new globalThis.Go();
  go.argv = ['convo', key];

  // Remember the exit code so an early exit can be reported with it.
  let exitCode = null;
  const defaultExit = go.exit;
  go.exit = (code) => {
    exitCode = code;
    defaultExit.call(go, code);
  };

  // In Node, the Go runtime's own wake-up timers (background GC work) would keep the process
  // alive forever after every client has shut down. While no client is alive they are
  // unref'd, so they never hold the process by themselves; a live client keeps them (and its
  // reconnect backoff) referenced.
  let idle = false; // jsapi marks the runtime idle once installed, and whenever no client is alive
  const timeouts = go._scheduledTimeouts;
  const setIdle = (value) => {
    idle = value;
    if (!timeouts) return;
    for (const t of timeouts.values()) {
      if (t && typeof t.unref === 'function') (idle ? t.unref() : t.ref());
    }
  };
  if (timeouts && typeof timeouts.set === 'function') {
    const set = timeouts.set.bind(timeouts);
    timeouts.set = (id, t) => {
      if (idle && t && typeof t.unref === 'function') t.unref();
      return set(id, t);
    };
  }

  const boot = {
    go,
    api: null,
    failure: null,
    settle: () => {},
    fail(err) {
      if (boot.api || boot.failure) return;
      boot.failure = err;
      boot.settle(err, null);
    },
    // run starts the Go program. wasm_exec's go.run runs it synchronously until it first
    // blocks, and the program registers its API before that: once run returns, boot.api is set
    // unless the program failed. The promise go.run returns settles only when the program ends.
    // Before boot that is a failure; after boot it means the SDK has stopped working, which
    // deserves a loud console message.
    run(instance) {
      go.run(instance).then(
        () => {
          const detail = exitCode === null ? '' : ` with code ${exitCode}`;
          if (!boot.api) {
            boot.fail(new Error(`convo: the Go program exited${detail} before it finished booting (its output, if any, is in the console)`));
          } else {
            console.error(`convo: the Go program exited${detail}; the SDK no longer works until the page is reloaded`);
          }
        },
        (err) => {
          if (!boot.api) {
            boot.fail(new Error(`convo: the Go program crashed while booting: ${err && err.message ? err.message : err}`, { cause: err }));
          } else {
            console.error('convo: the Go program crashed; the SDK no longer works until the page is reloaded', err);
          }
        },
      );
    },
    // done removes the one-shot boot key again.
    done() {
      delete globalThis[key];
    },
  };
  globalThis[key] = (api) => {
    if (boot.api || boot.failure) return;
    if (api === null || (typeof api !== 'object' && typeof api !== 'function')) {
      boot.fail(new Error('convo: the Go program registered an API that is not an object'));
      return;
    }
    boot.api = api;
    boot.settle(null, api);
  };
  globalThis[key].hooks = { rethrow, setIdle };
  return boot;
}

// Starts the Go program and resolves with the API object it registers. early, if given, is a
// fetch of url the caller started sooner.
export async function start(url, early) {
  const boot = prepare();
  let timer;
  const handshake = new Promise((resolve, reject) => {
    boot.settle = (err, api) => (err ? reject(err) : resolve(api));
    instantiate(url, boot.go.importObject, early).then((instance) => {
      boot.run(instance);
      if (boot.api || boot.failure) return;
      timer = setTimeout(() => {
        boot.fail(new Error(`convo: the Go program did not finish booting within ${BOOT_TIMEOUT_MS / 1000} s`));
      }, BOOT_TIMEOUT_MS);
    }, (err) => {
      boot.fail(err instanceof Error && err.message.startsWith('convo:')
        ? err
        : new Error(`convo: could not instantiate ${url.href}: ${err && err.message ? err.message : err}`, { cause: err }));
    });
  });

  try {
    return await handshake;
  } finally {
    clearTimeout(timer);
    boot.done();
  }
}

// Compiles and starts the Go program from its bytes synchronously and returns its API: the
// CommonJS build's require() (Node only; browsers do not compile large modules synchronously).
export function startSync(bytes) {
  const boot = prepare();
  try {
    let instance;
    try {
      instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), boot.go.importObject);
    } catch (err) {
      throw new Error(`convo: could not instantiate convo.wasm: ${err && err.message ? err.message : err}`, { cause: err });
    }
    boot.run(instance);
    if (boot.failure) throw boot.failure;
    if (!boot.api) {
      // Not an expected outcome: the program blocked, or crashed, before handing its API over.
      throw new Error('convo: the Go program did not hand over its API while starting (its output, if any, is in the console)');
    }
    return boot.api;
  } finally {
    boot.done();
  }
}
