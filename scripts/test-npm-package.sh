#!/usr/bin/env bash
# Tests the npm package as a user gets it: `npm pack` of web/dist/sdk, installed into a scratch
# project, where a vendor-style TypeScript app must type-check against it (as an ES module and
# through require) and plain Node 20 (no flags) must import and require it, boot the wasm and
# chat with a real server. Run `make web` first (make test-web does). The browser builds
# (Vite, webpack 5, script tag) are tested in web/e2e (TestReactApp*, TestClassicScript*).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
sdk=$root/web/dist/sdk
[ -f "$sdk/convo.wasm" ] || { echo "no $sdk/convo.wasm: run make web" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tarball=$(cd "$sdk" && npm pack --silent --pack-destination "$tmp")
cd "$tmp"
npm init -y >/dev/null
npm install --silent --no-audit --no-fund "./$tarball" typescript@5 >/dev/null

passed=0
failed=0
check() {
  local name=$1; shift
  if "$@"; then
    echo "ok   $name"; passed=$((passed + 1))
  else
    echo "FAIL $name"; failed=$((failed + 1))
  fi
}

# The tarball holds exactly the package files.
check "tarball contents" bash -c "tar -tzf '$tarball' | sed 's|^package/||' | sort | tr '\n' ' ' | grep -qx 'README.md convo.js convo.wasm convo.wasm.br convo.wasm.gz index.cjs index.d.cts index.d.ts index.js package.json '"

# A vendor-style app type-checks against the installed package's index.d.ts.
cp "$root/web/types-test/app.ts" .
cat > tsconfig.json <<'JSON'
{
  "compilerOptions": {
    "target": "ES2022", "module": "ESNext", "moduleResolution": "Bundler",
    "lib": ["ES2022", "DOM"], "strict": true, "noEmit": true, "types": []
  },
  "files": ["app.ts"]
}
JSON
check "types-test app type-checks against convo" npx tsc -p .

# A CommonJS TypeScript app resolves the package's require() declarations (index.d.cts).
mkdir cts-check
cat > cts-check/app.cts <<'TS'
import convo = require('@convo-sdk/conversations');
const { Client } = convo;
export async function connect(token: string): Promise<string> {
  const client: InstanceType<typeof Client> = await Client.create(token);
  const page = await (await client.getSubscribedConversations()).items[0]?.getMessages(10);
  return client.user.identity + (page ? page.items.length : 0) + convo.version;
}
TS
cat > cts-check/tsconfig.json <<'JSON'
{
  "compilerOptions": {
    "target": "ES2022", "module": "Node16", "moduleResolution": "Node16",
    "lib": ["ES2022", "DOM"], "strict": true, "noEmit": true, "types": []
  },
  "files": ["app.cts"]
}
JSON
check "a CommonJS TypeScript app type-checks against index.d.cts" npx tsc -p cts-check

# The same app, importing the vendor package instead, type-checks against the vendor's own
# types: it is a genuine vendor-SDK app, so the check above means a vendor app compiles on convo.
mkdir vendor-check
(
  cd vendor-check
  npm init -y >/dev/null
  npm install --silent --no-audit --no-fund @twilio/conversations@3.0.1 typescript@5 @types/node@20 >/dev/null
  sed 's#@convo-sdk/conversations#@twilio/conversations#g' "$root/web/types-test/app.ts" > app.ts
  cat > tsconfig.json <<'JSON'
{
  "compilerOptions": {
    "target": "ES2022", "module": "ESNext", "moduleResolution": "Bundler",
    "lib": ["ES2022", "DOM"], "strict": true, "noEmit": true, "skipLibCheck": true, "types": ["node"]
  },
  "files": ["app.ts"]
}
JSON
)
check "types-test app type-checks against @twilio/conversations 3.0.1" bash -c "cd vendor-check && npx tsc -p ."

# Node 20 imports the package (top-level await boots the wasm) and gets working classes.
cat > smoke.mjs <<'JS'
import { Client, version } from '@convo-sdk/conversations';
import convo from '@convo-sdk/conversations';
const fail = (m) => { console.error(m); process.exit(1); };
if (typeof Client !== 'function') fail('Client is not a function');
if (convo.Client !== Client) fail('default export differs from the named export');
if (version !== Client.version) fail(`version mismatch: ${version} vs ${Client.version}`);
try { new Client(42); fail('new Client(42) did not throw'); } catch (e) {
  if (!(e instanceof TypeError)) fail(`new Client(42) threw ${e}`);
}
const token = 'eyJhbGciOiJIUzI1NiJ9.' + Buffer.from('{"identity":"n","exp":9999999999}').toString('base64url') + '.c2ln';
const c = new Client(token);
if (!(c instanceof Client)) fail('instanceof Client is false');
const failed = new Promise((resolve) => c.onWithReplay('initFailed', resolve));
const ev = await failed;
if (ev.error.code !== 60003) fail(`initFailed code ${ev.error.code}`);
await c.shutdown();
console.log('node smoke ok', version);
JS
check "node 20 imports and boots the package" node smoke.mjs

# require() hands back ready classes synchronously, like the vendor's CommonJS build.
cat > smoke.cjs <<'JS'
const fail = (m) => { console.error(m); process.exit(1); };
const hadWebSocket = typeof globalThis.WebSocket === 'function'; // Node 20: false
const convo = require('@convo-sdk/conversations');
if (!hadWebSocket && globalThis.WebSocket !== require('ws')) fail('no global WebSocket, and the package did not fall back to ws');
const { Client, version } = convo;
if (typeof Client !== 'function') fail('require gave no Client');
if (convo.default.Client !== Client) fail('default differs from the named export');
if (version !== Client.version) fail(`version mismatch: ${version} vs ${Client.version}`);
if (require.resolve('@convo-sdk/conversations').split(/[\\/]/).pop() !== 'index.cjs') fail('require did not resolve index.cjs');
const token = 'eyJhbGciOiJIUzI1NiJ9.' + Buffer.from('{"identity":"n","exp":9999999999}').toString('base64url') + '.c2ln';
const c = new Client(token);
c.onWithReplay('initFailed', async (ev) => {
  if (ev.error.code !== 60003) fail(`initFailed code ${ev.error.code}`);
  await c.shutdown();
  console.log('node require smoke ok', version);
});
JS
check "node 20 requires the package and gets ready classes" timeout 30 node smoke.cjs

# Node 20 chats with a real server: convod in dev mode on a free loopback port.
(cd "$root" && go build -o "$tmp/convod" ./tools/convod)
port=$(node -e "const s = require('net').createServer().listen(0, '127.0.0.1', () => { console.log(s.address().port); s.close(); })")
"$tmp/convod" --dev --addr "127.0.0.1:$port" --data "$tmp/data" >"$tmp/convod.log" 2>&1 &
convod_pid=$!
trap 'kill $convod_pid 2>/dev/null; rm -rf "$tmp"' EXIT
cat > chat.mjs <<'JS'
import { Client } from '@convo-sdk/conversations';
const base = process.argv[2];
const fail = (m) => { console.error(m); process.exit(1); };
const timer = setTimeout(() => fail('timed out'), 20000);
for (let i = 0; ; i++) { // wait for the server to listen
  try { if ((await fetch(base + '/healthz')).ok) break; } catch {}
  if (i > 100) fail('the server did not start');
  await new Promise((r) => setTimeout(r, 100));
}
const res = await fetch(base + '/v1/dev/token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ identity: 'node-user' }) });
const { token } = await res.json();
const client = await Client.create(token);
const got = new Promise((resolve) => client.on('messageAdded', (m) => resolve(m)));
const c = await client.createConversation({ friendlyName: 'from node' });
await c.join();
const index = await c.sendMessage('hello from node');
const m = await got;
if (m.body !== 'hello from node' || m.index !== index || !(m.dateCreated instanceof Date)) fail(`unexpected message ${m.body} ${m.index}`);
await client.shutdown();
clearTimeout(timer);
console.log('node chat ok');
JS
# The script never calls process.exit: after shutdown() the process must end by itself.
# Plain node: on Node 20, which has no global WebSocket, the package's ws dependency is used.
check "node 20 chats with a real server, then exits by itself" timeout 30 node chat.mjs "http://127.0.0.1:$port"
check "node 20 with --experimental-websocket (its own WebSocket) chats too" timeout 30 node --experimental-websocket chat.mjs "http://127.0.0.1:$port"
# The same through require().
{
  echo "const { Client } = require('@convo-sdk/conversations');"
  echo "(async () => {"
  sed -e '1d' chat.mjs
  echo "})();"
} > chat.cjs
check "node 20 chats through require(), then exits by itself" timeout 30 node chat.cjs "http://127.0.0.1:$port"

echo "npm-package: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
