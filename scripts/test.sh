#!/usr/bin/env bash
# The whole suite: unit tests, integration tests against the real Docker
# engine, a TLS docker-registry and Git repositories on loopback, then the unit
# tests again under ASan and UBSan and a bounded run of each fuzz target.
# Installs and starts what it needs, and stops what it started, except the
# arm64 emulator registered in binfmt_misc, which stays as qemu-user-static's
# installation would leave it. Arguments go to ctest (e.g. -L unit).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
scripts/build.sh
scripts/build.sh --sanitize
scripts/fetch-promtool.sh build/tools
scripts/fetch-busybox-arm64.sh build/tools

pidfile=$(mktemp)
cleanup() {
  if [ -s "$pidfile" ]; then
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  fi
  rm -f "$pidfile"
}
trap cleanup EXIT
scripts/ensure-docker.sh "$pidfile"
scripts/ensure-emulation.sh

status=0
(cd build && ctest --output-on-failure --timeout 1800 "$@") || status=1
# detect_stack_use_after_return: threads hand each other pointers to objects on
# their stacks (CommitGroup's waiters).
(cd build-sanitize && ASAN_OPTIONS=detect_stack_use_after_return=1 ctest --output-on-failure --timeout 1800 "$@") || status=1
exit $status
