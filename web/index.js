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
const wasmURL = new URL('./convo.wasm', import.meta.url);
const early = wasmURL.protocol === 'file:' ? undefined : fetch(wasmURL);
early?.catch(() => {}); // reported when start awaits it

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
