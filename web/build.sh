#!/usr/bin/env bash
# Assembles the browser-facing output in web/dist/ from an already-built convo.wasm:
#
#   web/dist/              the demo chat page (index.html, demo.js, demo.css)
#   web/dist/sdk/          the npm package root: index.js, index.d.ts, package.json, README.md,
#                          convo.wasm (+ .gz/.br precompressed copies) and wasm_exec.js
#
# Usage: web/build.sh path/to/convo.wasm
# CONVO_DIST, when set, names another output folder (tests build into a temporary one).
# The wasm_exec.js glue is taken from the Go toolchain (`$GO env GOROOT`, GO defaults to `go`);
# it must be the same Go that built the wasm.
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 path/to/convo.wasm" >&2
  exit 2
fi
wasm_in=$1
if [[ ! -f $wasm_in ]]; then
  echo "$0: no such file: $wasm_in" >&2
  exit 1
fi

web=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
dist=${CONVO_DIST:-$web/dist}
sdk=$dist/sdk

go_cmd=${GO:-go}
goroot=$("$go_cmd" env GOROOT)
wasm_exec=$goroot/lib/wasm/wasm_exec.js
if [[ ! -f $wasm_exec ]]; then
  # Go releases before 1.24 kept it under misc/.
  wasm_exec=$goroot/misc/wasm/wasm_exec.js
fi
if [[ ! -f $wasm_exec ]]; then
  echo "$0: wasm_exec.js not found under $goroot" >&2
  exit 1
fi

# The input may live inside dist/ (for example a previous output): take a copy before cleaning.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$wasm_in" "$tmp/convo.wasm"

rm -rf "$dist"
mkdir -p "$sdk"

# The npm package.
cp "$web/index.js" "$web/index.d.ts" "$web/package.json" "$web/README.md" "$sdk/"
cp "$wasm_exec" "$sdk/wasm_exec.js"
cp "$tmp/convo.wasm" "$sdk/convo.wasm"

# Precompressed copies, served instead of the raw file when the browser accepts the encoding.
gzip -9 -n -c "$sdk/convo.wasm" >"$sdk/convo.wasm.gz"
touch -r "$sdk/convo.wasm" "$sdk/convo.wasm.gz"
if command -v brotli >/dev/null 2>&1; then
  brotli -q 11 -f -o "$sdk/convo.wasm.br" "$sdk/convo.wasm"
  touch -r "$sdk/convo.wasm" "$sdk/convo.wasm.br"
else
  echo "$0: brotli not installed; skipping convo.wasm.br" >&2
fi

# The demo page at the site root; it imports /sdk/index.js.
cp "$web/demo/index.html" "$web/demo/demo.js" "$web/demo/demo.css" "$dist/"

echo "web/dist assembled:"
(cd "$dist" && find . -type f | sort | while read -r f; do
  printf '  %-24s %10s bytes\n' "${f#./}" "$(wc -c <"$f")"
done)
