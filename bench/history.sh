#!/usr/bin/env bash
# History queries: fills a store with ROWS builds (default 1,000,000), starts
# slipwayd on it and times GET /api/builds with each filter. Writes
# bench/results/history.md. Target (history issue): p99 under 5 ms per 50-row page.
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-1000000}
requests=${2:-2000}
scripts/build.sh >/dev/null
out=bench/results/history.md
{
  echo "# History queries"
  echo
  echo "Run by \`bench/history.sh $rows $requests\` on $(date -u +%Y-%m-%d): $(nproc) cores," \
       "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/ {print $2}') GiB."
  echo
  build/bench/slipway_history_bench build/daemon/slipwayd "$rows" "$requests"
} | tee "$out"
