#!/usr/bin/env bash
# History queries: fills a store with ROWS builds (default 1,000,000), starts
# slipwayd on it and times GET /api/builds with each filter. Writes
# bench/results/history.md. Target (history issue): p99 under 5 ms per 50-row page.
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-1000000}
requests=${2:-2000}
source bench/common.sh
scripts/build.sh >/dev/null
out=bench/results/history.md
mkdir -p bench/results
table=$(mktemp)
trap 'rm -f "$table"' EXIT
# It exits 1 when a query misses the target; the table is written all the same.
status=0
build/bench/slipway_history_bench build/daemon/slipwayd "$rows" "$requests" >"$table" || status=$?
{
  echo "# History queries"
  echo
  echo "Run by \`bench/history.sh $rows $requests\` on $(date -u +%Y-%m-%d): $(bench_machine)."
  echo
  cat "$table"
} | tee "$out"
exit $status
