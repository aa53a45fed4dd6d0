#!/usr/bin/env bash
# Runs staticcheck with the given arguments. nhooyr.io/websocket v1.8.x marks its whole API
# deprecated in favour of its new module path; the product's design names this module, so
# those notices (and only those) are dropped. Every other finding fails the run.
set -uo pipefail
out=$(staticcheck "$@" 2>&1)
status=$?
kept=$(printf '%s\n' "$out" | grep -v -E 'nhooyr\.io/websocket[^ ]* (is )?deprecated|^$' || true)
if [ -n "$kept" ]; then
  printf '%s\n' "$kept"
  exit 1
fi
# A failure with no finding left (a crash, a load error) must not pass silently.
if [ $status -ne 0 ] && [ -z "$(printf '%s\n' "$out" | grep -E 'deprecated' || true)" ]; then
  printf '%s\n' "$out"
  exit $status
fi
exit 0
