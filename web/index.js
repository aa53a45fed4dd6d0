// convo browser SDK: ES module entry point.
//
// The client itself is a Go program compiled to WebAssembly (convo.wasm). This file only starts
// that program and re-exports the classes it hands back, so that application code can write
//
//     import { Client } from '@convo-sdk/conversations';
//
// exactly as it would with the vendor SDK. Importing the module waits (top-level await) until the
// Go side has installed its API, so every export is ready to use once the import resolves.
//
// The boot handshake with the Go program lives in boot.js, shared with the classic-script
// build (convo.js).

// The wasm download starts first. (file: URLs are Node's; boot.js reads those from disk.)
// Bundlers (webpack 5, Vite, Parcel, esbuild's file loader) recognise this exact expression:
// they copy convo.wasm into the build, often renamed with a content hash, and rewrite the URL.
let wasmURL = new URL('./convo.wasm', import.meta.url);
// Vite's dev server runs dependencies pre-bundled into node_modules/.vite/deps/, where there is
// no convo.wasm; the package's own copy is served from its folder next to it.
if (/\/node_modules\/\.vite\/deps(_temp_[^/]*)?\/[^/]*$/.test(wasmURL.pathname)) {
  wasmURL = new URL('../../@convo-sdk/conversations/convo.wasm', wasmURL);
}
const early = wasmURL.protocol === 'file:' ? undefined : fetch(wasmURL);
early?.catch(() => {}); // reported when start awaits it

// Node 20 has no global WebSocket (unless started with --experimental-websocket); the SDK then
// uses the ws package, a dependency of this package. Browsers, newer Node, Deno and Bun have
// their own. The specifier is a variable, and marked for webpack and Vite, so that no bundler
// pulls ws into a browser build.
if (typeof globalThis.WebSocket !== 'function' && globalThis.process?.versions?.node) {
  const wsModule = 'ws';
  try {
    const ws = await import(/* webpackIgnore: true */ /* @vite-ignore */ wsModule);
    globalThis.WebSocket = ws.WebSocket || ws.default;
  } catch {
    // Left missing: connecting then fails with an error that says so.
  }
}

// web/build.sh replaces the next line with wasm_exec.js (the Go release's glue that built
// convo.wasm; it defines globalThis.Go) and boot.js, so the package's entry point is one file.
// Loading them as modules of their own cost a round trip before the compiler could start
// reading the wasm, whose bytes wait in the fetch until then.
// @convo-build: wasm_exec.js boot.js

const api = await start(wasmURL, early);

function pick(name) {
  return api[name];
}

export const Client = pick('Client');
export const Conversation = pick('Conversation');
export const Message = pick('Message');
export const Participant = pick('Participant');
export const User = pick('User');
export const Media = pick('Media');
export const Paginator = pick('Paginator');
export const RestPaginator = pick('RestPaginator');
export const MessageBuilder = pick('MessageBuilder');
export const UnsentMessage = pick('UnsentMessage');
export const AggregatedDeliveryReceipt = pick('AggregatedDeliveryReceipt');
export const DetailedDeliveryReceipt = pick('DetailedDeliveryReceipt');
export const ContentTemplate = pick('ContentTemplate');
export const ContentTemplateVariable = pick('ContentTemplateVariable');
export const PushNotification = pick('PushNotification');
export const ChannelMetadata = pick('ChannelMetadata');
export const EmailRecipientDescriptor = pick('EmailRecipientDescriptor');
export const UnknownRecipientDescriptor = pick('UnknownRecipientDescriptor');
export const NotificationTypes = pick('NotificationTypes');
export const CancellablePromise = pick('CancellablePromise');
export const version = pick('version');

// The default export carries the same bindings, for `import convo from ...` style code.
const all = {};
for (const name of EXPORT_NAMES) all[name] = pick(name);
export default Object.freeze(all);
