// convo SDK: CommonJS entry point, for Node's require().
//
//     const { Client } = require('@convo-sdk/conversations');
//
// Node compiles convo.wasm synchronously here, and Go's runtime runs the program until it first
// blocks, by which time the program has handed over its API: require() returns ready classes,
// like the vendor's CommonJS build. Browsers and bundlers get the ES module (index.js) through
// the package's "import" condition instead.
'use strict';

// Node 20 has no global WebSocket (unless started with --experimental-websocket); the SDK then
// uses the ws package, a dependency of this package. Newer Node, Deno and Bun have their own.
if (typeof globalThis.WebSocket !== 'function') {
  try {
    globalThis.WebSocket = require('ws');
  } catch {
    // Left missing: connecting then fails with an error that says so.
  }
}

// web/build.sh replaces the next line with wasm_exec.js and boot.js, as in index.js.
// @convo-build: wasm_exec.js boot.js

const api = (function () {
  if (typeof process === 'undefined' || !process.versions || !process.versions.node) {
    throw new Error("convo: the CommonJS build runs in Node only; in a browser use `import { Client } from '@convo-sdk/conversations'`");
  }
  const { readFileSync } = require('node:fs');
  const { join } = require('node:path');
  return startSync(readFileSync(join(__dirname, 'convo.wasm')));
})();

const all = {};
for (const name of EXPORT_NAMES) all[name] = api[name];
Object.defineProperty(exports, '__esModule', { value: true });
for (const name of EXPORT_NAMES) exports[name] = all[name];
// The same object as the ES module's default export (`require(...).default`).
exports.default = Object.freeze(all);
