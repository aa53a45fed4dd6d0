#!/usr/bin/env bash
# Builds the example apps under web/apps/ against the npm package as a user gets it: copies
# each app into a scratch folder, installs its pinned dependencies there together with the
# `npm pack` tarball of the package, then builds it with Vite and with webpack 5.
#
# Usage: web/apps/build.sh SDK_DIR OUT_DIR
#   SDK_DIR  the package root (web/dist/sdk after `make web`)
#   OUT_DIR  receives react-chat/ (the installed app, ready for `npx vite` too) with its
#            builds in react-chat/dist-vite/ and react-chat/dist-webpack/
# No node_modules is ever written inside the repository.
set -euo pipefail
if [[ $# -ne 2 ]]; then
  echo "usage: $0 SDK_DIR OUT_DIR" >&2
  exit 2
fi
apps=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
sdk=$(cd "$1" && pwd)
mkdir -p "$2"
out=$(cd "$2" && pwd)
[[ -f $sdk/convo.wasm ]] || { echo "$0: no $sdk/convo.wasm: run make web" >&2; exit 1; }

tarball=$(cd "$sdk" && npm pack --silent --pack-destination "$out")
app=$out/react-chat
rm -rf "$app"
mkdir -p "$app"
cp -R "$apps/react-chat/." "$app/"
rm -rf "$app/node_modules" "$app/dist-vite" "$app/dist-webpack"
cd "$app"
npm install --no-audit --no-fund --no-package-lock --loglevel=error "$out/$tarball" >/dev/null
npx --no-install vite build --logLevel warn --outDir dist-vite
npx --no-install webpack --config webpack.config.js --no-stats
# Both builds must have picked up convo.wasm as an asset of their own (renamed with a hash),
# byte for byte: the package's precompressed copies then fit it (see web/README.md).
for d in dist-vite dist-webpack; do
  wasm=$(find "$d" -name '*.wasm')
  if [[ $(wc -l <<<"$wasm") != 1 || -z $wasm ]] || ! cmp -s "$wasm" node_modules/@convo-sdk/conversations/convo.wasm; then
    echo "$0: the $d build holds no copy of convo.wasm (found: ${wasm:-nothing})" >&2
    exit 1
  fi
done
echo "web/apps: react-chat built with Vite and webpack in $app"
