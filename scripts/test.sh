#!/usr/bin/env bash
# The whole suite: unit tests, integration tests against the real Docker
# engine, a TLS docker-registry and Git repositories on loopback, the
# integration tests again with every slipwayd storing in PostgreSQL, then the
# unit tests again under ASan and UBSan and a bounded run of each fuzz target.
# The store's tests run on SQLite and on a PostgreSQL this script starts.
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
postgres_dir=$(mktemp -u -d /tmp/slipway-test-postgres.XXXXXX)
cleanup() {
  scripts/start-postgres.sh --stop "$postgres_dir"
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
# One server for every test process (each test makes a database of its own);
# a test that must stop PostgreSQL starts one of its own.
SLIPWAY_TEST_POSTGRES=$(scripts/start-postgres.sh "$postgres_dir")
export SLIPWAY_TEST_POSTGRES

status=0
(cd build && ctest --output-on-failure --timeout 1800 "$@") || status=1
# The whole integration suite once more, every slipwayd on PostgreSQL (a
# selection given as arguments runs once: SLIPWAY_TEST_STORAGE=postgres picks it).
if [ $# -eq 0 ]; then
  (cd build && SLIPWAY_TEST_STORAGE=postgres ctest --output-on-failure --timeout 1800 -L integration) || status=1
fi
# detect_stack_use_after_return: threads hand each other pointers to objects on
# their stacks (CommitGroup's waiters).
(cd build-sanitize && ASAN_OPTIONS=detect_stack_use_after_return=1 ctest --output-on-failure --timeout 1800 "$@") || status=1
exit $status
