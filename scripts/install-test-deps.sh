#!/usr/bin/env bash
# Installs what the tests need on a Debian machine, only when it is missing: Chromium for the
# browser tests, brotli for size figures, PostgreSQL's server binaries for the scale-out tests
# (they start a throwaway cluster of their own; the package's default cluster is not used),
# wasmbrowsertest and staticcheck from the Go module
# proxy. Needs root (or sudo) for apt-get.
set -euo pipefail

apt_install=()
command -v chromium >/dev/null 2>&1 || apt_install+=(chromium)
command -v brotli >/dev/null 2>&1 || apt_install+=(brotli)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || apt_install+=(postgresql)
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
