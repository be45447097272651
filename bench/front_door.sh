#!/usr/bin/env bash
# The front door under attack: slipwayd with its default limits, 5,000
# connections trickling a header line every 2 s and 1,000 that send half a
# webhook's body, while a signed merged pull request arrives every 100 ms.
# Writes bench/results/front-door.md. Targets (front door issue): every
# delivery 202 within 100 ms, /healthz answering, VmRSS under 64 MB, every
# hostile connection closed after the deadlines.
#
# Usage: bench/front_door.sh [RUNS (3)] [SECONDS (12)]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
seconds=${2:-12}
source bench/common.sh
scripts/build.sh >/dev/null
out=bench/results/front-door.md
mkdir -p bench/results
table=$(mktemp)
trap 'rm -f "$table"' EXIT
status=0
build/bench/slipway_front_door_bench build/daemon/slipwayd "$runs" "$seconds" >"$table" || status=$?
{
  echo "# The front door under attack"
  echo
  echo "Run by \`bench/front_door.sh $runs $seconds\` on $(date -u +%Y-%m-%d): $(bench_machine)."
  echo "slipwayd with its default server settings (header_timeout and request_timeout 10 s); from one"
  echo "address, 5,000 connections send a request line, then a header line every 2 s, and 1,000 send a"
  echo "webhook's header and 10,000 of its 20,000 bytes; meanwhile a signed merged pull request every"
  echo "100 ms and a GET /healthz, each on a connection of its own, for $seconds s. Latency is the"
  echo "delivery's, connect to answer; memory the largest of samples taken after each delivery."
  echo
  cat "$table"
} | tee "$out"
exit $status
