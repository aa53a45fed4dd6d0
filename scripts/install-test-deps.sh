#!/usr/bin/env bash
# Installs what the tests need on a Debian machine, only when it is missing: Chromium for the
# browser tests, brotli for size figures, PostgreSQL's server binaries for the scale-out tests
# (they start a throwaway cluster of their own; the package's default cluster is not used),
# HAProxy for the load-balanced cluster test (it runs docs/haproxy.cfg in the foreground),
# wasmbrowsertest and staticcheck from the Go module
# proxy, and SeaweedFS's weed (an S3-compatible object store the media tests start on
# 127.0.0.1) built from its module on the proxy. Needs root (or sudo) for apt-get.
set -euo pipefail

apt_install=()
command -v chromium >/dev/null 2>&1 || apt_install+=(chromium)
command -v brotli >/dev/null 2>&1 || apt_install+=(brotli)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || apt_install+=(postgresql)
command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || apt_install+=(haproxy)
if ((${#apt_install[@]})); then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; fi
  echo "installing ${apt_install[*]} with apt-get"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${apt_install[@]}" >/dev/null
fi

gobin=$(go env GOPATH)/bin
# wasmbrowsertest is pinned: later versions do not build against current chromedp, and it must
# be installed with its own go.mod, not ours.
[ -x "$gobin/wasmbrowsertest" ] || go install github.com/agnivade/wasmbrowsertest@v0.11.0
[ -x "$gobin/staticcheck" ] || go install honnef.co/go/tools/cmd/staticcheck@v0.8.2
# SeaweedFS (Apache-2.0) is pinned. Its go.mod has replace directives, which `go install
# module@version` refuses, so it is built inside its downloaded module instead; that takes
# about 5 minutes on 2 cores the first time.
weed_module=github.com/seaweedfs/seaweedfs@v0.0.0-20261109003541-7506e5f91cd6
if [ ! -x "$gobin/weed" ]; then
  echo "building SeaweedFS's weed ($weed_module)"
  weed_dir=$(go mod download -json "$weed_module" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -n "$weed_dir" ] || { echo "could not download $weed_module" >&2; exit 1; }
  (cd "$weed_dir" && GOFLAGS=-mod=mod go build -trimpath -ldflags='-s -w' -o "$gobin/weed" ./weed)
fi
