#!/usr/bin/env bash
# Runs each fuzz target for SECONDS (default 600) and prints how many inputs it
# tried and whether it crashed. The corpus grows in build-sanitize/fuzz/corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
scripts/build.sh --sanitize >/dev/null
status=0
for target in webhook_event webhook_verifier manifest; do
  log=$(mktemp)
  if build-sanitize/fuzz/${target}_fuzzer -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
       -print_final_stats=1 "build-sanitize/fuzz/corpus/$target" "fuzz/corpus/$target" >"$log" 2>&1; then
    result="crashes: 0"
  else
    result="CRASHED (see $log)"; status=1
  fi
  runs=$(grep -m1 '^stat::number_of_executed_units' "$log" | awk '{print $2}')
  echo "$target: ${runs:-?} executions in ${seconds} s, $result"
  [ $status -eq 0 ] && rm -f "$log"
done
exit $status
