#!/usr/bin/env bash
# Runs every benchmark (each writes bench/results/<name>.md), then copies the
# results into bench/README.md between its "results" markers. Needs root
# (packages, dockerd, /etc/docker/certs.d) and about half an hour.
# Usage: bench/run-all.sh [--readme-only]
set -euo pipefail
cd "$(dirname "$0")/.."
failed=()
if [ "${1:-}" != "--readme-only" ]; then
  # One that fails (history.sh does when a query misses its target) does not stop the others.
  for script in history webhook_ingest cluster_ingest front_door pipeline incremental multi_platform checkout; do
    bench/$script.sh || failed+=("$script")
  done
fi

readme=bench/README.md
begin='<!-- results: written by bench/run-all.sh from bench/results/*.md; do not edit by hand -->'
end='<!-- end of results -->'
grep -qxF "$begin" "$readme" && grep -qxF "$end" "$readme" || { echo "run-all: $readme lacks the results markers" >&2; exit 1; }
results=$(mktemp)
trap 'rm -f "$results"' EXIT
for name in webhook-ingest cluster-ingest front-door pipeline incremental multi-platform checkout history; do
  [ -s "bench/results/$name.md" ] || continue
  # One level down: each file's title becomes a section of the README.
  sed 's/^#/##/' "bench/results/$name.md" >>"$results"
  echo >>"$results"
done
awk -v begin="$begin" -v end="$end" -v file="$results" '
  $0 == begin {print; while ((getline line < file) > 0) print line; skip = 1; next}
  $0 == end {skip = 0}
  !skip {print}' "$readme" >"$readme.new"
mv "$readme.new" "$readme"
if [ ${#failed[@]} -gt 0 ]; then
  echo "run-all: failed: ${failed[*]}" >&2
  exit 1
fi
