// The end of the classic-script build (convo.js): build.sh wraps wasm_exec.js, boot.js and
// this file in one function. A page that loads
//
//     <script src="/sdk/convo.js"></script>
//
// gets globalThis.Convo at once, with Convo.ready: a promise of Convo once the SDK has booted,
// when Convo.Client and the other classes are set. Pages written for the vendor's script build
// find the same classes under Twilio.Conversations. A "convo:ready" event fires on window too.
const script = typeof document !== 'undefined' ? document.currentScript : null;
const wasmURL = new URL('convo.wasm', script && script.src ? script.src : globalThis.location.href);
const Convo = (globalThis.Convo = globalThis.Convo || {});
Convo.ready = start(wasmURL).then((api) => {
  for (const name of EXPORT_NAMES) Convo[name] = api[name];
  globalThis.Twilio = globalThis.Twilio || {};
  if (!globalThis.Twilio.Conversations) globalThis.Twilio.Conversations = Convo;
  if (typeof globalThis.dispatchEvent === 'function') globalThis.dispatchEvent(new Event('convo:ready'));
  return Convo;
});
